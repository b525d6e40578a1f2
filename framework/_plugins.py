"""Finding strategies and feeds: ``module:Class``, ``path/to/file.py:Class``, or an installed
plugin's name from the ``tradewire.strategies`` / ``tradewire.feeds`` entry-point groups."""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
from pathlib import Path
from typing import Any

from ._errors import ConfigError, StrategyLoadError
from ._strategy import Strategy

STRATEGY_GROUP = "tradewire.strategies"
FEED_GROUP = "tradewire.feeds"
#: The feed plugin that replays ``.twrec`` recordings.
RECORDING_FEED = "recording"


def _entry_points(*, group: str) -> Any:
    # importlib.metadata costs ~10 ms to import; only plugin lookups need it.
    from importlib.metadata import entry_points

    return entry_points(group=group)


def available(group: str) -> dict[str, str]:
    """Installed plugins of ``group``: name → ``module:attr``."""
    return {ep.name: ep.value for ep in _entry_points(group=group)}


def load_feed_class(name: str) -> Any:
    """The feed class the ``tradewire.feeds`` plugin ``name`` names, or ConfigError."""
    plugins = {ep.name: ep for ep in _entry_points(group=FEED_GROUP)}
    if name not in plugins:
        names = ", ".join(sorted(plugins)) or "none"
        raise ConfigError(
            f"no feed plugin named {name!r} is installed (installed: {names}); "
            "install tradewire with pip to register its feeds"
        )
    return plugins[name].load()


def load_strategy_class(spec: str) -> type[Strategy]:
    """Resolve a STRATEGY argument to a Strategy subclass, or raise StrategyLoadError."""
    if ":" not in spec:
        plugins = {ep.name: ep for ep in _entry_points(group=STRATEGY_GROUP)}
        if spec not in plugins:
            names = ", ".join(sorted(plugins)) or "none installed"
            raise StrategyLoadError(
                f"no strategy plugin named {spec!r} (installed: {names}); "
                "or give module:Class or path/to/file.py:Class"
            )
        obj = plugins[spec].load()
    else:
        where, _, attr = spec.rpartition(":")
        module = _import_file(where) if where.endswith(".py") else _import_module(where)
        try:
            obj = getattr(module, attr)
        except AttributeError:
            raise StrategyLoadError(f"{where} has no attribute {attr!r}") from None
    if not (isinstance(obj, type) and issubclass(obj, Strategy)):
        raise StrategyLoadError(f"{spec} is not a Strategy subclass")
    return obj


def _import_module(name: str) -> object:
    # As `python -m` does: a module spec names the user's own code, found from where they run.
    if os.getcwd() not in sys.path and "" not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name and (name == exc.name or name.startswith(exc.name + ".")):
            raise StrategyLoadError(
                f"cannot import module {name!r}: {exc.msg} "
                "(searched the current directory and installed packages)"
            ) from exc
        raise  # the module itself imports something missing: the user's own error


def _import_file(path: str) -> object:
    file = Path(path)
    if not file.is_file():
        raise StrategyLoadError(f"no such file: {path}")
    module_name = f"tradewire_user_{file.stem}"
    spec = importlib.util.spec_from_file_location(module_name, file)
    if spec is None or spec.loader is None:
        raise StrategyLoadError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    spec.loader.exec_module(module)
    return module
