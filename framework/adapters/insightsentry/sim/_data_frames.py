"""Which data frames a connection's subscriptions call for: the burst when a subscription
message is accepted, then each change of the market.

:class:`DataFrames` remembers what it last sent on each subscription, so only changes go out:
a bar whose state did not change is not sent again, and a sparse quote envelope carries only
the fields that changed. No I/O: frames come back as text, in the order they must be sent.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ....testing._market import SyntheticBar, SyntheticMarket, SyntheticQuote
from .._encode import encode_frame
from .._frame_records import QuotesFrame
from ._config import SimConfig
from ._subscribe import Key, ServedSubscription
from ._wire import (
    QuoteValues,
    quote_entry,
    quote_envelope,
    quote_fields,
    quote_values,
    series_frame,
    tick_frame,
)


class DataFrames:
    """The data side of one connection: its subscriptions and what was sent on each."""

    def __init__(self, config: SimConfig) -> None:
        self._config = config
        self._subscriptions: dict[Key, ServedSubscription] = {}
        self._sent_bars: dict[Key, SyntheticBar | None] = {}
        self._sent_tick_seq: dict[str, int] = {}
        self._sent_quotes: dict[str, QuoteValues] = {}

    @property
    def subscriptions(self) -> Mapping[Key, ServedSubscription]:
        """The accepted subscriptions, in the order they were asked for."""
        return self._subscriptions

    def accept(self, accepted: dict[Key, ServedSubscription], market: SyntheticMarket) -> list[str]:
        """Replace the subscriptions with ``accepted`` (a subscription message replaces, it does
        not add) and return the bursts: bars or trades per series, then one quote envelope.

        Subscriptions kept from the previous message get their burst again only with
        ``config.resend_burst``.
        """
        frames: list[str] = []
        previous = self._subscriptions
        self._subscriptions = accepted
        for key in list(self._sent_bars):
            if key not in accepted:
                del self._sent_bars[key]
        quote_codes = {sub.code for sub in accepted.values() if sub.kind == "quote"}
        for code in list(self._sent_quotes):
            if code not in quote_codes:
                del self._sent_quotes[code]
        fresh_quotes: list[SyntheticQuote] = []
        for key, sub in accepted.items():
            market.track(sub.code, sub.interval)
            if key in previous and not self._config.resend_burst:
                continue
            if sub.kind == "series":
                assert sub.interval is not None
                bars = market.bars(sub.code, sub.interval, sub.count)
                frames.append(series_frame(sub.code, sub.interval, bars))
                self._sent_bars[key] = bars[-1]
            elif sub.kind == "tick":
                trades = market.trades(sub.code, sub.count)
                self._sent_tick_seq[sub.code] = market.steps
                if trades:
                    frames.append(tick_frame(sub.code, trades))
            else:
                self._sent_quotes.pop(sub.code, None)
                fresh_quotes.append(market.quote(sub.code))
        frames.extend(self._quote_frames(fresh_quotes))
        return frames

    def updates(self, market: SyntheticMarket) -> list[str]:
        """The frames for what changed in ``market`` since the burst or the last call."""
        frames: list[str] = []
        quotes: list[SyntheticQuote] = []
        for key, sub in self._subscriptions.items():
            if sub.kind == "series":
                assert sub.interval is not None
                sent = self._sent_bars.get(key)
                current = market.current_bar(sub.code, sub.interval)
                if sent is not None and current is not None and current.ts_open == sent.ts_open:
                    # The same bar as last time (most steps): its new state, if it changed.
                    if current != sent:
                        frames.append(series_frame(sub.code, sub.interval, [current]))
                        self._sent_bars[key] = current
                    continue
                # Not just the bar in progress: one market step can end several bar periods
                # (at speed 300 a 75 s step skips a minute in five), and the last state of a
                # bar that ended is what the client keeps as final.
                if sent is None:
                    current = market.current_bar(sub.code, sub.interval)
                    bars = [] if current is None else [current]
                else:
                    bars = market.bars_since(sub.code, sub.interval, sent.ts_open)
                for bar in bars:
                    if bar != sent:
                        frames.append(series_frame(sub.code, sub.interval, [bar]))
                if bars:
                    self._sent_bars[key] = bars[-1]
            elif sub.kind == "tick":
                for trade in market.trades_after(sub.code, self._sent_tick_seq.get(sub.code, 0)):
                    frames.append(tick_frame(sub.code, [trade]))
                self._sent_tick_seq[sub.code] = market.steps
            else:
                quotes.append(market.quote(sub.code))
        frames.extend(self._quote_frames(quotes))
        return frames

    def _quote_frames(self, quotes: Sequence[SyntheticQuote]) -> list[str]:
        mode = self._config.quote_mode
        frames: list[str] = []
        entries: list[dict[str, Any]] = []
        newest = 0
        for quote in quotes:
            values = quote_values(quote)
            last = self._sent_quotes.get(quote.code)
            if last == values:
                continue
            self._sent_quotes[quote.code] = values
            newest = max(newest, quote.ts_update)
            if mode == "flat":
                flat = QuotesFrame(
                    legacy=True,
                    last_update_ns=None,
                    total_items=None,
                    entries=(quote_fields(quote),),
                )
                frames.append(encode_frame(flat))
            else:
                entries.append(quote_entry(quote.code, values, None if mode == "full" else last))
        if entries:
            frames.append(quote_envelope(newest, entries))
        return frames
