"""How a failure reaches the user: their own exception, with a note saying where it happened.

A strategy hook that raises stops the run. The engine adds one note to that exception (PEP 678)
naming the strategy, the hook and the event being delivered, and lets it propagate unchanged:
inside a Trio program as a leaf of the nursery's ``ExceptionGroup`` (Trio's rule), and from
the synchronous helpers (:func:`framework.backtest`, :func:`framework.run`, the test kit) as
the exception itself, because a script or a notebook has no nursery to speak of.
"""

from __future__ import annotations

import functools
import sysconfig
import traceback
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from types import TracebackType
from typing import TypeVar

import trio

from ._events import Event
from ._strategy import Strategy
from ._time import iso_from_nanos

T = TypeVar("T")


def note_hook_failure(
    exc: BaseException, strategies: Iterable[Strategy], event: Event | None, now: int | None
) -> None:
    """Add a note to ``exc`` naming the innermost strategy hook in its traceback.

    ``event`` is the event being delivered when it was raised; ``now`` the event time then
    (for hooks that no event drives: timers, ``on_start``, ``on_stop``). An exception that
    no strategy hook raised (a feed's, the broker's) gets no note.
    """
    found = _innermost_hook(exc.__traceback__, {id(s): s for s in strategies})
    if found is None:
        return
    strategy, hook = found
    where = f"in {type(strategy).__name__}.{hook} (strategy {strategy.strategy_id!r})"
    if hook == "on_timer" and now is not None:
        where += f" at {iso_from_nanos(now)}"
    elif hook in ("on_start", "on_stop"):
        pass
    elif event is not None:
        where += f", handling {describe_event(event)}"
    exc.add_note(f"raised {where}")


def describe_event(event: Event) -> str:
    """``Bar NASDAQ:AAPL 1m final at 2024-01-02T14:31:00Z``: kind, symbol, interval, time."""
    parts = [type(event).__name__]
    symbol = getattr(event, "symbol", None)
    if symbol:
        parts.append(str(symbol))
    interval = getattr(event, "interval", None)
    if interval:
        parts.append(str(interval))
    parts.append(f"at {iso_from_nanos(event.ts_event)}")
    return " ".join(parts)


def _innermost_hook(
    tb: TracebackType | None, strategies: dict[int, Strategy]
) -> tuple[Strategy, str] | None:
    found = None
    while tb is not None:
        frame = tb.tb_frame
        name = frame.f_code.co_name
        if name.startswith("on_"):
            owner = frame.f_locals.get("self")
            if id(owner) in strategies and strategies[id(owner)] is owner:
                found = (owner, name)
        tb = tb.tb_next
    return found


def is_users_frame(filename: str) -> bool:
    """Whether a frame's file is the user's: not tradewire's, the standard library's, the
    import system's or an installed package's (Trio, attrs, ...)."""
    if filename.startswith("<frozen "):
        return False
    try:
        resolved = str(Path(filename).resolve())
    except (OSError, ValueError):
        return True
    return not resolved.startswith(_not_the_users())


@functools.cache
def _not_the_users() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    found = {str(Path(__file__).resolve().parent)}
    for key in ("stdlib", "platstdlib", "purelib", "platlib"):
        if path := paths.get(key):
            found.add(str(Path(path).resolve()))
    return tuple(found)


def carry_users_frames(exc: BaseException) -> None:
    """Keep the user's frames of ``exc`` on it, for when it crosses a process boundary (a
    sweep worker) where its traceback is lost; :func:`users_frames` reads them back."""
    frames = traceback.extract_tb(exc.__traceback__)
    exc.tradewire_frames = [f for f in frames if is_users_frame(f.filename)]  # type: ignore[attr-defined]


def users_frames(exc: BaseException) -> list[traceback.FrameSummary] | None:
    """The frames :func:`carry_users_frames` kept on ``exc``, or None."""
    frames = getattr(exc, "tradewire_frames", None)
    return list(frames) if isinstance(frames, list) else None


def run_sync(async_fn: Callable[[], Awaitable[T]]) -> T:
    """``trio.run(async_fn)``, raising a lone failure as itself rather than as a group.

    Several failures at once (two feeds failing together) stay an ``ExceptionGroup``.
    Called from inside a Trio run, it refuses with a message naming the async variant.
    """
    try:
        trio.lowlevel.current_task()
    except RuntimeError:
        pass  # no run in progress: the expected case
    else:
        raise RuntimeError(
            "this helper runs its own trio.run(); from async code use the *_async variant"
        )
    try:
        return trio.run(async_fn)
    except BaseExceptionGroup as group:
        leaves = list(_leaves(group))
        if len(leaves) != 1:
            raise
        error = leaves[0]
    # Raised outside the handler, so the group does not show as "during handling of".
    raise error


def _leaves(group: BaseExceptionGroup[BaseException]) -> Iterable[BaseException]:
    for exc in group.exceptions:
        if isinstance(exc, BaseExceptionGroup):
            yield from _leaves(exc)
        else:
            yield exc
