"""Quote merging: sparse entries into full snapshots; missing = unchanged, null = no value."""

from framework import Quote
from framework.adapters.insightsentry import (
    ABSENT,
    QuoteBook,
    QuoteBookStatistics,
    QuoteFields,
    QuotesFrame,
    decode_frame,
    encode_frame,
)

S = 1_000_000_000
MS = 1_000_000
RECV = 1_767_797_150 * S
FULL = QuoteFields(
    code="NASDAQ:AAPL",
    status="OPEN",
    lp_time_ns=1767797141 * S,
    last_price=261.37,
    bid=261.36,
    ask=261.38,
    bid_size=3.0,
    ask_size=5.0,
    volume=31829455.0,
)


def decoded(text: str) -> QuotesFrame:
    frame = decode_frame(text, recv_ns=RECV)
    assert isinstance(frame, QuotesFrame)
    return frame


def envelope(*entries: QuoteFields, last_update_ns: int | None = 1767797142517 * MS) -> QuotesFrame:
    """The quote envelope as the decoder gives it back from the wire."""
    sent = QuotesFrame(
        legacy=False, last_update_ns=last_update_ns, total_items=len(entries), entries=entries
    )
    return decoded(encode_frame(sent))


def test_full_entry_gives_a_full_quote():
    quotes, rejected = QuoteBook().on_quotes(envelope(FULL), RECV)
    assert rejected == []
    assert quotes == [
        Quote(
            symbol="NASDAQ:AAPL",
            bid=261.36,
            ask=261.38,
            bid_size=3.0,
            ask_size=5.0,
            last_price=261.37,
            volume=31829455.0,
            status="OPEN",
            ts_last=1767797141 * S,
            ts_event=1767797142517 * MS,
            ts_recv=RECV,
        )
    ]


def test_sparse_entry_changes_only_what_it_carries():
    book = QuoteBook()
    book.on_quotes(envelope(FULL), RECV)
    [quote], _ = book.on_quotes(envelope(QuoteFields(code="NASDAQ:AAPL", bid=261.30)), RECV + 1)
    assert (quote.bid, quote.ask, quote.last_price, quote.status) == (
        261.30,
        261.38,
        261.37,
        "OPEN",
    )
    assert quote.ts_last == 1767797141 * S


def test_explicit_null_clears_a_field():
    book = QuoteBook()
    book.on_quotes(envelope(FULL), RECV)
    [quote], _ = book.on_quotes(envelope(QuoteFields(code="NASDAQ:AAPL", bid=None)), RECV)
    assert (quote.bid, quote.ask) == (None, 261.38)
    snapshot = book.snapshot("NASDAQ:AAPL")
    assert snapshot is not None and snapshot.bid is None and snapshot.change is ABSENT


def test_first_sparse_entry_leaves_the_rest_unknown():
    [quote], _ = QuoteBook().on_quotes(envelope(QuoteFields(code="NASDAQ:TSLA", bid=402.11)), RECV)
    assert (quote.bid, quote.ask, quote.last_price, quote.ts_last) == (402.11, None, None, None)


def test_one_quote_per_entry_for_several_symbols():
    quotes, _ = QuoteBook().on_quotes(
        envelope(FULL, QuoteFields(code="NASDAQ:TSLA", bid=402.11, ask=402.19)), RECV
    )
    assert [q.symbol for q in quotes] == ["NASDAQ:AAPL", "NASDAQ:TSLA"]


def test_event_time_is_receive_time_without_last_update():
    [quote], _ = QuoteBook().on_quotes(envelope(FULL, last_update_ns=None), RECV)
    assert quote.ts_event == RECV


def test_legacy_flat_quote_merges_too():
    book = QuoteBook()
    flat = QuoteFields(code="NASDAQ:AAPL", lp_time_ns=1733432340 * S, bid=1.0)
    frame = decoded(
        encode_frame(
            QuotesFrame(legacy=True, last_update_ns=None, total_items=None, entries=(flat,))
        )
    )
    [quote], _ = book.on_quotes(frame, RECV)
    assert (quote.bid, quote.ts_last, quote.ts_event) == (1.0, 1733432340 * S, RECV)


def test_crossed_merge_is_rejected_but_kept_so_the_next_entry_fixes_it():
    book = QuoteBook()
    book.on_quotes(envelope(FULL), RECV)
    quotes, rejected = book.on_quotes(envelope(QuoteFields(code="NASDAQ:AAPL", bid=261.40)), RECV)
    assert quotes == [] and [r.reason for r in rejected] == ["invalid_quote"]
    [quote], _ = book.on_quotes(envelope(QuoteFields(code="NASDAQ:AAPL", ask=261.45)), RECV)
    assert (quote.bid, quote.ask) == (261.40, 261.45)
    assert book.statistics() == QuoteBookStatistics(quotes=2, rejected=1)


def test_unknown_code_is_rejected_and_not_merged():
    book = QuoteBook(["NASDAQ:AAPL"])
    quotes, rejected = book.on_quotes(
        envelope(FULL, QuoteFields(code="NASDAQ:TSLA", bid=1.0)), RECV
    )
    assert [q.symbol for q in quotes] == ["NASDAQ:AAPL"]
    assert [r.reason for r in rejected] == ["unknown_code"]
    assert book.snapshot("NASDAQ:TSLA") is None


def test_set_codes_drops_snapshots_of_removed_codes():
    book = QuoteBook()
    book.on_quotes(envelope(FULL), RECV)
    book.set_codes(["NASDAQ:TSLA"])
    assert book.snapshot("NASDAQ:AAPL") is None


def test_decoder_rejections_are_passed_on():
    frame = envelope(FULL, QuoteFields(code="NASDAQ:TSLA", bid=-1.0))
    quotes, rejected = QuoteBook().on_quotes(frame, RECV)
    assert len(quotes) == 1 and [r.reason for r in rejected] == ["negative_price"]
