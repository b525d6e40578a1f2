"""The equity curve as a small inline SVG, for a result shown in a notebook.

Plain SVG markup: no script and no library, so it renders wherever HTML does (Jupyter,
VS Code, GitHub's notebook viewer) and in a notebook saved without its kernel. The curve is
one polyline of at most :data:`MAX_POINTS` points on a time axis: the first and last samples,
and between them the lowest and highest sample of each of equal runs of samples, in time
order, so drawdowns and spikes survive the thinning. Labels: the highest and lowest equity,
and the first and last time (UTC). Text is escaped; the document is well-formed XML.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence

from .._time import iso_from_nanos
from ._display import format_statistic

#: Most points drawn: more than a notebook cell's width in pixels gains nothing.
MAX_POINTS = 600
WIDTH = 600
HEIGHT = 180
#: Room for a label line above the plot and two below it (lowest equity, dates).
_TOP = 20
_BOTTOM = HEIGHT - 40
_LEFT = 4
_RIGHT = WIDTH - 4
_LINE_COLOUR = "#1f77b4"
_NANOS_PER_DAY = 86_400 * 1_000_000_000


def equity_svg(times: Sequence[int], values: Sequence[float]) -> str:
    """An ``<svg>`` element drawing ``values`` over ``times`` (ns); "" with no samples, or
    with a value that is not finite (no scale could show it)."""
    if not values:
        return ""
    kept = thin(values, MAX_POINTS)
    ys = [values[i] for i in kept]
    low, high = min(ys), max(ys)
    if not all(math.isfinite(v) for v in ys):
        return ""
    start, end = times[kept[0]], times[kept[-1]]
    points = " ".join(
        f"{_x(times[i], start, end, n, len(kept)):.2f},{_y(values[i], low, high):.2f}"
        for n, i in enumerate(kept)
    )
    first, last = _time_label(start, end)
    low_text, high_text = _money(low), _money(high)
    title = (
        f"Equity from {first} to {last}: {_money(values[0])} to {_money(values[-1])}"
        f" (lowest {low_text}, highest {high_text})"
    )
    esc = html.escape
    text = 'font-family="sans-serif" font-size="11" fill="currentColor"'
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{esc(title)}">'
        f"<title>{esc(title)}</title>"
        f'<polyline fill="none" stroke="{_LINE_COLOUR}" stroke-width="1.5" '
        f'stroke-linejoin="round" points="{points}"/>'
        f'<text x="{_LEFT}" y="{_TOP - 6}" {text}>highest {esc(high_text)}</text>'
        f'<text x="{_LEFT}" y="{_BOTTOM + 15}" {text}>lowest {esc(low_text)}</text>'
        f'<text x="{_LEFT}" y="{HEIGHT - 4}" {text}>{esc(first)}</text>'
        f'<text x="{_RIGHT}" y="{HEIGHT - 4}" text-anchor="end" {text}>{esc(last)}</text>'
        "</svg>"
    )


def thin(values: Sequence[float], max_points: int) -> list[int]:
    """Indexes of at most ``max_points`` (at least 2) samples of ``values``, in order: the
    first, the last, and the lowest and highest of each of equal runs of the rest."""
    n = len(values)
    if n <= max_points:
        return list(range(n))
    kept = [0]
    buckets = (max_points - 2) // 2
    inner = n - 2
    for b in range(buckets):
        lo = 1 + inner * b // buckets
        hi = 1 + inner * (b + 1) // buckets
        # Slices and min/max run in C: a million samples take milliseconds, not a second.
        run = values[lo:hi]
        i_low = lo + run.index(min(run))
        i_high = lo + run.index(max(run))
        kept.extend(sorted({i_low, i_high}))
    kept.append(n - 1)
    return kept


def _x(t: int, start: int, end: int, n: int, count: int) -> float:
    # Samples all at one time (a single bar) are spread evenly instead.
    share = (t - start) / (end - start) if end > start else n / max(count - 1, 1)
    return _LEFT + share * (_RIGHT - _LEFT)


def _y(value: float, low: float, high: float) -> float:
    share = (high - value) / (high - low) if high > low else 0.5
    return _TOP + share * (_BOTTOM - _TOP)


def _money(value: float) -> str:
    return format_statistic("final_equity", value)


def _time_label(start: int, end: int) -> tuple[str, str]:
    """Dates, or minutes when the curve spans less than two days (ISO, UTC)."""
    first, last = iso_from_nanos(start), iso_from_nanos(end)
    if end - start >= 2 * _NANOS_PER_DAY:
        return first[:10], last[:10]
    return f"{first[:16].replace('T', ' ')} UTC", f"{last[:16].replace('T', ' ')} UTC"
