"""Two griffe extensions for the API reference, loaded by mkdocs.yml; not part of the package.

``RestMarkup`` turns the reST markup of tradewire's docstrings into Markdown. The docstrings
are written for ``help()`` in Sphinx's habits: ``:class:`~framework.Bar``` roles and ``::``
literal blocks. mkdocstrings renders Markdown, where a role would show as raw text, so each
docstring is rewritten once, when griffe has loaded the package:

- A role whose target griffe finds in ``framework`` becomes a cross-reference to the target's
  public name (``framework.indicators.VWAP.count``, not the private module it is defined in):
  a link where the site documents it, plain code where it is private.
- A role whose target is outside ``framework`` (``trio``, ``pyarrow``, a built-in) becomes
  code: the site loads no other project's inventory, so the build never needs the network.
- A role whose target cannot be found at all (a typo, a renamed or removed name) becomes a
  required cross-reference, which mkdocs-autorefs reports; ``mkdocs build --strict`` then
  fails with a warning that names the identifier and the docstring.
- ``~`` keeps the last component of the target, as in Sphinx; ``title <target>`` the title.
- ``text::`` followed by an indented block becomes ``text:`` and a fenced code block.
- A guide named by its path, ``docs/execution.md``, becomes a link to that page (the API
  pages are in docs/api/), so a docstring naming a guide that does not exist fails the
  strict build too.

``AttrsSignatures`` gives attrs classes their signature. griffe reads source, and an attrs
class has no ``__init__`` in its source, so its entry would show no parameters; this imports
the class and writes the ``__init__`` attrs generated into griffe's tree, with the annotations
from the source (so they cross-reference) and the defaults attrs uses.
"""

from __future__ import annotations

import builtins
import functools
import inspect
import re
import textwrap
from collections.abc import Iterator
from typing import Any

import attrs
import griffe

ROOT = "framework"
ROLE = re.compile(
    r":(?:py:)?(?P<role>class|func|meth|attr|data|exc|mod|obj|const):`(?P<body>[^`]+)`"
)
EXPLICIT_TITLE = re.compile(r"^(?P<title>.+?)\s*<(?P<target>[^<>]+)>$")
GUIDE = re.compile(r"(?P<tick>``)?\bdocs/(?P<page>[A-Za-z0-9_-]+\.md)(?P=tick)?")
LITERAL_INTRO = re.compile(r"^(?P<indent>[ \t]*)(?P<text>.*?)(?P<marker>\s?::)[ \t]*$")
#: Packages whose names the reference does not render: a vendor's adapter has its own API.
UNRENDERED = ("framework.adapters",)


def _objects(obj: griffe.Object) -> Iterator[griffe.Object]:
    """``obj`` and everything defined in it (not what it imports)."""
    yield obj
    for member in obj.members.values():
        if not member.is_alias:
            yield from _objects(member)  # type: ignore[arg-type]


# -- reST to Markdown ---------------------------------------------------------------------------


class RestMarkup(griffe.Extension):
    """Rewrite every docstring of the loaded ``framework`` package from reST to Markdown."""

    def on_package(self, *, pkg: griffe.Module, loader: griffe.GriffeLoader, **kwargs: Any) -> None:
        if pkg.name != ROOT:
            return
        names = _Names(pkg, loader.modules_collection)
        for obj in _objects(pkg):
            if obj.docstring is not None:
                text = _fence_literal_blocks(obj.docstring.value)
                text = ROLE.sub(functools.partial(names.role, owner=obj), text)
                obj.docstring.value = _link_guides(text)


class _Names:
    """Finds what a role names, and the public name the site documents it under."""

    def __init__(self, pkg: griffe.Module, collection: griffe.ModulesCollection) -> None:
        self.collection = collection
        self.public = self._public_names(pkg)

    def _public_names(self, pkg: griffe.Module) -> dict[str, str]:
        """Canonical path -> the public path it is exported under (the longest, if several:
        ``framework.results.RunResult`` is the full entry, ``framework.RunResult`` a pointer)."""
        public: dict[str, str] = {}
        for module in _objects(pkg):
            if not module.is_module or module.path.startswith(UNRENDERED):
                continue
            if any(part.startswith("_") for part in module.path.split(".")):
                continue
            for name in module.exports or ():
                if not isinstance(name, str) or name not in module.members:
                    continue
                try:
                    member = module.members[name]
                    canonical = (
                        member.final_target.path
                        if isinstance(member, griffe.Alias)
                        else member.path
                    )
                except (griffe.AliasResolutionError, griffe.CyclicAliasError):
                    continue
                path = f"{module.path}.{name}"
                if len(path) > len(public.get(canonical, "")):
                    public[canonical] = path
        return public

    def public_path(self, path: str) -> str:
        """The name the site documents ``path`` under: its own, or its class's public name
        and its own; ``path`` itself where nothing public holds it."""
        if path in self.public:
            return self.public[path]
        parent, _, name = path.rpartition(".")
        if parent and parent != ROOT:
            public_parent = self.public_path(parent)
            if public_parent != parent:
                return f"{public_parent}.{name}"
        return path

    def role(self, match: re.Match[str], owner: griffe.Object) -> str:
        body = match["body"].strip()
        explicit = EXPLICIT_TITLE.match(body)
        if explicit:
            title, target = explicit["title"], explicit["target"].strip()
        else:
            target = body.lstrip("~")
            title = target.rsplit(".", 1)[-1] if body.startswith("~") else target.lstrip(".")
        if match["role"] in {"func", "meth"} and not title.endswith(")"):
            title += "()"
        code = f"<code>{_escape(title)}</code>"
        path = self.resolve(target.removesuffix("()"), owner)
        if path is None:
            # Nothing by that name: a broken reference. autorefs reports it (strict: fails).
            return f"[{code}][{target}]"
        if path.split(".", 1)[0] != ROOT:
            return code
        # A link where the target is on the site, code where it is private.
        return f'<autoref identifier="{self.public_path(path)}" optional>{code}</autoref>'

    def resolve(self, target: str, owner: griffe.Object) -> str | None:
        """The path ``target`` names, seen from ``owner``'s docstring; None if nothing."""
        module = owner if owner.is_module else owner.module
        head, _, rest = target.partition(".")
        candidates: list[str] = []
        if target.startswith("."):
            # Sphinx's ".name": relative to the module, or to its package.
            candidates += [module.path + target, module.path.rpartition(".")[0] + target]
        else:
            try:
                resolved: str | None = owner.resolve(head)  # members, enclosing scopes, imports
            except (griffe.NameResolutionError, griffe.AliasResolutionError):
                resolved = None
            if resolved is not None:
                candidates.append(f"{resolved}.{rest}" if rest else resolved)
            elif rest or hasattr(builtins, head):
                candidates.append(target)  # an absolute path, or a built-in
            for scope in (owner, owner.parent):
                if scope is not None and scope.is_class:
                    candidates.append(f"{scope.path}.{target}")  # a member, inherited too
        for candidate in candidates:
            if candidate.split(".", 1)[0] != ROOT:
                return candidate
            try:
                found = self.collection[candidate]
                if found.is_alias and found.parent is not None and found.parent.is_class:
                    # An inherited member: its path under this class (every subclass shares
                    # the canonical path of the base's member).
                    return found.path  # type: ignore[no-any-return]
                return found.final_target.path if found.is_alias else found.path  # type: ignore[no-any-return]
            except (KeyError, ValueError, griffe.AliasResolutionError, griffe.CyclicAliasError):
                continue
        return None


def _link_guides(text: str) -> str:
    """``docs/x.md`` as a link to the guide, outside fenced code blocks."""
    lines, fenced = text.splitlines(), False
    for i, line in enumerate(lines):
        if line.lstrip().startswith("```"):
            fenced = not fenced
        elif not fenced:
            lines[i] = GUIDE.sub(_guide_link, line)
    return "\n".join(lines)


def _guide_link(match: re.Match[str]) -> str:
    label = f"docs/{match['page']}"
    return f"[{'`' + label + '`' if match['tick'] else label}](../{match['page']})"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _fence_literal_blocks(text: str) -> str:
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        match = LITERAL_INTRO.match(lines[i])
        if match is None or not _starts_block(lines, i):
            out.append(lines[i])
            i += 1
            continue
        indent = match["indent"]
        if match["text"]:
            # "text::" reads "text:"; "text ::" and a lone "::" leave no colon.
            colon = "" if match["marker"].startswith((" ", "\t")) else ":"
            out.append(f"{indent}{match['text']}{colon}")
        block: list[str] = []
        i += 1
        while i < len(lines) and (not lines[i].strip() or _indent(lines[i]) > len(indent)):
            block.append(lines[i])
            i += 1
        code = textwrap.dedent("\n".join(block)).strip("\n")
        out += ["", f"{indent}```text", *(f"{indent}{row}" for row in code.splitlines())]
        out += [f"{indent}```", ""]
    return "\n".join(out)


def _starts_block(lines: list[str], i: int) -> bool:
    """Whether line ``i`` (ending in ``::``) is followed by a blank line, then a more indented
    one: a reST literal block."""
    j = i + 1
    if j >= len(lines) or lines[j].strip():
        return False
    while j < len(lines) and not lines[j].strip():
        j += 1
    return j < len(lines) and _indent(lines[j]) > _indent(lines[i])


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


# -- attrs signatures ---------------------------------------------------------------------------


class AttrsSignatures(griffe.Extension):
    """Give every attrs class of the loaded ``framework`` package its generated ``__init__``."""

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        if pkg.name != ROOT:
            return
        for obj in _objects(pkg):
            if obj.is_class and "__init__" not in obj.members and _is_attrs(obj):
                _add_init(obj)  # type: ignore[arg-type]


def _is_attrs(cls: griffe.Object) -> bool:
    decorators = getattr(cls, "decorators", ())
    return any(d.callable_path.split(".", 1)[0] in {"attrs", "attr"} for d in decorators)


def _add_init(cls: griffe.Class) -> None:
    runtime = griffe.dynamic_import(cls.path)
    if not attrs.has(runtime):
        return
    fields = {field.alias: field for field in attrs.fields(runtime)}
    parameters = [griffe.Parameter("self", kind=griffe.ParameterKind.positional_or_keyword)]
    for parameter in inspect.signature(runtime).parameters.values():
        field = fields.get(parameter.name)
        source = cls.all_members.get(field.name if field else parameter.name)
        annotation = getattr(source, "annotation", None) or _annotation(parameter.annotation)
        default = None
        if parameter.default is not inspect.Parameter.empty:
            default = _default(parameter.default, field)
        parameters.append(
            griffe.Parameter(
                parameter.name,
                annotation=annotation,
                kind=griffe.ParameterKind(parameter.kind.description),
                default=default,
            )
        )
    init = griffe.Function(
        "__init__",
        lineno=0,
        endlineno=0,
        parent=cls,
        parameters=griffe.Parameters(*parameters),
        returns="None",
    )
    cls.set_member("__init__", init)


def _default(value: Any, field: Any) -> str:
    if value is attrs.NOTHING and field is not None and isinstance(field.default, attrs.Factory):  # type: ignore[arg-type]
        factory = field.default.factory
        return f"{getattr(factory, '__qualname__', 'factory')}()"
    return repr(value)


def _annotation(annotation: Any) -> str | None:
    if annotation is inspect.Parameter.empty:
        return None
    return annotation if isinstance(annotation, str) else inspect.formatannotation(annotation)
