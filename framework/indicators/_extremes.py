"""The highest high and lowest low of a sliding window, for the channel and range indicators."""

from __future__ import annotations

from collections import deque


class WindowExtremes:
    """Highest high and lowest low of the last ``period`` pushes, O(1) amortised per push.

    Two monotonic deques of ``(push number, value)``: highs strictly decreasing from the front,
    lows strictly increasing. A new high first drops every older high it equals or beats (they
    can never be the maximum again while it is in the window), so the front is the window's
    maximum once entries older than the window are dropped. Each value enters and leaves a deque
    at most once, and pushes are numbered one apart, so at most one entry expires per push.
    Inputs are not checked here: the owning indicator validates them first.
    """

    __slots__ = ("_highs", "_lows", "_n", "_period")

    def __init__(self, period: int) -> None:
        self._period = period
        self._n = 0
        self._highs: deque[tuple[int, float]] = deque()
        self._lows: deque[tuple[int, float]] = deque()

    def push(self, high: float, low: float) -> tuple[float, float]:
        """Add one bar's high and low; return the window's ``(highest, lowest)``."""
        n = self._n + 1
        self._n = n
        expired = n - self._period
        highs = self._highs
        while highs and highs[-1][1] <= high:
            highs.pop()
        highs.append((n, high))
        if highs[0][0] <= expired:
            highs.popleft()
        lows = self._lows
        while lows and lows[-1][1] >= low:
            lows.pop()
        lows.append((n, low))
        if lows[0][0] <= expired:
            lows.popleft()
        return highs[0][1], lows[0][1]

    def clear(self) -> None:
        """Forget every push."""
        self._n = 0
        self._highs.clear()
        self._lows.clear()
