"""A progress bar for long runs (events, %, events/s, ETA), kept off the engine's hot path.

The engine and the feeds only count, as they do anyway; a separate Trio task samples those
counters a few times a second and redraws a rich progress bar on stderr. Nothing is drawn
unless stderr is a terminal and ``--quiet`` is off, so redirected output, ``--json`` files and
CI logs are unaffected. rich is imported only when a bar is actually shown.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, Protocol, TypeVar, runtime_checkable

import attrs
import trio

from .._failure import run_sync

T = TypeVar("T")

#: Seconds between redraws: often enough to look alive, rarely enough to cost nothing.
REFRESH_S = 0.2


@attrs.frozen(slots=True, kw_only=True)
class ProgressSample:
    """Events delivered so far and work done out of a total (bytes of input; 0 = unknown)."""

    events: int
    done: int
    total: int


@runtime_checkable
class ProgressReporting(Protocol):
    """A feed that can say how far it has read: (done, total), e.g. bytes of its file."""

    def progress(self) -> tuple[int, int]: ...


def wants_progress(quiet: bool, stream: IO[str] | None = None) -> bool:
    """Whether to draw a bar: not quiet and ``stream`` (stderr by default) is a terminal
    that can redraw a line."""
    stream = sys.stderr if stream is None else stream
    return not quiet and can_redraw(stream)


def can_redraw(stream: IO[str]) -> bool:
    """Whether ``stream`` is a terminal that moves the cursor: a TTY whose ``TERM`` is not
    ``dumb`` (editors' shells, some CI runners), where rich would draw nothing at all."""
    return stream.isatty() and os.environ.get("TERM", "").lower() not in ("dumb", "unknown")


def sample_feeds(feeds: Sequence[object]) -> Callable[[], ProgressSample]:
    """A sampler over feeds: input read from their ``progress()``, events from the bar count in
    their ``statistics()`` (bars parsed, a batch or so ahead of the engine)."""

    def sample() -> ProgressSample:
        events = done = total = 0
        for feed in feeds:
            if isinstance(feed, ProgressReporting):
                feed_done, feed_total = feed.progress()
                done += feed_done
                total += feed_total
            statistics = getattr(feed, "statistics", None)
            if statistics is not None:
                events += int(getattr(statistics(), "bars", 0))
        return ProgressSample(events=events, done=done, total=total)

    return sample


async def show_progress(
    sample: Callable[[], ProgressSample],
    *,
    description: str = "replay",
    console: Any = None,
    refresh_s: float = REFRESH_S,
) -> None:
    """Redraw a progress bar from ``sample()`` every ``refresh_s`` until cancelled.

    The bar is transient: cancelling (the run ended) removes it from the terminal.
    ``console`` is a ``rich.console.Console`` (default: one on stderr).
    """
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        Task,
        TaskProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class EventRateColumn(ProgressColumn):
        def render(self, task: Task) -> Text:
            events = int(task.fields.get("events", 0))
            elapsed = task.elapsed or 0.0
            rate = f"{events / elapsed:,.0f}/s" if elapsed > 0 else "-/s"
            return Text(f"{events:,} events {rate}", style="progress.data.speed")

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        EventRateColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console if console is not None else Console(stderr=True),
        auto_refresh=False,  # rich's refresh thread is not wanted: this task redraws
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=None, events=0)
        while True:
            now = sample()
            progress.update(task, completed=now.done, total=now.total or None, events=now.events)
            progress.refresh()
            await trio.sleep(refresh_s)


def run_with_progress(
    run: Callable[[], Awaitable[T]],
    sample: Callable[[], ProgressSample],
    *,
    show: bool,
    description: str = "replay",
) -> T:
    """``run_sync(run)``, with :func:`show_progress` beside it when ``show`` is true."""

    async def main() -> T:
        if not show:
            return await run()
        async with trio.open_nursery() as nursery:
            nursery.start_soon(lambda: show_progress(sample, description=description))
            result = await run()
            nursery.cancel_scope.cancel()
        return result

    return run_sync(main)


@contextmanager
def count_progress(
    total: int | None, *, show: bool, description: str, console: Any = None
) -> Iterator[Callable[[object], None]]:
    """A bar counting finished items (sweep backtests): yields ``tick(item)``, to call once per
    item, from the thread that opened it. Draws nothing unless ``show``."""
    if not show:
        yield lambda _item: None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        console=console if console is not None else Console(stderr=True),
        auto_refresh=False,
        transient=True,
    )
    with progress:
        task = progress.add_task(description, total=total)

        def tick(_item: object) -> None:
            progress.advance(task)
            progress.refresh()

        progress.refresh()
        yield tick
