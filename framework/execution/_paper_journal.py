"""The paper journal: a paper-trading book written crash-safely, so a restarted session
resumes the same book or says clearly why it cannot.

The journal is a ``.twrec`` recording (docs/recording-format.md) whose records are all
``RecordKind.ORDER``, each one JSON object:

- ``{"type": "start", "cash": …}`` once, when the journal is first attached;
- ``{"type": "tx", …}`` once per broker transaction (a command, or the matching of one market
  event): the new state of every order it changed, its fills, the resulting position of
  each symbol that filled and the cash, the last price of each symbol it touched, and the
  kill-switch state when it changed;
- ``{"type": "step", …}`` once per step of a live engine the journal follows
  (:meth:`PaperJournal.follow`): the step's transactions (as above), the last bar it
  delivered per series (``bars``: ``[symbol, interval, ts_open]``), the market time reached
  (``ts``) and each strategy's :meth:`~framework.Strategy.on_save` state that changed.

Without an engine to follow, a transaction is one record, appended (one ``os.write``)
**before** any of its events reaches a strategy, so a crash leaves the journal at a
transaction boundary. Following a live engine, a step is one record, appended after the
strategies handled the step and before the next one: a crash leaves the journal at a step
boundary, with the book, the bars delivered and the strategies' states all of the same
moment; the step that was cut short had no effect outside the process (the broker is
simulated) and is delivered again after the restart. Restoring replays the fills into a fresh
portfolio and checks the positions and cash each record states: a journal that disagrees with
itself is refused, not guessed at.

Use::

    journal = PaperJournal.open("paper.twrec")     # new, or an existing journal resumed
    broker = SimulatedBroker(Portfolio(cash), config)
    journal.restore(broker)                        # no-op for a new journal
    journal.attach(broker)                         # journal from now on
    journal.follow(engine)                         # live: one record per step, resume
    ...                                            # run the engine with this broker
    journal.commit()                               # after a clean end: the last commands
    journal.close()

A write error stops the session (the broker's command or market event raises
:class:`~framework.RecordingError`): trading on without a journal would break the promise.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Protocol

import attrs
import orjson

from .._closing import ClosesOnExit
from .._errors import RecordingCorrupted, RecordingError
from .._events import Bar, Event, OrderFilled, OrderSide, TradingHalted, TradingResumed
from ..portfolio import Portfolio
from ..recording import Durability, RecordingWriter, RecordKind, read_recording
from ..recording._format import MAX_HEADER_JSON_BYTES, PREAMBLE_SIZE, is_cut_short_header
from ._orders import Order, OrderStatus, OrderType, PendingChange, TimeInForce, TriggerTerms
from ._simulated_broker import SimulatedBroker


class Saving(Protocol):
    """What the journal needs of a strategy (the strategy module imports this package)."""

    @property
    def strategy_id(self) -> str: ...

    def on_save(self) -> dict[str, Any]: ...


class Engine(Protocol):
    """What :meth:`PaperJournal.follow` needs of :class:`framework.Engine` (named here
    structurally: the engine imports this package)."""

    @property
    def broker(self) -> SimulatedBroker: ...

    @property
    def strategies(self) -> Sequence[Saving]: ...

    @property
    def event_clock(self) -> Any: ...

    def add_step_listener(self, listener: Callable[[Sequence[Event]], None]) -> None: ...

    def resume_after(self, delivered: Mapping[tuple[str, str], int], market_ts: int) -> None: ...

    def load_states(self, states: Mapping[str, dict[str, Any]]) -> None: ...


log = logging.getLogger(__name__)

#: ``meta["kind"]`` of a paper journal's header.
JOURNAL_KIND = "tradewire-paper-journal"
#: Version of the JSON records described above, written in the header: 2 added ``step``
#: records. This code reads 1 and 2.
JOURNAL_VERSION = 2
_READABLE_VERSIONS = (1, 2)


class PaperJournalError(RecordingError):
    """A paper journal cannot be used: not a paper journal, inconsistent, or misused."""


@attrs.frozen(slots=True, kw_only=True)
class PaperBook:
    """What a paper journal holds: the state to resume.

    ``start_cash`` is None for a journal that was never attached. ``orders`` are in their
    last journalled state; ``fills`` in the order they happened; ``marks`` the last price
    journalled per symbol; ``halted`` the kill-switch reason if it was tripped.
    ``delivered`` is the open time of the last bar delivered per ``(symbol, interval)``,
    ``market_ts`` the latest market time journalled (None before any), ``states`` the last
    saved state of each strategy, by name.
    """

    start_cash: float | None
    orders: tuple[Order, ...]
    fills: tuple[OrderFilled, ...]
    marks: dict[str, float]
    halted: str | None
    records: int
    torn_tail_bytes: int
    delivered: dict[tuple[str, str], int] = attrs.field(factory=dict)
    market_ts: int | None = None
    states: dict[str, dict[str, Any]] = attrs.field(factory=dict)

    @property
    def is_empty(self) -> bool:
        """True for a journal with nothing to restore."""
        return self.start_cash is None

    @property
    def open_orders(self) -> list[Order]:
        """The orders that were still open."""
        return [o for o in self.orders if o.is_open]


def read_paper_journal(path: str | os.PathLike[str]) -> PaperBook:
    """Read and check a paper journal without opening it for writing.

    A torn tail (a crash mid-write) is ignored: the book is the last complete transaction.
    Raises :class:`~framework.RecordingCorrupted` for mid-file damage and
    :class:`PaperJournalError` for a file that is not a consistent paper journal; both
    messages start with "cannot restore the paper book from PATH".
    """
    path = Path(path)
    what = f"cannot restore the paper book from {path}"
    try:
        recording = read_recording(path)
        if recording.meta.get("kind") != JOURNAL_KIND:
            raise PaperJournalError(f"{what}: not a paper journal (a recording of another kind)")
        version = recording.meta.get("version")
        if isinstance(version, int) and version > JOURNAL_VERSION:
            raise PaperJournalError(
                f"{what}: journal version {version} was written by a newer tradewire (this one "
                f"reads versions up to {JOURNAL_VERSION}); upgrade with `pip install -U tradewire`"
            )
        if version not in _READABLE_VERSIONS:
            raise PaperJournalError(f"{what}: journal version {version!r} is not supported")
        replay = _Replay(what)
        for record in recording:
            if record.kind is not RecordKind.ORDER:
                raise PaperJournalError(f"{what}: record {record.seq} is {record.kind.name}")
            replay.apply(record.seq, record.payload)
        replay.finish()
    except RecordingCorrupted as exc:
        if str(exc).startswith(what):
            raise
        raise RecordingCorrupted(
            f"{what}: {exc}. The book cannot be trusted past the damage; start a new journal"
        ) from exc
    except PaperJournalError:
        raise
    except RecordingError as exc:
        raise PaperJournalError(f"{what}: {exc}") from exc
    return PaperBook(
        start_cash=replay.start_cash,
        orders=tuple(replay.orders[i] for i in sorted(replay.orders)),
        fills=tuple(replay.fills),
        marks=dict(replay.marks),
        halted=replay.halted,
        records=recording.report.records,
        torn_tail_bytes=recording.report.torn_tail_bytes,
        delivered=dict(replay.delivered),
        market_ts=replay.market_ts,
        states=dict(replay.states),
    )


class PaperJournal(ClosesOnExit):
    """Journals a broker's orders, fills and positions; restores them after a restart."""

    def __init__(self, writer: RecordingWriter, book: PaperBook) -> None:
        self._writer = writer
        self._book = book
        self._broker: SimulatedBroker | None = None
        self._started = not book.is_empty
        self._restored = book.is_empty
        #: Following a live engine: the step's transactions, written when it ends.
        self._engine: Engine | None = None
        self._pending: list[dict[str, Any]] | None = None
        self._savers: Sequence[Saving] = ()
        self._saved: dict[str, Any] = dict(book.states)

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, durability: Durability = Durability.GROUP
    ) -> PaperJournal:
        """Open the journal at ``path``: a new file, or an existing journal to resume.

        An existing journal is read and checked first (:func:`read_paper_journal`; its
        errors propagate and the file is left untouched), then a torn tail is truncated and
        appending continues after the last complete transaction. ``durability`` applies to a
        new file; ``GROUP`` fsyncs at most every 200 ms of appends (call :meth:`sync` when
        idle), ``STRICT`` on every transaction. A file whose header a crash cut short while it
        was being created holds no record: it is replaced by a new journal (logged).
        """
        path = Path(path)
        if path.exists() and _cut_short_at_creation(path):
            # A kill while the journal was being created: no record was ever written, so
            # nothing is lost by starting it again (refusing would need the user to delete it).
            log.warning(
                "%s: its header was cut short by a crash when it was created and it holds no "
                "record; starting a new journal",
                path,
            )
            path.unlink()
        if path.exists():
            book = read_paper_journal(path)
            writer = RecordingWriter.resume(path)
        else:
            book = PaperBook(
                start_cash=None,
                orders=(),
                fills=(),
                marks={},
                halted=None,
                records=0,
                torn_tail_bytes=0,
            )
            meta = {"kind": JOURNAL_KIND, "version": JOURNAL_VERSION}
            writer = RecordingWriter.open(path, meta=meta, durability=durability)
        return cls(writer, book)

    @property
    def path(self) -> Path:
        """Where the journal is."""
        return self._writer.path

    @property
    def book(self) -> PaperBook:
        """The book read when the journal was opened (empty for a new journal)."""
        return self._book

    def restore(self, broker: SimulatedBroker) -> None:
        """Load the book into ``broker``, which must be new (no orders, no fills).

        The portfolio is rebuilt by replaying the journalled fills from the journalled start
        cash (its own start cash is replaced); open orders resume working, with their OCO
        links and bracket exits; the kill switch stays tripped if it was. Strategies must be
        registered under the same names to receive their orders' events. Positions are
        valued at the last journalled price until the next market event.
        """
        if self._book.is_empty:
            self._restored = True
            return
        portfolio = broker.portfolio
        if broker.orders() or portfolio.fills or portfolio.positions:
            raise PaperJournalError(
                f"cannot restore the paper book from {self.path} into a broker that already "
                "has orders or fills: restore into a new broker"
            )
        assert self._book.start_cash is not None
        portfolio.start_cash = portfolio.cash = self._book.start_cash
        for fill in self._book.fills:
            portfolio.apply_fill(fill)
        portfolio.last_price.update(self._book.marks)
        broker.restore([_copy(o) for o in self._book.orders], self._book.halted)
        self._restored = True

    def attach(self, broker: SimulatedBroker) -> None:
        """Journal every transaction of ``broker`` from now on.

        A journal that holds a book must first be restored into this broker; a broker has
        at most one journal.
        """
        if not self._restored:
            raise PaperJournalError(
                f"{self.path} holds a paper book: call restore(broker) before attach(broker)"
            )
        if broker.has_transaction_hook:
            raise PaperJournalError("this broker already has a journal attached")
        if not self._started:
            self._append({"type": "start", "cash": broker.portfolio.start_cash})
            self._started = True
        self._broker = broker
        broker.set_transaction_hook(self._on_transaction)

    def follow(self, engine: Engine) -> None:
        """Journal a live ``engine`` step by step, and resume it where the book left off.

        Call after :meth:`attach` with the engine that runs the attached broker, before it
        runs. From then on each step (the start, a batch of market data, a round of timers)
        is one record: its transactions, the last bar it delivered per series and the
        strategies' changed :meth:`~framework.Strategy.on_save` states, written when the
        step ends. A journal that holds a book makes the engine skip what was delivered before
        (:meth:`~framework.Engine.resume_after`) and gives the strategies their states
        (:meth:`~framework.Engine.load_states`). After a clean end call :meth:`commit` for
        what ``on_stop`` did.
        """
        if self._broker is None or engine.broker is not self._broker:
            raise PaperJournalError("follow(engine) needs the engine of the attached broker")
        if self._engine is not None:
            raise PaperJournalError("this journal already follows an engine")
        book = self._book
        if not book.is_empty:
            market_ts = max(book.market_ts or 0, max((f.ts_event for f in book.fills), default=0))
            engine.resume_after(book.delivered, market_ts)
            engine.load_states(book.states)
        engine.add_step_listener(self._commit_step)
        self._engine = engine
        self._pending = []
        self._savers = engine.strategies

    def commit(self) -> None:
        """Write what happened since the last step (``on_stop``'s orders, say) as one step."""
        if self._engine is not None:
            self._commit_step(())

    def _commit_step(self, events: Sequence[Event]) -> None:
        engine = self._engine
        pending = self._pending
        assert engine is not None and pending is not None
        delivered: dict[tuple[str, str], int] = {}
        for event in events:
            if event.__class__ is Bar:
                delivered[(event.symbol, event.interval)] = event.ts_open
        states: dict[str, Any] = {}
        for strategy in self._savers:
            # A copy through JSON: what the journal will hold, and safe from later mutation of
            # the dict the strategy returned.
            state = _as_json(strategy, strategy.on_save())
            saved = self._saved.get(strategy.strategy_id)
            if state != saved and (state or saved is not None):  # nothing saved, nothing written
                states[strategy.strategy_id] = state
        if not (pending or delivered or states):
            return
        record: dict[str, Any] = {"type": "step", "ts": engine.event_clock.now(), "tx": pending}
        if delivered:
            record["bars"] = [[sym, interval, ts] for (sym, interval), ts in delivered.items()]
        if states:
            record["state"] = states
        self._append(record)
        self._pending = []
        self._saved.update(states)

    def sync(self) -> None:
        """fsync what has been journalled (for ``GROUP`` durability when the session is idle)."""
        self._writer.sync()

    def close(self) -> None:
        """Detach from the broker and close the file (fsynced unless ``PROCESS``). Idempotent.

        Following an engine, transactions of a step that never ended (the run failed) are
        not written: after a restart that step is delivered again."""
        if self._pending:
            log.warning(
                "%s: %d transactions of an unfinished step not journalled; a restart delivers "
                "that step again",
                self.path,
                len(self._pending),
            )
        self._engine = self._pending = None
        if self._broker is not None:
            self._broker.set_transaction_hook(None)
            self._broker = None
        self._writer.close()

    def _on_transaction(self, orders: Sequence[Order], events: Sequence[Event]) -> None:
        broker = self._broker
        assert broker is not None
        portfolio = broker.portfolio
        fills = [e for e in events if isinstance(e, OrderFilled)]
        record: dict[str, Any] = {
            "type": "tx",
            "ts": broker.now(),
            "orders": [_order_to_json(o) for o in orders],
            "fills": [_fill_to_json(f) for f in fills],
        }
        if fills:
            positions = portfolio.positions
            record["positions"] = {
                s: [positions[s].qty, positions[s].avg_price, positions[s].realized_pnl]
                for s in sorted({f.symbol for f in fills})
            }
            record["cash"] = portfolio.cash
        last = portfolio.last_price
        symbols = sorted({o.symbol for o in orders if o.symbol in last})
        if symbols:
            record["marks"] = {s: last[s] for s in symbols}
        for event in events:
            if isinstance(event, TradingHalted):
                record["halted"] = event.reason
            elif isinstance(event, TradingResumed):
                record["halted"] = None
        if self._pending is not None:
            self._pending.append(record)
        else:
            self._append(record)

    def _append(self, record: dict[str, Any]) -> None:
        self._writer.append(
            RecordKind.ORDER, orjson.dumps(record), time.time_ns(), time.monotonic_ns()
        )


class _Replay:
    """Rebuilds a book record by record, checking each against the fills so far."""

    def __init__(self, what: str) -> None:
        self._what = what
        self._portfolio: Portfolio | None = None
        self.start_cash: float | None = None
        self.orders: dict[int, Order] = {}
        self.fills: list[OrderFilled] = []
        self.marks: dict[str, float] = {}
        self.halted: str | None = None
        self.delivered: dict[tuple[str, str], int] = {}
        self.market_ts: int | None = None
        self.states: dict[str, dict[str, Any]] = {}

    def apply(self, seq: int, payload: bytes) -> None:
        try:
            record = orjson.loads(payload)
            kind = record["type"]
            if kind == "start":
                if self._portfolio is not None:
                    raise ValueError("a second start record")
                self.start_cash = float(record["cash"])
                self._portfolio = Portfolio(self.start_cash)
            elif kind == "tx":
                self._transaction(record)
            elif kind == "step":
                self._step(record)
            else:
                raise ValueError(f"unknown record type {kind!r}")
        except PaperJournalError:
            raise
        except (ValueError, KeyError, TypeError) as exc:
            raise PaperJournalError(f"{self._what}: record {seq} is not valid: {exc}") from exc
        except _Mismatch as exc:
            raise PaperJournalError(
                f"{self._what}: record {seq} disagrees with the fills before it: {exc}"
            ) from None

    def _step(self, record: dict[str, Any]) -> None:
        for transaction in record["tx"]:
            self._transaction(transaction)
        for symbol, interval, ts_open in record.get("bars", ()):
            self.delivered[(str(symbol), str(interval))] = int(ts_open)
        for name, state in record.get("state", {}).items():
            if not isinstance(state, dict):
                raise ValueError(f"state of {name!r} is not an object")
            self.states[str(name)] = state
        self._reached(int(record["ts"]))

    def _reached(self, ts: int) -> None:
        if self.market_ts is None or ts > self.market_ts:
            self.market_ts = ts

    def _transaction(self, record: dict[str, Any]) -> None:
        portfolio = self._portfolio
        if portfolio is None:
            raise ValueError("a transaction before the start record")
        self._reached(int(record["ts"]))
        for data in record["orders"]:
            order = _order_from_json(data)
            self.orders[order.order_id] = order
        for data in record["fills"]:
            fill = _fill_from_json(data)
            owner = self.orders.get(fill.order_id)
            if owner is None:
                raise ValueError(f"a fill of unknown order {fill.order_id}")
            # The journal keeps the strategy once, with the order.
            fill = attrs.evolve(fill, strategy_id=owner.strategy_id)
            portfolio.apply_fill(fill)
            self.fills.append(fill)
        for symbol, (qty, avg, realized) in record.get("positions", {}).items():
            pos = portfolio.position(symbol)
            for name, stated, replayed in (
                ("quantity", qty, pos.qty),
                ("average price", avg, pos.avg_price),
                ("realised PnL", realized, pos.realized_pnl),
            ):
                if not _close(stated, replayed):
                    raise _Mismatch(f"{symbol} {name} is {stated!r}, the fills give {replayed!r}")
        if "cash" in record and not _close(record["cash"], portfolio.cash):
            raise _Mismatch(f"cash is {record['cash']!r}, the fills give {portfolio.cash!r}")
        self.marks.update(record.get("marks", {}))
        if "halted" in record:
            self.halted = record["halted"]

    def finish(self) -> None:
        filled: dict[int, float] = {}
        for fill in self.fills:
            filled[fill.order_id] = filled.get(fill.order_id, 0.0) + fill.qty
        for order in self.orders.values():
            if not _close(order.filled_qty, filled.get(order.order_id, 0.0)):
                raise PaperJournalError(
                    f"{self._what}: order {order.order_id} says {order.filled_qty!r} filled, "
                    f"its fills add up to {filled.get(order.order_id, 0.0)!r}"
                )


class _Mismatch(Exception):
    pass


def _cut_short_at_creation(path: Path) -> bool:
    with path.open("rb") as file:
        start = file.read(PREAMBLE_SIZE + MAX_HEADER_JSON_BYTES + 4)
    return is_cut_short_header(start)


def _as_json(strategy: Saving, state: object) -> dict[str, Any]:
    """``state`` as the journal will hold it (through JSON); a clear error naming the hook if
    it is not a dict JSON can hold."""
    where = f"{type(strategy).__name__}.on_save() (strategy {strategy.strategy_id!r})"
    if not isinstance(state, dict):
        raise PaperJournalError(f"{where} must return a dict, got {type(state).__name__}")
    try:
        copy: dict[str, Any] = orjson.loads(orjson.dumps(state))
    except orjson.JSONEncodeError as exc:
        raise PaperJournalError(f"{where} returned a state JSON cannot hold: {exc}") from None
    return copy


def _close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _copy(order: Order) -> Order:
    return attrs.evolve(order, pending=list(order.pending))


#: The trigger terms of trailing stops and market-if-touched orders, by journal key: written
#: only when set, so an ordinary order's record is as before, and optional on read, so a
#: journal written before they existed loads.
_TRIGGER_KEYS = (
    ("trail", "trail_offset"),
    ("trail_percent", "trail_percent"),
    ("limit_offset", "limit_offset"),
    ("touch", "touch_price"),
)


def _order_to_json(order: Order) -> dict[str, Any]:
    data = {
        "id": order.order_id,
        "strategy": order.strategy_id,
        "symbol": order.symbol,
        "side": order.side.value,
        "qty": order.qty,
        "type": order.type.value,
        "limit": order.limit_price,
        "stop": order.stop_price,
        "tif": order.tif.value,
        "ts_submitted": order.ts_submitted,
        "ts_active": order.ts_active,
        "expire_at": order.expire_at,
        "status": order.status.value,
        "filled_qty": order.filled_qty,
        "filled_value": order.filled_value,
        "commission": order.commission,
        "triggered": order.is_triggered,
        "parent": order.parent_id,
        "children": list(order.child_ids),
        "oco": order.oco_id,
        "reason": order.reason,
        "pending": [[c.at, c.cancel, c.qty, c.limit_price, c.stop_price] for c in order.pending],
    }
    terms = order.trigger_terms
    if terms is not None:
        for key, name in _TRIGGER_KEYS:
            value = getattr(terms, name)
            if value is not None:
                data[key] = value
    return data


def _order_from_json(data: dict[str, Any]) -> Order:
    order = Order(
        order_id=int(data["id"]),
        strategy_id=str(data["strategy"]),
        symbol=str(data["symbol"]),
        side=OrderSide(data["side"]),
        qty=float(data["qty"]),
        type=OrderType(data["type"]),
        limit_price=data["limit"],
        stop_price=data["stop"],
        tif=TimeInForce(data["tif"]),
        ts_submitted=int(data["ts_submitted"]),
        ts_active=int(data["ts_active"]),
        expire_at=data["expire_at"],
        status=OrderStatus(data["status"]),
        filled_qty=float(data["filled_qty"]),
        filled_value=float(data["filled_value"]),
        commission=float(data["commission"]),
        is_triggered=bool(data["triggered"]),
        parent_id=data["parent"],
        child_ids=tuple(int(i) for i in data["children"]),
        oco_id=data["oco"],
        reason=str(data["reason"]),
        pending=[
            PendingChange(at=int(at), cancel=bool(cancel), qty=qty, limit_price=lim, stop_price=stp)
            for at, cancel, qty, lim, stp in data["pending"]
        ],
    )
    terms = {name: float(data[key]) for key, name in _TRIGGER_KEYS if data.get(key) is not None}
    if terms:
        order.trigger_terms = TriggerTerms(**terms)
    return order


def _fill_to_json(fill: OrderFilled) -> dict[str, Any]:
    return {
        "order": fill.order_id,
        "symbol": fill.symbol,
        "side": fill.side.value,
        "qty": fill.qty,
        "price": fill.price,
        "commission": fill.commission,
        "ts_event": fill.ts_event,
        "ts_recv": fill.ts_recv,
        "guess": fill.is_intrabar_guess,
    }


def _fill_from_json(data: dict[str, Any]) -> OrderFilled:
    return OrderFilled(
        order_id=int(data["order"]),
        symbol=str(data["symbol"]),
        side=OrderSide(data["side"]),
        qty=float(data["qty"]),
        price=float(data["price"]),
        commission=float(data["commission"]),
        ts_event=int(data["ts_event"]),
        ts_recv=int(data["ts_recv"]),
        is_intrabar_guess=bool(data["guess"]),
    )
