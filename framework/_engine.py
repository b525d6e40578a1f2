"""The engine: one nursery that runs the feeds, the dispatcher and the strategies.

Flow::

    feeds ──(bounded channel of event batches, one per feed)──▶ dispatcher ──▶ bus
                                                                      ├─▶ broker (fills, marks)
                                                                      └─▶ strategies

Replay feeds run in simulated time: the dispatcher merges them by ``ts_event`` (ties go to
the feed listed first; :mod:`._feed_merge`), moves the :class:`SimulatedClock` to each event
and fires due timers before it, so a run is a pure function of its input. Live feeds share
one channel and are delivered in arrival order under the wall clock; timers then fire from the
dispatcher, too, on wall time, and a paper session records each firing with its position in
the stream (the count of bars, bar updates and quotes dispatched before it); a replay of that
recording fires the recorded timers of the session's strategies at those positions instead of
by event time (:meth:`Engine.record_timers`), so timer-driven decisions replay exactly too.

Restarts: a paper session resumed from its journal hands the engine the last bar it delivered
per stream (:meth:`Engine.resume_after`) and the strategies' saved states
(:meth:`Engine.load_states`); bars the session had delivered before are not delivered again.

Shutdown paths:

- natural end: every feed closes its channel → ``on_stop`` → :meth:`Engine.run` returns;
- :meth:`Engine.stop`: in replay, feeds and dispatch stop at once → ``on_stop``; live, the
  feeds stop reading and the dispatcher still delivers what they had already received (so a
  paper run saw exactly what its recording holds) → ``on_stop``;
- failure: an exception in a feed or a strategy cancels everything else and propagates
  (as an ``ExceptionGroup``, Trio's convention); ``on_stop`` is not called. A strategy's
  exception is never replaced by one of the engine's own (a feed finding its channel closed,
  a cancellation) and carries a note naming the strategy, the hook and the event
  (:mod:`._failure`); the synchronous helpers raise it unwrapped.

Warm-up: a live feed that replays history first sends ``WarmupStarted`` before it and
``WarmupCompleted`` after it (a recording replays both). The engine listens for these two
notifications on the bus, like any subscriber, and flips its strategies' order gate: between
them every new order is refused with reason ``warmup``. The dispatch loop does not know about
warm-up at all, so runs without it (every backtest over bar files) pay nothing.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import attrs
import trio

from ._aggregation import IntervalBars
from ._bus import EventBus
from ._clock import NEVER, Clock, LiveClock, SimulatedClock, TimerQueue
from ._collector import thresholds_for_a_run
from ._errors import ConfigError, EngineError
from ._events import Bar, BarUpdate, Event, Quote, TimerFired, WarmupCompleted, WarmupStarted
from ._failure import note_hook_failure, run_sync
from ._feed_merge import FeedMerge
from ._strategy import Strategy
from .execution import SimulatedBroker
from .feeds._feed import EventBatch, Feed
from .portfolio import Portfolio, StrategyBooks

log = logging.getLogger(__name__)

#: Batches buffered between the feeds and the dispatcher, shared out among the feeds of a
#: replay (at least one each). A batch holds up to ``REPLAY_BATCH_SIZE`` events in replay and
#: usually one frame's worth live, so this bounds memory, however many feeds there are, while
#: letting a feed decode ahead of the strategies.
FEED_CHANNEL_BATCHES = 16


@attrs.frozen(slots=True, kw_only=True)
class EngineStatistics:
    """Counters of one run."""

    events: int
    bars: int
    quotes: int
    timers: int
    stopped_early: bool


class Engine:
    """Runs strategies over feeds with a simulated broker.

    ``clock`` defaults to a :class:`SimulatedClock` when every feed is a replay feed and to a
    :class:`LiveClock` otherwise. Mixing live and replay feeds in one engine is an error.
    """

    def __init__(
        self,
        *,
        feeds: Sequence[Feed],
        strategies: Sequence[Strategy] = (),
        cash: float = 100_000.0,
        broker: SimulatedBroker | None = None,
        clock: Clock | None = None,
    ) -> None:
        if not feeds:
            raise EngineError("an engine needs at least one feed")
        live = {feed.is_live for feed in feeds}
        if len(live) > 1:
            raise EngineError("cannot mix live and replay feeds in one engine")
        self.is_live = live == {True}
        self.feeds = list(feeds)
        self.bus = EventBus()
        self.clock: Clock = clock or (LiveClock() if self.is_live else SimulatedClock())
        self.timers = TimerQueue()
        #: Strategies whose timers a recording replays (fired where the recording says, never
        #: by event time): their timers live in a queue of their own that nothing fires.
        self._recorded_timer_ids: frozenset[str] = frozenset().union(
            *(getattr(feed, "recorded_timer_strategies", ()) for feed in self.feeds)
        )
        self._replayed_timers = TimerQueue()
        self.broker = broker or SimulatedBroker(Portfolio(cash))
        #: Time of the market data dispatched so far. It is the strategies' clock in replay;
        #: live, strategies see the wall clock while the broker still works in event time, so
        #: a paper run and the replay of its recording fill orders identically.
        self.event_clock = (
            self.clock if isinstance(self.clock, SimulatedClock) else SimulatedClock()
        )
        self.broker.attach(self.bus, self.event_clock)
        #: Feeds whose warm-up has started and not yet completed.
        self._warming_up: set[str] = set()
        self.bus.subscribe(WarmupStarted, self._on_warmup)
        self.bus.subscribe(WarmupCompleted, self._on_warmup)
        #: Bars of other intervals the strategies ask for (``subscribe(..., interval=...)``);
        #: idle, and off the bus, until one does.
        self.interval_bars = IntervalBars(self.bus)
        self.strategies: list[Strategy] = []
        #: With two or more strategies, each one's own book (fills, trades, equity), built
        #: when they start; None otherwise (one strategy's book is the account).
        self.books: StrategyBooks | None = None
        self._observers: list[Callable[[Event], None]] = []
        self._cancel_scope: trio.CancelScope | None = None
        self._feed_scopes: list[trio.CancelScope] = []
        self._stop_requested = False
        self._ran = False
        self._counts = {"events": 0, "timers": 0}
        self._bars = 0
        self._quotes = 0
        self._updates = 0
        self._started = False
        #: Called after each live dispatch step (see add_step_listener).
        self._step_listeners: list[Callable[[Sequence[Event]], None]] = []
        #: Set by resume_after: the last bar delivered per (symbol, interval) before a restart,
        #: and the market time the session had reached.
        self._delivered: Mapping[tuple[str, str], int] | None = None
        self._resume_ts = 0
        self.skipped_on_resume = 0
        self._saved_states: Mapping[str, dict[str, Any]] = {}
        #: The event being delivered when a handler raised, for the note on its exception.
        self._failed_event: Event | None = None
        #: Set once the dispatcher has closed its side of the feed channels.
        self._dispatch_closed = False
        if self._recorded_timer_ids:
            self.bus.subscribe(TimerFired, self._on_recorded_timer)
        for strategy in strategies:
            self.add_strategy(strategy)

    @property
    def portfolio(self) -> Portfolio:
        return self.broker.portfolio

    def add_strategy(self, strategy: Strategy) -> None:
        """Register a strategy; its id must be unique in this engine."""
        if self._ran:
            raise EngineError("strategies must be added before the engine runs")
        if isinstance(strategy, type):
            name = strategy.__name__
            raise ConfigError(
                f"pass a strategy instance, not the class: {name}(...) instead of {name}"
            )
        if not isinstance(strategy, Strategy):
            raise ConfigError(
                f"a strategy must be an instance of a Strategy subclass, not "
                f"{type(strategy).__name__}"
            )
        if any(s.strategy_id == strategy.strategy_id for s in self.strategies):
            raise EngineError(
                f"two strategies named {strategy.strategy_id!r}: set a distinct `name` on one"
            )
        timers = (
            self._replayed_timers
            if strategy.strategy_id in self._recorded_timer_ids
            else self.timers
        )
        strategy._bind(self.bus, self.broker, self.clock, timers, self.interval_bars)
        self.strategies.append(strategy)

    @property
    def is_warming_up(self) -> bool:
        """True between a feed's WarmupStarted and its WarmupCompleted."""
        return bool(self._warming_up)

    def _on_warmup(self, event: WarmupStarted | WarmupCompleted) -> None:
        if isinstance(event, WarmupStarted):
            self._warming_up.add(event.feed)
        else:
            self._warming_up.discard(event.feed)
        gate = bool(self._warming_up)
        for strategy in self.strategies:
            strategy._set_warming_up(gate)

    # -- live sessions: steps, recorded timers, restarts -------------------------------------

    @property
    def market_events(self) -> int:
        """Bars, bar updates and quotes dispatched so far: a position in the event stream."""
        return self._bars + self._quotes + self._updates

    def add_step_listener(self, listener: Callable[[Sequence[Event]], None]) -> None:
        """Call ``listener(events)`` after each step of a live run: the start (no events),
        each batch delivered, each round of timers fired (no events). A paper journal commits
        there, so a crash leaves it at a step boundary."""
        if not self.is_live:
            raise EngineError("step listeners are for live runs; a replay has no restarts")
        self._step_listeners.append(listener)

    def record_timers(self, sink: Callable[[int, TimerFired], None]) -> None:
        """Live: call ``sink(position, timer)`` for every timer firing, before the strategy
        sees it, with :attr:`market_events` as the position (live timers fire between
        batches). A recording that keeps these lets its replay fire them at the same place."""
        if not self.is_live:
            raise EngineError("only live timers are recorded; a replay fires them from events")

        def record(event: TimerFired) -> None:
            sink(self.market_events, event)

        self.bus.subscribe(TimerFired, record)

    def resume_after(self, delivered: Mapping[tuple[str, str], int], market_ts: int) -> None:
        """Before a live run: the session restarts after one that had delivered, per
        ``(symbol, interval)``, the bars up to the open time in ``delivered`` and reached
        market time ``market_ts``. Such bars (a server re-sends recent bars on connect) are
        not delivered again, nor bars of other series, updates or quotes at or before
        ``market_ts``: no strategy sees them twice and no order fills against them. They are
        counted in :attr:`skipped_on_resume`."""
        if not self.is_live:
            raise EngineError("only a live run resumes a session")
        self._delivered = dict(delivered)
        self._resume_ts = market_ts

    def load_states(self, states: Mapping[str, dict[str, Any]]) -> None:
        """Before a run: each strategy named in ``states`` gets its state through ``on_load``
        right after ``on_start``."""
        unknown = sorted(set(states) - {s.strategy_id for s in self.strategies})
        if unknown:
            log.warning("saved state of %s: no such strategy in this session", ", ".join(unknown))
        self._saved_states = dict(states)

    def _on_recorded_timer(self, event: TimerFired) -> None:
        if event.strategy_id not in self._recorded_timer_ids:
            return  # fired by event time, for a strategy the recording did not run
        for strategy in self.strategies:
            if strategy.strategy_id == event.strategy_id:
                self._replayed_timers.consume(id(strategy), event.name)
                self._counts["timers"] += 1
                return

    def _after_step(self, events: Sequence[Event]) -> None:
        for listener in self._step_listeners:
            listener(events)

    def _already_delivered(self, batch: Sequence[Event]) -> list[Event]:
        """The batch without what the session delivered before its restart."""
        delivered = self._delivered
        assert delivered is not None
        resume_ts = self._resume_ts
        kept: list[Event] = []
        for event in batch:
            cls = event.__class__
            if cls is Bar:
                last = delivered.get((event.symbol, event.interval))  # type: ignore[attr-defined]
                if (
                    event.ts_open <= last  # type: ignore[attr-defined]
                    if last is not None
                    else event.ts_event <= resume_ts
                ):
                    self.skipped_on_resume += 1
                    continue
            elif cls in _MARKET_DATA and event.ts_event <= resume_ts:
                self.skipped_on_resume += 1
                continue
            kept.append(event)
        return kept

    def add_observer(self, handler: Callable[[Event], None]) -> None:
        """Call ``handler`` with every event the dispatcher delivers, after the strategies."""
        self._observers.append(handler)

    def stop(self) -> None:
        """Ask a running engine to stop, then ``on_stop`` runs.

        Replay stops at once. Live feeds stop reading; events they had already received are
        still delivered. Safe to call from a strategy hook, another task, or before ``run``
        (then ``run`` returns after ``on_start``/``on_stop`` without dispatching anything).
        """
        self._stop_requested = True
        if not self.is_live:
            if self._cancel_scope is not None:
                self._cancel_scope.cancel()
            return
        for scope in self._feed_scopes:
            scope.cancel()

    async def run(self) -> EngineStatistics:
        """Run until every feed ends, :meth:`stop` is called, or something fails.

        Cancelling the calling scope cancels the feeds and the dispatcher; ``on_stop`` is then
        not called.
        """
        if self._ran:
            raise EngineError("an engine runs once; build a new one for another run")
        self._ran = True
        with thresholds_for_a_run():
            return await self._run()

    async def _run(self) -> EngineStatistics:
        async with trio.open_nursery() as nursery:
            self._cancel_scope = nursery.cancel_scope
            senders: list[trio.MemorySendChannel[EventBatch]] = []
            receivers: list[trio.MemoryReceiveChannel[EventBatch]] = []
            if self.is_live:
                send, receive = trio.open_memory_channel[EventBatch](FEED_CHANNEL_BATCHES)
                async with send:
                    senders = [send.clone() for _ in self.feeds]
                receivers.append(receive)
            else:
                each = max(1, FEED_CHANNEL_BATCHES // len(self.feeds))
                for _ in self.feeds:
                    send, receive = trio.open_memory_channel[EventBatch](each)
                    senders.append(send)
                    receivers.append(receive)
            self._feed_scopes = [trio.CancelScope() for _ in self.feeds]
            if self._stop_requested:
                self.stop()
            for feed, send, scope in zip(self.feeds, senders, self._feed_scopes, strict=True):
                await nursery.start(self._run_feed, feed, send, scope)
            # Closing the receivers is synchronous (no checkpoint): while a strategy's
            # exception propagates, nothing may run that a cancellation could interrupt,
            # or Trio would replace the user's exception with Cancelled.
            try:
                with contextlib.ExitStack() as receiving:
                    for receive in receivers:
                        receiving.enter_context(receive)
                    await self._dispatch(receivers)
            except Exception as exc:
                note_hook_failure(exc, self.strategies, self._failed_event, self.event_clock.now())
                raise
            finally:
                self._dispatch_closed = True
        # Reached on natural end and after stop(); a failure has propagated out of the nursery.
        try:
            if not self._started:
                self._start_strategies()
            for strategy in self.strategies:
                strategy.on_stop()
        except Exception as exc:
            note_hook_failure(exc, self.strategies, None, self.event_clock.now())
            raise
        if self.skipped_on_resume:
            log.info(
                "%d bars, updates and quotes delivered before the restart were not delivered again",
                self.skipped_on_resume,
            )
        return self.statistics()

    async def _dispatch(self, receivers: list[trio.MemoryReceiveChannel[EventBatch]]) -> None:
        if self.is_live:
            self._start_strategies()
            self._after_step(())
            await self._dispatch_live(receivers[0])
        elif len(receivers) == 1:
            await self._dispatch_replay(receivers[0])
        else:
            await self._dispatch_merged(receivers)

    async def _run_feed(
        self,
        feed: Feed,
        send: trio.MemorySendChannel[EventBatch],
        scope: trio.CancelScope,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        # Each feed runs in its own scope so that a live stop() can end the feeds while the
        # dispatcher drains what they already sent.
        started = False

        class Status:
            def started(self, value: object = None) -> None:
                nonlocal started
                started = True
                task_status.started()

        with scope:
            try:
                await feed.run(send, task_status=Status())
            except* trio.BrokenResourceError:
                # The dispatcher closed the channel because it failed or stopped: its own
                # exception, if any, is the one that explains the run's end.
                if not self._dispatch_closed:
                    raise
        if not started:
            task_status.started()
        # A feed cancelled before it began never took ownership of its channel.
        await send.aclose()

    def statistics(self) -> EngineStatistics:
        """Counters so far."""
        return EngineStatistics(
            events=self._counts["events"],
            bars=self._bars,
            quotes=self._quotes,
            timers=self._counts["timers"],
            stopped_early=self._stop_requested,
        )

    # -- driving by hand ---------------------------------------------------------------------

    def start(self, at: int | None = None) -> None:
        """Start the strategies without running the feeds (``on_start``, with event time
        moved to ``at`` in replay), for a caller that delivers events itself with
        :meth:`deliver`, as :class:`~framework.testing.StrategyHarness` does."""
        if self._started:
            raise EngineError("the strategies have started already")
        self._ran = True
        self._start_strategies(at)

    def deliver(self, events: Sequence[Event]) -> None:
        """Deliver ``events`` in order as the dispatcher does (event time, due timers, the
        bus), after :meth:`start`; a strategy's exception propagates as itself."""
        if not self._started:
            raise EngineError("call start() before deliver()")
        self._dispatch_batch(events)

    # -- dispatch --------------------------------------------------------------------------

    def _start_strategies(self, first_ts: int | None = None) -> None:
        """Call ``on_start`` once; in replay the clock first moves to the first event's time,
        so timers set in ``on_start`` count from the start of the data, not from 1970."""
        self._started = True
        if first_ts is not None and isinstance(self.clock, SimulatedClock):
            self.clock.advance_to(first_ts)
        if len(self.strategies) > 1:
            self.books = StrategyBooks(self.portfolio, (s.strategy_id for s in self.strategies))
            self.books.attach(self.bus)
        for strategy in self.strategies:
            strategy._listen_to_orders()
            strategy.on_start()
            strategy._subscribe_defaults()
            state = self._saved_states.get(strategy.strategy_id)
            if state is not None:
                strategy.on_load(dict(state))
        for observer in self._observers:
            self.bus.subscribe(Event, observer)

    def _dispatch_batch(self, batch: Sequence[Event]) -> None:
        """The hot path: deliver a batch in order, moving event time and firing due timers.

        Only market data (bars, bar updates, quotes) moves event time: notifications carry
        receive times of this machine, which need not share the market's time base.
        """
        # EventBus.publish, inlined: one call less per event is a tenth of the per-bar cost.
        # The table is cleared in place when subscriptions change, so it stays current.
        routes = self.bus.routes
        compile_route = self.bus.compile_route
        clock = self.event_clock
        now = clock.now()  # only this loop and the timers it fires move event time
        # Live timers fire between batches; recorded ones arrive as events.
        timers = None if self.is_live else self.timers
        bars = quotes = updates = 0
        event = None
        try:
            for event in batch:
                cls = event.__class__
                if cls in _MARKET_DATA:
                    ts = event.ts_event
                    if ts > now:
                        if timers is not None and timers.due_hint <= ts:
                            self._counts["timers"] += timers.fire_due(ts, clock)
                        clock.time_ns = now = ts
                    if cls is Bar:
                        bars += 1
                    elif cls is Quote:
                        quotes += 1
                    else:
                        updates += 1
                catch_all, by_symbol = routes.get(cls) or compile_route(cls)
                if by_symbol is not None:
                    catch_all = by_symbol.get(event.symbol, catch_all)  # type: ignore[attr-defined]
                for handler in catch_all:
                    handler(event)
        except BaseException:
            # A hook that failed on a bar built from this event failed on that bar.
            self._failed_event = self.bus.take_interval_bar_in_flight() or event
            raise
        self._counts["events"] += len(batch)
        self._bars += bars
        self._quotes += quotes
        self._updates += updates

    async def _dispatch_replay(self, receive: trio.MemoryReceiveChannel[EventBatch]) -> None:
        async for batch in receive:
            if not self._started and batch:
                self._start_strategies(_first_market_time(batch))
            self._dispatch_batch(batch)

    async def _dispatch_merged(
        self, receivers: list[trio.MemoryReceiveChannel[EventBatch]]
    ) -> None:
        merge = FeedMerge(receivers)
        held = await merge.start()
        if held:
            self._start_strategies(min(_first_market_time(events) for events in held))
        await merge.run(self._dispatch_batch)

    async def _dispatch_live(self, receive: trio.MemoryReceiveChannel[EventBatch]) -> None:
        while True:
            due = self.timers.next_due
            batch: EventBatch | None = None
            if due == NEVER:
                try:
                    batch = await receive.receive()
                except trio.EndOfChannel:
                    return
            else:
                wait = max(0.0, (due - self.clock.now()) / 1e9)
                with trio.move_on_after(wait):
                    try:
                        batch = await receive.receive()
                    except trio.EndOfChannel:
                        return
            if batch is None:
                self._counts["timers"] += self.timers.fire_due(self.clock.now(), None)
                self._after_step(())
                continue
            self._dispatch_live_batch(batch)
            # At high rates batches queue up while one is dispatched: take them without
            # a task switch each, until the queue is empty or a timer is due.
            while self.timers.due_hint > self.clock.now():
                try:
                    batch = receive.receive_nowait()
                except (trio.WouldBlock, trio.EndOfChannel):
                    break
                self._dispatch_live_batch(batch)

    def _dispatch_live_batch(self, batch: Sequence[Event]) -> None:
        if self._delivered is not None:
            batch = self._already_delivered(batch)
        self._dispatch_batch(batch)
        self._after_step(batch)


_MARKET_DATA = frozenset({Bar, BarUpdate, Quote})


def _first_market_time(batch: Sequence[Event]) -> int:
    for event in batch:
        if event.__class__ in _MARKET_DATA:
            return event.ts_event
    return batch[0].ts_event


def run(
    strategy: Strategy | Sequence[Strategy],
    feeds: Feed | Sequence[Feed],
    *,
    cash: float = 100_000.0,
    **engine_options: Any,
) -> Engine:
    """Run strategies over feeds from synchronous code; returns the finished engine.

    A convenience for scripts: ``framework.run(SmaCross(), BarFileFeed(["aapl.csv"]))``.
    Inside a Trio program, build an :class:`Engine` and ``await engine.run()`` instead.
    """
    strategies = [strategy] if isinstance(strategy, Strategy) else list(strategy)
    feed_list = [feeds] if not isinstance(feeds, Sequence) else list(feeds)
    engine = Engine(feeds=feed_list, strategies=strategies, cash=cash, **engine_options)
    run_sync(engine.run)
    return engine
