"""TrendPullback on the bundled minutes: the trend bars the framework builds for it, the
trailing stops behind its entries and where they exit (docs/execution.md, 2.4), and a paper
session against the simulated server whose recording replays to the same orders and fills."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import trio

from framework import Bar, Event, OrderSide, ParameterError, RunResult, backtest
from framework.adapters.insightsentry import LiveFeedConfig, Subscription
from framework.adapters.insightsentry._session import paper_trade
from framework.adapters.insightsentry.sim import DEFAULT_API_KEY
from framework.execution import Order, OrderStatus, OrderType, TimeInForce
from framework.testing import Backtester, CapturedEvents, capture_events
from strategies.trend_pullback import TrendPullback

DATA = Path(__file__).parents[2] / "examples" / "data"
AAPL = DATA / "AAPL.csv"
SECOND = 1_000_000_000
MINUTE = 60 * SECOND


@attrs.frozen
class Run:
    strategy: TrendPullback
    result: RunResult
    seen: CapturedEvents

    @property
    def orders(self) -> dict[int, Order]:
        return {o.order_id: o for o in self.result.orders}

    def trailing_stops(self) -> list[tuple[Order, Order]]:
        """(entry, its trailing stop) pairs: the strategy sends the stop from ``on_fill`` of
        its entry, so the stop is the order right after the entry."""
        orders = self.orders
        return [
            (orders[o.order_id - 1], o)
            for o in orders.values()
            if o.type is OrderType.TRAILING_STOP_MARKET
        ]


@pytest.fixture(scope="module")
def aapl() -> Run:
    """One backtest of the defaults over AAPL.csv, and what the strategy saw."""
    backtester = Backtester()
    strategy = TrendPullback()
    result = backtester(strategy, AAPL)
    return Run(strategy, result, backtester.seen(strategy))


# -- orders ------------------------------------------------------------------------------------


def test_every_entry_is_a_market_order_protected_by_a_trailing_stop(aapl):
    orders = aapl.orders
    assert {o.type for o in orders.values()} == {OrderType.MARKET, OrderType.TRAILING_STOP_MARKET}
    pairs = aapl.trailing_stops()
    assert len(pairs) >= 30
    for entry, stop in pairs:
        assert entry.type is OrderType.MARKET and entry.status is OrderStatus.FILLED
        assert stop.side is not entry.side and stop.qty == entry.qty
        assert stop.trail_offset is not None and stop.trail_offset > 0
        assert stop.trail_percent is None and stop.tif is TimeInForce.GTC
        # Sent while the entry's fill was handled: working from the next bar on.
        assert stop.ts_submitted == stop.ts_active
    assert {entry.side for entry, _ in pairs} == {OrderSide.BUY, OrderSide.SELL}  # both ways


def test_every_market_order_opens_a_protected_position_or_closes_one(aapl):
    orders = aapl.orders
    entries = {entry.order_id for entry, _ in aapl.trailing_stops()}
    closes = 0
    for order in orders.values():
        if order.type is not OrderType.MARKET or order.order_id in entries:
            continue
        before = orders.get(order.order_id - 1)
        if order.status is OrderStatus.CANCELLED:
            # An entry sent on the minute that closed a trend bar which then turned against it.
            assert order.filled_qty == 0 and order.reason == "requested"
        else:
            # The trend turned against the position: its stop cancelled, then a market close.
            assert before is not None and before.type is OrderType.TRAILING_STOP_MARKET
            assert before.status is OrderStatus.CANCELLED and before.filled_qty == 0
            assert order.side is before.side and order.qty == before.qty
            assert order.status is OrderStatus.FILLED
            closes += 1
    assert closes >= 5


@pytest.mark.parametrize("csv", ["AAPL.csv", "MSFT.csv"])
def test_the_bundled_minutes_give_a_sensible_number_of_trades(csv):
    result = backtest(TrendPullback(), [DATA / csv])
    types = {o.order_id: o.type for o in result.orders}
    trailing = [f for f in result.fills if types[f.order_id] is OrderType.TRAILING_STOP_MARKET]
    assert 30 <= len(result.trades) <= 150  # about ten a day on a week of minutes
    assert len(trailing) >= len(result.trades) // 2  # the stop is the usual way out


# -- trend bars --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("interval", "bucket", "first_is_partial"),
    [
        ("15m", 15 * MINUTE, False),  # the data start at 14:30 UTC, a quarter-hour
        ("1h", 60 * MINUTE, True),  # ... but not on the hour: 14:30 to 15:00 is dropped
    ],
)
def test_trend_bars_are_the_minutes_resampled_on_the_utc_clock(interval, bucket, first_is_partial):
    pd = pytest.importorskip("pandas")
    backtester = Backtester()
    strategy = TrendPullback(trend_interval=interval, trend_fast=2, trend_slow=4)
    backtester(strategy, AAPL)
    bars = [d for d in backtester.seen(strategy).deliveries if isinstance(d.event, Bar)]
    built = [(i, d) for i, d in enumerate(bars) if d.event.interval == interval]

    frame = pd.read_csv(AAPL)
    frame.index = pd.to_datetime(frame["time"], unit="s", utc=True)
    buckets = (
        frame.resample(pd.Timedelta(bucket, unit="ns"), origin="epoch", label="left", closed="left")
        .agg({"open": "first", "high": "max", "low": "min", "close": "last", "volume": "sum"})
        .dropna()
    )
    first_minute = int(frame["time"].iloc[0]) * SECOND
    last_minute_end = int(frame["time"].iloc[-1]) * SECOND + MINUTE
    assert (first_minute % bucket != 0) is first_is_partial
    assert last_minute_end % bucket != 0  # the data end inside a bucket: it gives no bar
    expected = buckets.iloc[(1 if first_is_partial else 0) : -1]
    assert len(built) == len(expected) > 100
    got = [
        (b.ts_open, b.ts_event, b.open, b.high, b.low, b.close, b.volume)
        for b in (d.event for _, d in built)
    ]
    assert got == [
        (ts.value, ts.value + bucket, *(float(v) for v in row))
        for ts, row in zip(expected.index, expected.itertuples(index=False), strict=True)
    ]
    for i, delivery in built:
        bar = delivery.event
        assert bar.ts_event % bucket == 0 and bar.ts_event - bar.ts_open == bucket
        # Delivered right after the minute that closed its bucket, at that minute's end.
        minute = bars[i - 1].event
        assert minute.interval == "1m" and minute.ts_event == bar.ts_event == delivery.clock_ns


# -- trailing-stop exits -------------------------------------------------------------------------


def expected_trailing_exit(
    side: OrderSide, first_stop: float, offset: float, minutes: list[Bar]
) -> tuple[float, int, float]:
    """Where a trailing stop fills by docs/execution.md 2.2 and 2.4, walked over the minutes it
    is eligible for: its stop is fixed for each bar; a bar that opens through it fills at the
    open (stamped with the bar's open time), one that trades through it fills at the stop
    (stamped with the bar's final time); after a bar that did not reach it, the stop moves to
    that bar's close minus the offset (a buy's: plus) if that is tighter, never looser.
    Returns (fill price, fill time, the stop at the fill)."""
    stop = first_stop
    for bar in minutes:
        if side is OrderSide.SELL:
            if bar.open <= stop:
                return bar.open, bar.ts_open, stop
            if bar.low <= stop:
                return stop, bar.ts_event, stop
            stop = max(stop, bar.close - offset)
        else:
            if bar.open >= stop:
                return bar.open, bar.ts_open, stop
            if bar.high >= stop:
                return stop, bar.ts_event, stop
            stop = min(stop, bar.close + offset)
    raise AssertionError("the stop never triggered")


def test_trailing_stops_exit_where_the_closes_since_the_entry_put_them(aapl):
    minutes = [b for b in aapl.seen.bars if b.interval == "1m"]
    fills = {f.order_id: f for f in aapl.result.fills}
    exits = [(entry, stop) for entry, stop in aapl.trailing_stops() if stop.order_id in fills]
    assert len(exits) >= 20
    at_the_stop = moved = 0
    for entry, stop in exits:
        fill = fills[stop.order_id]
        offset = stop.trail_offset
        assert offset is not None and entry.avg_fill_price is not None
        # The strategy starts the stop one offset from its entry's fill price.
        sign = -1 if stop.side is OrderSide.SELL else 1
        first_stop = entry.avg_fill_price + sign * offset
        eligible = [b for b in minutes if b.ts_open >= stop.ts_active]
        price, ts, last_stop = expected_trailing_exit(stop.side, first_stop, offset, eligible)
        assert fill.ts_event == ts
        assert fill.price == pytest.approx(price, rel=1e-12)
        assert stop.stop_price == pytest.approx(last_stop, rel=1e-12)  # the result keeps it
        assert fill.qty == stop.qty == entry.qty and not fill.is_intrabar_guess
        at_the_stop += price == last_stop
        moved += last_stop != first_stop
    # Most exits are at the stop itself (a gap through it fills at the open), and most stops
    # had trailed away from where they started.
    assert at_the_stop > len(exits) // 2
    assert moved > len(exits) // 2


# -- paper, then replay --------------------------------------------------------------------------

#: Minutes of history the server sends first: 66 quarter-hours, so the strategy trades them
#: (it needs 16 for its trend) before the live minutes come.
HISTORY_BARS = 1_000
LIVE_BARS = 60


@pytest.mark.tradewire_sim(seed=3, speed=3_600.0, trade_interval=0.005, heartbeat_interval=0.2)
async def test_a_paper_session_replays_to_the_same_orders_and_fills(sim_server, tmp_path):
    recording = tmp_path / "paper.twrec"
    strategy = TrendPullback()
    seen_live = capture_events(strategy)
    minutes = 0

    def stop_after_live_bars(engine, feed):
        def count(event: Event) -> None:
            nonlocal minutes
            if isinstance(event, Bar) and event.interval == "1m":
                minutes += 1
                if minutes == HISTORY_BARS + LIVE_BARS:
                    engine.stop()

        engine.add_observer(count)

    with trio.fail_after(60):
        paper = await paper_trade(
            [strategy],
            [
                Subscription(code="NASDAQ:AAPL", bars=HISTORY_BARS),
                Subscription(code="NASDAQ:AAPL", type="quote"),
            ],
            api_key=DEFAULT_API_KEY,
            url=sim_server.url,
            record=recording,
            on_engine=stop_after_live_bars,
            config=LiveFeedConfig(close_timeout=0.25),
        )
    backtester = Backtester()
    replayed = TrendPullback()
    replay = await backtester.run_async(replayed, recording)

    types = {o.order_id: o.type for o in paper.orders}
    assert OrderType.TRAILING_STOP_MARKET in types.values()
    assert any(types[f.order_id] is OrderType.TRAILING_STOP_MARKET for f in paper.fills)
    p, r = paper.to_dict(), replay.to_dict()
    assert p["bars"] == r["bars"] >= HISTORY_BARS + LIVE_BARS
    for key in ("orders", "fills", "trades", "final_equity"):
        assert p[key] == r[key], key
    # The replay built the same quarter-hours from the recorded minutes.
    trend = [b for b in seen_live.bars if b.interval == "15m"]
    assert len(trend) >= 60
    assert [b for b in backtester.seen(replayed).bars if b.interval == "15m"] == trend


# -- parameters ----------------------------------------------------------------------------------


def test_parameters_that_make_no_strategy_are_refused():
    with pytest.raises(ParameterError, match=r"trend_fast \(8\) must be shorter"):
        TrendPullback(trend_fast=8, trend_slow=8)
    with pytest.raises(ParameterError, match="trend_interval"):
        TrendPullback(trend_interval="15 minutes")
    with pytest.raises(ParameterError, match="fixed length"):
        TrendPullback(trend_interval="1M")


def test_warm_up_covers_the_slow_trend_mean_in_minutes():
    assert TrendPullback(trend_interval="15m", trend_slow=16).warmup_bars() == 17 * 15 + 14
    assert (
        TrendPullback(trend_interval="1h", trend_fast=2, trend_slow=4).warmup_bars() == 5 * 60 + 14
    )
