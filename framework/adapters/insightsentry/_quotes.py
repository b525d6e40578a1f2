"""Quote merging: sparse quote entries in, full :class:`~framework.Quote` snapshots out.

Quote entries may carry only the fields that changed (protocol 3.6, 9.9). :class:`QuoteBook`
keeps one snapshot per code and merges each entry into it: a field the entry does not carry is
unchanged, an explicit ``null`` clears it. Every entry yields one ``Quote`` built from the merged
snapshot. ``ts_event`` is the envelope's ``last_update`` (else the receive time); ``ts_last`` is
the merged ``lp_time``.

The book mirrors the server even when a merged snapshot is not a valid ``Quote`` (for example
bid above ask until the other side's update arrives): the merge is kept, the quote is not
emitted, and a :class:`~framework.DecodeError` with reason ``invalid_quote`` is returned among
the rejections.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import attrs

from ..._errors import DecodeError, InvalidEvent
from ..._events import Quote
from ._codec import log_safe
from ._frame_records import ABSENT, QUOTE_FIELD_NAMES, QuoteFields, QuotesFrame


@attrs.frozen(slots=True, kw_only=True)
class QuoteBookStatistics:
    """Counters of a :class:`QuoteBook` since it was created."""

    #: Quotes emitted.
    quotes: int
    #: Entries rejected: by the decoder, for an unknown code, or as an invalid merged quote.
    rejected: int


class QuoteBook:
    """Merges sparse quote entries per code into full snapshots; sans-IO.

    ``codes``, when given, lists the codes subscribed to; entries for other codes are rejected
    (reason ``unknown_code``) and not merged.
    """

    def __init__(self, codes: Iterable[str] | None = None) -> None:
        self._allowed: frozenset[str] | None = None
        self._books: dict[str, dict[str, Any]] = {}
        self._quotes = self._rejected = 0
        self.set_codes(codes)

    def set_codes(self, codes: Iterable[str] | None) -> None:
        """Replace the allowed codes (after a new subscription); others' snapshots are dropped."""
        if codes is None:
            self._allowed = None
            return
        allowed = self._allowed = frozenset(codes)
        # A new dict, not deletions: a dict never gives back the table it grew to.
        self._books = {code: book for code, book in self._books.items() if code in allowed}

    def statistics(self) -> QuoteBookStatistics:
        """A snapshot of the counters."""
        return QuoteBookStatistics(quotes=self._quotes, rejected=self._rejected)

    def snapshot(self, code: str) -> QuoteFields | None:
        """The merged state of ``code`` (fields never received are ``ABSENT``), or None."""
        book = self._books.get(code)
        return None if book is None else QuoteFields(code=code, **book)

    def on_quotes(self, frame: QuotesFrame, recv_ns: int) -> tuple[list[Quote], list[DecodeError]]:
        """Merge every entry of ``frame``; returns ``(quotes, rejections)``.

        ``rejections`` includes the entries the decoder already rejected (``frame.rejected``),
        so the caller has one list to report.
        """
        quotes: list[Quote] = []
        rejections = list(frame.rejected)
        ts_event = frame.last_update_ns if frame.last_update_ns is not None else recv_ns
        for entry in frame.entries:
            code = entry.code
            if self._allowed is not None and code not in self._allowed:
                rejections.append(
                    DecodeError("unknown_code", log_safe(f"no quote subscription for {code}"))
                )
                continue
            book = self._books.setdefault(code, {})
            for name in QUOTE_FIELD_NAMES:
                value = getattr(entry, name)
                if value is not ABSENT:
                    book[name] = value
            try:
                quote = Quote(
                    symbol=code,
                    bid=book.get("bid"),
                    ask=book.get("ask"),
                    bid_size=book.get("bid_size"),
                    ask_size=book.get("ask_size"),
                    last_price=book.get("last_price"),
                    volume=book.get("volume"),
                    status=book.get("status"),
                    ts_last=book.get("lp_time_ns"),
                    ts_event=ts_event,
                    ts_recv=recv_ns,
                )
            except InvalidEvent as exc:
                rejections.append(DecodeError("invalid_quote", log_safe(str(exc))))
                continue
            quotes.append(quote)
        self._quotes += len(quotes)
        self._rejected += len(rejections)
        return quotes, rejections
