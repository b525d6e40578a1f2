"""The paper journal: a paper-trading book written crash-safely, so a restarted session
resumes the same book or says clearly why it cannot.

The journal is a ``.twrec`` recording (docs/recording-format.md) whose records are all
``RecordKind.ORDER``, each one JSON object:

- ``{"type": "start", "cash": …}`` once, when the journal is first attached;
- ``{"type": "tx", …}`` once per broker transaction (a command, or the matching of one market
  event): the new state of every order it changed, its fills, the resulting position of
  each symbol that filled and the cash, the last price of each symbol it touched, and the
  kill-switch state when it changed.

A transaction is one record, and it is appended (one ``os.write``) **before** any of its
events reaches a strategy, so a crash at any point leaves the journal at a transaction
boundary. Restoring replays the fills into a fresh portfolio and checks the positions and
cash each record states: a journal that disagrees with itself is refused, not guessed at.

Use::

    journal = PaperJournal.open("paper.twrec")     # new, or an existing journal resumed
    broker = SimulatedBroker(Portfolio(cash), config)
    journal.restore(broker)                        # no-op for a new journal
    journal.attach(broker)                         # journal from now on
    ...                                            # run the engine with this broker
    journal.close()

A write error stops the session (the broker's command or market event raises
:class:`~framework.RecordingError`): trading on without a journal would break the promise.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson

from .._closing import ClosesOnExit
from .._errors import RecordingCorrupted, RecordingError
from .._events import Event, OrderFilled, OrderSide, TradingHalted, TradingResumed
from ..portfolio import Portfolio
from ..recording import Durability, RecordingWriter, RecordKind, read_recording
from ._orders import Order, OrderStatus, OrderType, PendingChange, TimeInForce, TriggerTerms
from ._simulated_broker import SimulatedBroker

#: ``meta["kind"]`` of a paper journal's header.
JOURNAL_KIND = "tradewire-paper-journal"
#: Version of the JSON records described above.
JOURNAL_VERSION = 1


class PaperJournalError(RecordingError):
    """A paper journal cannot be used: not a paper journal, inconsistent, or misused."""


@attrs.frozen(slots=True, kw_only=True)
class PaperBook:
    """What a paper journal holds: the state to resume.

    ``start_cash`` is None for a journal that was never attached. ``orders`` are in their
    last journalled state; ``fills`` in the order they happened; ``marks`` the last price
    journalled per symbol; ``halted`` the kill-switch reason if it was tripped.
    """

    start_cash: float | None
    orders: tuple[Order, ...]
    fills: tuple[OrderFilled, ...]
    marks: dict[str, float]
    halted: str | None
    records: int
    torn_tail_bytes: int

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
        if version != JOURNAL_VERSION:
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
    )


class PaperJournal(ClosesOnExit):
    """Journals a broker's orders, fills and positions; restores them after a restart."""

    def __init__(self, writer: RecordingWriter, book: PaperBook) -> None:
        self._writer = writer
        self._book = book
        self._broker: SimulatedBroker | None = None
        self._started = not book.is_empty
        self._restored = book.is_empty

    @classmethod
    def open(
        cls, path: str | os.PathLike[str], *, durability: Durability = Durability.GROUP
    ) -> PaperJournal:
        """Open the journal at ``path``: a new file, or an existing journal to resume.

        An existing journal is read and checked first (:func:`read_paper_journal`; its
        errors propagate and the file is left untouched), then a torn tail is truncated and
        appending continues after the last complete transaction. ``durability`` applies to a
        new file; ``GROUP`` fsyncs at most every 200 ms of appends (call :meth:`sync` when
        idle), ``STRICT`` on every transaction.
        """
        path = Path(path)
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

    def sync(self) -> None:
        """fsync what has been journalled (for ``GROUP`` durability when the session is idle)."""
        self._writer.sync()

    def close(self) -> None:
        """Detach from the broker and close the file (fsynced unless ``PROCESS``). Idempotent."""
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

    def _transaction(self, record: dict[str, Any]) -> None:
        portfolio = self._portfolio
        if portfolio is None:
            raise ValueError("a transaction before the start record")
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
