"""Feed health: data problems counted by kind, and kept to a few lines of log.

A lagging or hostile server can repeat one problem for every bar of every stream, and again on
every reconnect (a late correction of a bar already final, a rejected frame). Each occurrence
is counted; the log gets the first occurrence of each kind in full, then at most one summary
per kind per :data:`DEFAULT_SUMMARY_INTERVAL` ("late_correction: 1,234 more in the last
60 s; last: ..."), and one line with every count when the feed ends
(:meth:`FeedHealth.log_summary`). The other occurrences go to DEBUG.

Summaries are written when a later occurrence finds the interval passed, never by a timer, so
counting stays sans-IO; the clock is injected (monotonic seconds), so a test drives it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Final

from ..._errors import ConfigError

#: Seconds between two summaries of one kind of problem.
DEFAULT_SUMMARY_INTERVAL: Final = 60.0

_log = logging.getLogger(__name__)


class _Kind:
    """What the log has been told of one kind of problem."""

    __slots__ = ("args", "logged_at", "message", "unlogged")

    def __init__(self, logged_at: float, message: str, args: tuple[object, ...]) -> None:
        self.logged_at = logged_at
        #: The newest occurrence, for the next summary.
        self.message = message
        self.args = args
        #: Occurrences since the last line that reported this kind.
        self.unlogged = 0


class FeedHealth:
    """Counts a feed's data problems by kind and rate-limits their warnings.

    ``source`` starts every line (the feed's name). ``clock`` gives monotonic seconds (default
    :func:`time.monotonic`; a test passes its own). ``logger`` is where the lines go (default
    this module's). The messages passed to :meth:`count` must be log-safe already: they are
    logged as given, with lazy ``%`` arguments.
    """

    def __init__(
        self,
        source: str = "",
        *,
        interval: float = DEFAULT_SUMMARY_INTERVAL,
        clock: Callable[[], float] = time.monotonic,
        logger: logging.Logger | None = None,
    ) -> None:
        if not interval >= 0:
            raise ConfigError(f"interval must be >= 0 seconds, got {interval!r}")
        self.source = source
        self.interval = interval
        self._clock = clock
        self._log = logger or _log
        self._prefix = f"{source}: " if source else ""
        self._counts: dict[str, int] = {}
        self._kinds: dict[str, _Kind] = {}

    def count(self, kind: str, message: str, *args: object) -> None:
        """Count one occurrence of ``kind``; log it (``message % args``) if it is the first of
        its kind, or a summary of the occurrences since the last line if ``interval`` has
        passed since then; otherwise log it at DEBUG only."""
        counts = self._counts
        counts[kind] = counts.get(kind, 0) + 1
        state = self._kinds.get(kind)
        now = self._clock()
        if state is None:
            self._kinds[kind] = _Kind(now, message, args)
            self._log.warning(self._prefix + message, *args)
            return
        state.unlogged += 1
        state.message = message
        state.args = args
        if now - state.logged_at >= self.interval:
            self._log.warning(
                "%s%s: %s more in the last %.0f s; last: " + message,
                self._prefix,
                kind,
                f"{state.unlogged:,}",
                now - state.logged_at,
                *args,
            )
            state.unlogged = 0
            state.logged_at = now
        else:
            self._log.debug(self._prefix + message, *args)

    def counts(self) -> Mapping[str, int]:
        """Occurrences by kind since the feed started (a copy)."""
        return dict(self._counts)

    def log_summary(self) -> None:
        """Log one line with every count (WARNING; nothing above DEBUG if there were none).

        For the end of a feed: occurrences not yet reported by a line of their own are
        reported here, with the last of each."""
        if not self._counts:
            self._log.debug("%sfeed health: no data problems", self._prefix)
            return
        parts: list[str] = []
        for kind in sorted(self._counts):
            part = f"{kind} {self._counts[kind]:,}"
            state = self._kinds[kind]
            if state.unlogged:
                last = state.message % state.args if state.args else state.message
                part += f" ({state.unlogged:,} not logged, last: {last})"
                state.unlogged = 0
            parts.append(part)
        self._log.warning("%sfeed health: %s", self._prefix, "; ".join(parts))
