"""Subscriptions: vendor rules at construction, CLI syntax, encoding and server-side parsing."""

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from framework import SubscriptionError
from framework._intervals import Interval
from framework.adapters.insightsentry import (
    INVALID_SUBSCRIPTIONS_TEXT,
    PlanLimits,
    Subscription,
    SubscriptionSet,
    WireDialect,
    encode_subscribe,
    parse_subscribe,
)

KEY = "sk-SECRET-0123456789"


def series(code: str = "NASDAQ:AAPL", interval: str = "1m", **options: object) -> Subscription:
    return Subscription(code=code, interval=Interval.parse(interval), **options)  # type: ignore[arg-type]


# -- construction rules ------------------------------------------------------------------------


def test_default_subscription_is_a_one_minute_series():
    sub = Subscription(code="NASDAQ:AAPL")
    assert (sub.type, sub.interval, sub.name) == ("series", Interval("minute", 1), "NASDAQ:AAPL@1m")


@pytest.mark.parametrize(
    "code",
    ["NASDAQ:AAPL", "CME_MINI:MNQ1!", "COINBASE:BTC-USD", "OPRA:AAPL260417P325.0", "SIP:AAPL"],
)
def test_vendor_code_examples_are_accepted(code):
    assert Subscription(code=code).code == code


@pytest.mark.parametrize(
    "code", ["AAPL", "nasdaq:aapl", "NASDAQ:", ":AAPL", "NAS DAQ:AAPL", "A:B\n"]
)
def test_code_breaking_the_pattern_is_refused(code):
    with pytest.raises(SubscriptionError, match="EXCHANGE:SYMBOL"):
        Subscription(code=code)


def test_lower_case_code_error_hints_at_upper_case():
    with pytest.raises(SubscriptionError, match="upper case"):
        Subscription(code="nasdaq:aapl")


@pytest.mark.parametrize(
    ("label", "name", "rule"),
    [
        ("5s", "NASDAQ:AAPL@5s", "second series takes length 1 only"),
        ("2T", "NASDAQ:AAPL@2T", "tick series takes length 1 only"),
        ("525600m", "NASDAQ:AAPL@525600m", "below one year"),
        ("8760h", "NASDAQ:AAPL@8760h", "below one year"),
        ("365D", "NASDAQ:AAPL@365D", "below one year"),
        ("52W", "NASDAQ:AAPL@52W", "below one year"),
        ("12M", "NASDAQ:AAPL@12M", "below one year"),
    ],
)
def test_interval_rules_name_the_subscription_and_the_rule(label, name, rule):
    with pytest.raises(SubscriptionError) as info:
        series(interval=label)
    assert name in str(info.value)
    assert rule in str(info.value)


@pytest.mark.parametrize("label", ["1s", "1T", "525599m", "8759h", "364D", "51W", "11M", "5m"])
def test_intervals_inside_the_rules_are_accepted(label):
    assert series(interval=label).interval.label == label


@pytest.mark.parametrize("flag", ["dadj", "split", "badj", "settlement"])
def test_series_flag_on_a_quote_is_refused(flag):
    with pytest.raises(SubscriptionError) as info:
        Subscription(code="NASDAQ:AAPL", type="quote", **{flag: True})  # type: ignore[arg-type]
    assert "NASDAQ:AAPL (quote)" in str(info.value)
    assert f"{flag} applies to series only" in str(info.value)


def test_bars_on_a_quote_is_refused():
    with pytest.raises(SubscriptionError, match=r"NASDAQ:AAPL \(quote\): bars applies to series"):
        Subscription(code="NASDAQ:AAPL", type="quote", bars=10)


def test_interval_on_a_quote_is_refused():
    with pytest.raises(SubscriptionError, match="interval 5m applies to series only"):
        Subscription(code="NASDAQ:AAPL", type="quote", interval=Interval("minute", 5))


def test_extended_is_allowed_on_a_quote():
    assert Subscription(code="NASDAQ:AAPL", type="quote", extended=False).extended is False


@pytest.mark.parametrize("bars", [0, 30_001, -1, True, 1.5])
def test_bars_out_of_range_is_refused(bars):
    with pytest.raises(SubscriptionError, match=r"NASDAQ:AAPL@1m: bars \(max_dp\) must be"):
        Subscription(code="NASDAQ:AAPL", bars=bars)


@pytest.mark.parametrize("bars", [1, 30_000])
def test_bars_at_the_limits_are_accepted(bars):
    assert Subscription(code="NASDAQ:AAPL", bars=bars).bars == bars


def test_string_boolean_option_is_refused_in_python():
    with pytest.raises(SubscriptionError, match="NASDAQ:AAPL@1m: extended must be true, false"):
        Subscription(code="NASDAQ:AAPL", extended="false")  # type: ignore[arg-type]


@pytest.mark.parametrize("kind", ["both", "quotes", "Series"])
def test_unknown_type_is_refused(kind):
    with pytest.raises(SubscriptionError, match="type must be 'series' or 'quote'"):
        Subscription(code="NASDAQ:AAPL", type=kind)  # type: ignore[arg-type]


# -- CLI syntax --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "interval"),
    [
        ("NASDAQ:AAPL", Interval("minute", 1)),
        ("NASDAQ:AAPL@1s", Interval("second", 1)),
        ("NASDAQ:AAPL@5m", Interval("minute", 5)),
        ("NASDAQ:AAPL@1h", Interval("hour", 1)),
        ("NASDAQ:AAPL@1D", Interval("day", 1)),
        ("NASDAQ:AAPL@1W", Interval("week", 1)),
        ("NASDAQ:AAPL@1M", Interval("month", 1)),
        ("NASDAQ:AAPL@tick", Interval("tick", 1)),
    ],
)
def test_cli_series_syntax(text, interval):
    sub = Subscription.parse_cli("series", text)
    assert sub == Subscription(code="NASDAQ:AAPL", interval=interval)


def test_cli_accepts_the_option_spelling_of_kind():
    assert Subscription.parse_cli("--series", "CME_MINI:MNQ1!@5m").name == "CME_MINI:MNQ1!@5m"
    assert Subscription.parse_cli("--quote", "NASDAQ:AAPL").type == "quote"


def test_cli_bad_interval_names_the_argument():
    with pytest.raises(SubscriptionError, match=r"--series 'NASDAQ:AAPL@5x': bad interval"):
        Subscription.parse_cli("series", "NASDAQ:AAPL@5x")


def test_cli_quote_with_interval_is_refused():
    with pytest.raises(SubscriptionError, match="a quote subscription takes no @INTERVAL"):
        Subscription.parse_cli("quote", "NASDAQ:AAPL@5m")


def test_cli_rule_violations_come_from_the_subscription():
    with pytest.raises(SubscriptionError, match="NASDAQ:AAPL@5s: a second series"):
        Subscription.parse_cli("series", "NASDAQ:AAPL@5s")


def test_cli_unknown_kind_is_refused():
    with pytest.raises(SubscriptionError, match="unknown subscription kind"):
        Subscription.parse_cli("news", "NASDAQ:AAPL")


# -- the whole list ----------------------------------------------------------------------------


def test_empty_set_is_refused():
    with pytest.raises(SubscriptionError, match="empty"):
        SubscriptionSet([])


def test_exact_duplicate_is_refused():
    with pytest.raises(SubscriptionError, match=r"NASDAQ:AAPL@5m is listed twice$"):
        SubscriptionSet([series(interval="5m"), series(interval="5m")])


def test_same_stream_with_different_options_is_refused():
    with pytest.raises(SubscriptionError, match="NASDAQ:AAPL@5m is listed twice with different"):
        SubscriptionSet(
            [series(interval="5m", extended=True), series(interval="5m", extended=False)]
        )


def test_duplicate_quote_is_refused():
    quote = Subscription(code="NASDAQ:AAPL", type="quote")
    with pytest.raises(SubscriptionError, match=r"NASDAQ:AAPL \(quote\) is listed twice"):
        SubscriptionSet([quote, quote])


def test_same_code_at_other_sizes_and_as_quote_is_fine():
    subs = SubscriptionSet(
        [
            series(interval="1m"),
            series(interval="5m"),
            Subscription(code="NASDAQ:AAPL", type="quote"),
        ]
    )
    assert len(subs) == 3
    assert subs.series_keys == {("NASDAQ:AAPL", "1m"), ("NASDAQ:AAPL", "5m")}
    assert subs.quote_codes == {"NASDAQ:AAPL"}


def quotes(n: int) -> list[Subscription]:
    return [Subscription(code=f"NASDAQ:Q{i}", type="quote") for i in range(n)]


def test_plan_limit_counts_one_unit_per_series_and_per_ten_quote_symbols():
    limits = PlanLimits(2)
    SubscriptionSet([series(), *quotes(10)], limits=limits)
    SubscriptionSet(quotes(20), limits=limits)
    with pytest.raises(SubscriptionError, match="need 3 plan units but the plan allows 2"):
        SubscriptionSet([series(), *quotes(11)], limits=limits)
    with pytest.raises(SubscriptionError, match="need 3 plan units"):
        SubscriptionSet([series(interval="1m"), series(interval="5m"), *quotes(1)], limits=limits)


def test_plan_limit_is_unchecked_by_default():
    assert len(SubscriptionSet(quotes(500))) == 500


# -- encoding ----------------------------------------------------------------------------------

SUBS = [
    series(
        interval="5m",
        bars=200,
        extended=False,
        dadj=False,
        split=True,
        badj=False,
        settlement=False,
    ),
    Subscription(code="NASDAQ:AAPL", type="quote"),
    series(code="BINANCE:BTCUSDT", interval="tick"),
]


def test_current_dialect_golden():
    assert encode_subscribe(KEY, SUBS) == (
        '{"api_key":"sk-SECRET-0123456789","subscriptions":['
        '{"code":"NASDAQ:AAPL","type":"series","bar_type":"minute","bar_interval":5,'
        '"extended":false,"dadj":false,"split":true,"badj":false,"settlement":false,"max_dp":200},'
        '{"code":"NASDAQ:AAPL","type":"quote"},'
        '{"code":"BINANCE:BTCUSDT","type":"series","bar_type":"tick","bar_interval":1}]}'
    )


def test_legacy_dialect_golden():
    assert encode_subscribe(KEY, SUBS, dialect=WireDialect.LEGACY) == (
        '{"api_key":"sk-SECRET-0123456789","subscriptions":['
        '{"code":"NASDAQ:AAPL","type":"series","interval_type":"minute","interval_length":5,'
        '"extended":false,"dadj":false,"split":true,"badj":false,"settlement":false,"max_dp":200},'
        '{"code":"NASDAQ:AAPL","type":"quote"},'
        '{"code":"BINANCE:BTCUSDT","type":"series","interval_type":"tick","interval_length":1}]}'
    )


def test_baseline_doc_message_shape():
    text = encode_subscribe(
        KEY, [series(), Subscription(code="NASDAQ:TSLA", type="quote")], dialect=WireDialect.LEGACY
    )
    assert orjson.loads(text) == {
        "api_key": KEY,
        "subscriptions": [
            {
                "code": "NASDAQ:AAPL",
                "type": "series",
                "interval_type": "minute",
                "interval_length": 1,
            },
            {"code": "NASDAQ:TSLA", "type": "quote"},
        ],
    }


def test_encoding_refuses_a_bad_list_without_leaking_the_key():
    with pytest.raises(SubscriptionError) as info:
        encode_subscribe(KEY, [series(), series()])
    assert KEY not in str(info.value)
    with pytest.raises(SubscriptionError) as info:
        encode_subscribe(KEY, [])
    assert KEY not in str(info.value)


def test_encoding_refuses_an_empty_key():
    with pytest.raises(SubscriptionError, match="API key"):
        encode_subscribe("", SUBS)


# -- server-side parsing -----------------------------------------------------------------------


def test_parse_current_spelling():
    key, subs = parse_subscribe(
        '{"api_key":"k","subscriptions":[{"code":"NASDAQ:AAPL","type":"series","bar_type":"minute",'
        '"bar_interval":5,"max_dp":200,"extended":false},{"code":"NASDAQ:AAPL","type":"quote"}]}'
    )
    assert key == "k"
    assert subs == [
        series(interval="5m", bars=200, extended=False),
        Subscription(code="NASDAQ:AAPL", type="quote"),
    ]


def test_parse_legacy_spelling_and_auth_field():
    key, subs = parse_subscribe(
        '{"auth":"k","subscriptions":[{"code":"NASDAQ:AAPL","type":"series",'
        '"interval_type":"hour","interval_length":2,"recent_bars":true}]}'
    )
    assert (key, subs) == ("k", [series(interval="2h")])


def test_parse_mistyped_interval_field_defaults_and_string_booleans():
    _, subs = parse_subscribe(
        '{"api_key":"k","subscriptions":[{"code":"NASDAQ:AAPL","interval":"day",'
        '"extended":"false","dadj":"TRUE","dp":"50"},{"code":"NASDAQ:MSFT"}]}'
    )
    assert subs == [
        series(interval="1D", extended=False, dadj=True, bars=50),
        series(code="NASDAQ:MSFT"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        '{"api_key":"k","subscriptions":[]}',
        '{"api_key":"k"}',
        '{"api_key":"k","subscriptions":{}}',
        '{"api_key":"k","subscriptions":null}',
    ],
)
def test_parse_empty_or_missing_subscriptions_gives_the_vendor_text(text):
    with pytest.raises(SubscriptionError) as info:
        parse_subscribe(text)
    assert str(info.value) == INVALID_SUBSCRIPTIONS_TEXT


@pytest.mark.parametrize(
    ("item", "message"),
    [
        ('{"code":"NASDAQ:AAPL","bar_type":"second","bar_interval":5}', "NASDAQ:AAPL@5s"),
        ('{"code":"NASDAQ:AAPL","bar_type":"fortnight"}', "unknown bar unit"),
        ('{"code":"NASDAQ:AAPL","extended":"maybe"}', "extended must be a boolean"),
        ('{"code":"NASDAQ:AAPL","max_dp":0}', "bars (max_dp) must be"),
        ('{"code":"NASDAQ:AAPL","max_dp":5,"dp":6}', "max_dp and dp disagree"),
        ('{"code":"NASDAQ:AAPL","type":"quote","bar_type":"minute"}', "series only"),
        ('{"code":"NASDAQ:AAPL","currency":"EUR"}', "unknown field"),
        ('{"type":"series"}', "code is missing"),
        ('"NASDAQ:AAPL"', "must be an object"),
    ],
)
def test_parse_bad_item_says_what_is_wrong_and_hides_the_key(item, message):
    with pytest.raises(SubscriptionError) as info:
        parse_subscribe(f'{{"api_key":"{KEY}","subscriptions":[{item}]}}')
    assert message in str(info.value)
    assert KEY not in str(info.value)


@pytest.mark.parametrize(
    "text",
    [
        f'{{"api_key":"{KEY}","subscriptions":[',
        f'["{KEY}"]',
        f'{{"api_key":"{KEY}","bogus":1,"subscriptions":[{{"code":"A:B"}}]}}',
        '{"api_key":5,"subscriptions":[{"code":"A:B"}]}',
        f'{{"api_key":"{KEY}","slow_consumer_policy":"drop","subscriptions":[{{"code":"A:B"}}]}}',
    ],
)
def test_parse_bad_message_never_leaks_the_key(text):
    with pytest.raises(SubscriptionError) as info:
        parse_subscribe(text)
    assert KEY not in str(info.value)
    assert info.value.__cause__ is None


def test_parse_accepts_slow_consumer_policy():
    _, subs = parse_subscribe(
        '{"api_key":"k","slow_consumer_policy":"adaptive","subscriptions":[{"code":"A:B"}]}'
    )
    assert subs == [Subscription(code="A:B")]


units = st.sampled_from(["second", "minute", "hour", "day", "week", "month", "tick"])
flags = st.none() | st.booleans()


@st.composite
def subscriptions(draw: st.DrawFn) -> Subscription:
    code = draw(st.from_regex(r"\A[A-Z0-9_]{1,6}:[A-Z0-9!.-]{1,8}\Z"))
    if draw(st.booleans()):
        return Subscription(code=code, type="quote", extended=draw(flags))
    unit = draw(units)
    limit = {"second": 1, "tick": 1, "minute": 1000, "hour": 100, "day": 364, "week": 51}.get(
        unit, 11
    )
    return Subscription(
        code=code,
        interval=Interval(unit, draw(st.integers(1, limit))),
        extended=draw(flags),
        dadj=draw(flags),
        split=draw(flags),
        badj=draw(flags),
        settlement=draw(flags),
        bars=draw(st.none() | st.integers(1, 30_000)),
    )


@given(
    st.lists(subscriptions(), min_size=1, max_size=5, unique_by=lambda s: s.stream_key),
    st.sampled_from(WireDialect),
)
def test_parse_of_encode_round_trips(subs, dialect):
    assert parse_subscribe(encode_subscribe(KEY, subs, dialect=dialect)) == (KEY, subs)
