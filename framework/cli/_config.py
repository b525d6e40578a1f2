"""``tradewire.toml``: defaults for every command, overridden by command-line flags.

One table per command, keyed like its long options (``skip-bad-rows`` or ``skip_bad_rows``;
positionals by name, e.g. ``strategy``); top-level keys apply to every command that has such
an option::

    data = ["data/AAPL.csv"]          # every command with --data

    [backtest]
    strategy = "sma_cross"
    cash = 50_000
    params = { fast = 10, slow = 30 } # --param fast=10 --param slow=30

    [sweep]
    strategy = "sma_cross"
    grid = { fast = "5:50:5", slow = [20, 30, 50] }
    workers = 4

Values become the parser's defaults (``parser.set_defaults``), so a flag on the command line
wins. Repeatable ``NAME=VALUE`` options (``--param``, ``--grid``) merge, the command line
winning per name; other repeatable options (``--data``) are replaced by the command line. Path
options (metavar ``PATH``, ``OUT``, ``RESULT``) are relative to the file's folder. An unknown
table or key, or a value of the wrong type, is a :class:`~framework.ConfigError` naming the key
and the file. New subcommands get their table for free: whatever their parser accepts.
"""

from __future__ import annotations

import argparse
import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._errors import ConfigError

#: Read from the working directory when ``--config`` is not given.
DEFAULT_CONFIG = "tradewire.toml"
#: Friendlier keys for options whose flag is singular.
ALIASES = {"params": "param", "grids": "grid"}
#: Options holding paths, by metavar: resolved against the config file's folder.
PATH_METAVARS = frozenset({"PATH", "OUT", "RESULT"})


class Config:
    """A parsed ``tradewire.toml``; :meth:`apply` sets parser defaults, :meth:`finish` fixes up
    repeatable options after parsing."""

    def __init__(self, path: Path, data: Mapping[str, Any]) -> None:
        self.path = path
        self.shared = {k: v for k, v in data.items() if not isinstance(v, dict)}
        self.sections = {k: v for k, v in data.items() if isinstance(v, dict)}
        # (command, dest) → the list the config put before any command-line values
        self._lists: dict[tuple[str, str], tuple[list[str], bool]] = {}

    @classmethod
    def load(cls, path: str | Path) -> Config:
        file = Path(path)
        try:
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"config file not found: {file}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read config file {file}: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{file}: not valid TOML: {exc}") from None
        return cls(file, data)

    def apply(self, commands: Mapping[str, argparse.ArgumentParser]) -> None:
        """Set each command's defaults from its table and the shared keys."""
        for section in self.sections:
            if section not in commands:
                raise ConfigError(
                    f"{self.path}: unknown table [{section}] "
                    f"(commands: {', '.join(sorted(commands))})"
                )
        for key in self.shared:
            if not any(_action(parser, key) for parser in commands.values()):
                raise ConfigError(f"{self.path}: unknown key {key!r} (no command has --{key})")
        for name, parser in commands.items():
            values = {k: v for k, v in self.shared.items() if _action(parser, k)}
            values.update(self.sections.get(name, {}))
            defaults: dict[str, Any] = {}
            for key, value in values.items():
                action = _action(parser, key)
                if action is None:
                    known = ", ".join(sorted(_keys(parser)))
                    raise ConfigError(
                        f"{self.path}: unknown key {key!r} in [{name}] (known: {known})"
                    )
                where = f"{self.path}: [{name}] {key}"
                defaults[action.dest] = self._convert(action, value, where)
                if isinstance(defaults[action.dest], list):
                    merge = "=" in str(action.metavar or "")
                    self._lists[(name, action.dest)] = (list(defaults[action.dest]), merge)
                # A value from the file satisfies a required option or positional.
                action.required = False
                if not action.option_strings:
                    action.nargs = "?"
            parser.set_defaults(**defaults)

    def finish(self, command: str, args: argparse.Namespace) -> None:
        """After parsing: a repeatable option given on the command line replaces the file's
        list, except ``NAME=VALUE`` options, which keep both (later entries win per name)."""
        for (name, dest), (configured, merge) in self._lists.items():
            if name != command or merge:
                continue
            value = getattr(args, dest, None)
            if isinstance(value, list) and len(value) > len(configured):
                setattr(args, dest, value[len(configured) :])

    def _convert(self, action: argparse.Action, value: Any, where: str) -> Any:
        if isinstance(action, argparse._StoreTrueAction | argparse._StoreFalseAction):
            if not isinstance(value, bool):
                raise ConfigError(f"{where}: expected true or false, got {value!r}")
            return value
        if isinstance(action, argparse._AppendAction):
            items = _list_items(value, where)
            return [self._convert_one(action, item, where) for item in items]
        if isinstance(value, dict | list):
            raise ConfigError(f"{where}: expected a single value, got {value!r}")
        return self._convert_one(action, value, where)

    def _convert_one(self, action: argparse.Action, value: Any, where: str) -> Any:
        text = _text(value)
        if action.metavar in PATH_METAVARS:
            text = str(self.path.parent / text)
        if action.choices is not None and text not in action.choices:
            choices = ", ".join(map(str, action.choices))
            raise ConfigError(f"{where}: {value!r} is not one of {choices}")
        if action.type is None:
            return text
        convert: Any = action.type
        try:
            return convert(text)
        except (ValueError, TypeError, argparse.ArgumentTypeError) as exc:
            raise ConfigError(f"{where}: {exc}") from None


def find_config(argv: Sequence[str]) -> Config | None:
    """The config named by ``--config PATH`` in ``argv``, else ``./tradewire.toml`` if it
    exists, else None."""
    pre = argparse.ArgumentParser(add_help=False)
    pre.add_argument("--config")
    known, _ = pre.parse_known_args(list(argv))
    if known.config:
        return Config.load(known.config)
    default = Path(DEFAULT_CONFIG)
    return Config.load(default) if default.is_file() else None


def _action(parser: argparse.ArgumentParser, key: str) -> argparse.Action | None:
    key = ALIASES.get(key, key)
    wanted = {f"--{key}", f"--{key.replace('_', '-')}"}
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if wanted.intersection(action.option_strings):
            return action
        if not action.option_strings and action.dest in (key, key.replace("-", "_")):
            return action
    return None


def _keys(parser: argparse.ArgumentParser) -> list[str]:
    keys = []
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        longs = [o for o in action.option_strings if o.startswith("--")]
        if longs:
            keys.append(longs[0][2:])
        elif not action.option_strings:
            keys.append(action.dest)
    return keys + [alias for alias, key in ALIASES.items() if _action(parser, key)]


def _list_items(value: Any, where: str) -> list[Any]:
    if isinstance(value, dict):
        return [f"{k}={_joined(v, where)}" for k, v in value.items()]
    if isinstance(value, list):
        return list(value)
    return [value]


def _joined(value: Any, where: str) -> str:
    if isinstance(value, list):
        return ",".join(_text(v) for v in value)
    if isinstance(value, dict):
        raise ConfigError(f"{where}: nested table {value!r} is not a value")
    return _text(value)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
