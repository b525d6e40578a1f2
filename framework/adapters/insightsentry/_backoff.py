"""Reconnect delays: exponential, capped, "equal jitter", with a floor from server hints.

Delay for the n-th consecutive failure (n from 0): ``base = min(cap, initial * factor**n)``;
the delay is drawn uniformly from ``[base / 2, base]`` (half fixed so attempts never bunch at
zero, half random so many clients do not reconnect in step), and is never below the floor a
server asked for (``delay_seconds``, ``Retry-After``).

Every ended connection counts as a failure; the count starts again from zero once a connection
has *delivered data* (a series or quote frame the processor accepted; the upgrade, a status
frame or a heartbeat do not count), or has stayed up for ``reset_after`` seconds (a quiet
market sends heartbeats only). So a server that drops the connection every few seconds while
data flows gets a prompt reconnect each time, and one that accepts and drops before any data
(or refuses, or never answers) sees the delay grow to the cap.
"""

from __future__ import annotations

import random

import attrs


@attrs.frozen(slots=True, kw_only=True)
class BackoffPolicy:
    """Parameters of the reconnect delay (seconds)."""

    initial: float = 0.5
    factor: float = 2.0
    cap: float = 30.0
    #: A connection up this long resets the count even if it delivered no data.
    reset_after: float = 60.0

    def __attrs_post_init__(self) -> None:
        if not (0 < self.initial <= self.cap and self.factor >= 1 and self.reset_after >= 0):
            raise ValueError(f"inconsistent backoff policy: {self!r}")


class Backoff:
    """Counts consecutive failures and draws the next delay; ``rng`` makes it reproducible."""

    def __init__(self, policy: BackoffPolicy, *, rng: random.Random | None = None) -> None:
        self.policy = policy
        self.failures = 0
        self._rng = rng or random.Random()

    def bounds(self, failures: int | None = None) -> tuple[float, float]:
        """(lowest, highest) delay for ``failures`` consecutive failures, before any floor."""
        n = self.failures if failures is None else failures
        p = self.policy
        # Clamp the exponent so huge failure counts cannot overflow the float.
        base = min(p.cap, p.initial * p.factor ** min(n, 64))
        return base / 2, base

    def next_delay(self, floor: float | None = None) -> float:
        """Delay before the next attempt; counts one more failure."""
        low, high = self.bounds()
        self.failures += 1
        delay = self._rng.uniform(low, high)
        return max(delay, floor or 0.0)

    def connection_ended(self, *, lasted: float, delivered_data: bool) -> None:
        """Report how the last connection went (``lasted``: seconds it was up, 0 if it never
        opened); one that delivered data or lasted ``reset_after`` resets the count."""
        if delivered_data or lasted >= self.policy.reset_after:
            self.failures = 0
