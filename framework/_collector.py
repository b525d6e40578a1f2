"""Garbage-collector thresholds for the length of a run.

CPython starts a young collection every 700 new container objects. An engine streams events
in batches of about a thousand, so most events outlive two young collections while their batch
waits in a channel, are promoted to the oldest generation, and there soon count towards a full
collection, which walks every object the process holds. A million-bar backtest paid about a
second for that, a fifth of its time, although events form no reference cycles and are freed by
reference counting as soon as they are dispatched.

While any engine runs, the first threshold is raised so that a batch is dispatched and freed
before a young collection comes due; the collector stays on and cyclic garbage is still
collected, later. The previous thresholds come back when the last running engine ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

#: (young, middle, old) thresholds while engines run; see the module docstring.
RUN_THRESHOLDS = (20_000, 50, 100)

_running = 0
_saved: tuple[int, int, int] | None = None


@contextlib.contextmanager
def thresholds_for_a_run() -> Iterator[None]:
    """Apply :data:`RUN_THRESHOLDS` until the block ends (nesting and overlap are counted)."""
    global _running, _saved
    if _running == 0:
        _saved = gc.get_threshold()
        if _saved[0] != 0:  # 0 means the user turned automatic collection off: keep it so
            gc.set_threshold(*RUN_THRESHOLDS)
    _running += 1
    try:
        yield
    finally:
        _running -= 1
        if _running == 0 and _saved is not None:
            gc.set_threshold(*_saved)
            _saved = None
