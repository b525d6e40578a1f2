"""The API key never shows: not in repr/str/format, not pickled, not in frames, not in logs."""

from __future__ import annotations

import copy
import hashlib
import io
import logging
import pickle
from collections.abc import Iterator

import orjson
import pytest

from framework import ConfigError
from framework._secret import as_secret, secret_filter
from framework.recording import Secret, SecretFilter, install_secret_filter, redact

KEY = "sk_live_4f9a1c2b7e6d5a8f"
MARKER = f"<redacted:{hashlib.sha256(KEY.encode()).hexdigest()[:4]}>"


def test_secret_is_masked_everywhere_it_could_be_printed() -> None:
    secret = Secret(KEY)
    percent = "%s" % secret  # noqa: UP031 - %-formatting is what logging does
    shown = [repr(secret), str(secret), f"{secret}", f"{secret:>40}", percent, str([secret])]
    for text in shown:
        assert KEY not in text
        assert MARKER in text
    assert secret.reveal() == KEY
    assert secret.fingerprint == MARKER[10:14]


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_secret_cannot_be_pickled(protocol: int) -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(KEY), protocol=protocol)


def test_copies_of_a_secret_are_the_secret() -> None:
    secret = Secret(KEY)
    assert copy.copy(secret) is secret
    assert copy.deepcopy({"k": secret})["k"] is secret


def test_secret_refuses_an_empty_value() -> None:
    with pytest.raises(ValueError):
        Secret("")


def test_as_secret_wraps_a_string_and_keeps_a_secret() -> None:
    secret = Secret(KEY)
    assert as_secret(secret) is secret
    assert as_secret(KEY).reveal() == KEY
    for empty in ("", "   ", None):
        with pytest.raises(ConfigError, match="the vendor key is empty"):
            as_secret(empty, name="vendor key")  # type: ignore[arg-type]


def test_redact_replaces_every_occurrence_with_the_fingerprint_marker() -> None:
    frame = orjson.dumps({"api_key": KEY, "echo": f"{KEY}/{KEY}"}).decode()
    redacted = redact(frame, Secret(KEY))
    assert KEY not in redacted
    assert orjson.loads(redacted) == {"api_key": MARKER, "echo": f"{MARKER}/{MARKER}"}
    assert redact("nothing here", Secret(KEY)) == "nothing here"


def test_redact_catches_the_json_escaped_form_of_a_key() -> None:
    odd = 'key"with\\quote'
    frame = orjson.dumps({"api_key": odd}).decode()
    redacted = redact(frame, Secret(odd))
    assert "with" not in redacted
    assert orjson.loads(redacted)["api_key"].startswith("<redacted:")


@pytest.fixture
def captured() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    handler.addFilter(SecretFilter(Secret(KEY)))
    logger = logging.getLogger("tests.recording.redact")
    logger.addHandler(handler)
    logger.propagate = False
    logger.setLevel(logging.DEBUG)
    yield logger, stream
    logger.removeHandler(handler)
    logger.propagate = True


def test_filter_scrubs_the_message_and_percent_args(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, stream = captured
    logger.debug(f"sending key {KEY}")
    logger.debug("subscribe %s", {"api_key": KEY})
    logger.debug("key=%(key)s", {"key": KEY})
    logger.debug("unrelated %d", 42)
    text = stream.getvalue()
    assert KEY not in text
    assert text.count(MARKER) == 3
    assert "unrelated 42" in text


def test_filter_scrubs_exception_text(captured: tuple[logging.Logger, io.StringIO]) -> None:
    logger, stream = captured
    try:
        raise RuntimeError(f"server rejected key {KEY}")
    except RuntimeError:
        logger.exception("subscribe failed")
    text = stream.getvalue()
    assert KEY not in text
    assert "RuntimeError: server rejected key " + MARKER in text


def test_filter_scrubs_args_even_when_the_format_is_broken(
    captured: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, _ = captured
    record = logger.makeRecord(logger.name, logging.INFO, __file__, 1, "%d %d", (KEY,), None)
    SecretFilter(Secret(KEY)).filter(record)
    assert record.args == (MARKER,)


def test_install_covers_root_and_its_handlers_and_is_idempotent() -> None:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    try:
        installed = install_secret_filter(Secret(KEY))
        again = install_secret_filter(Secret(KEY))
        assert again is installed
        assert handler.filters.count(installed) == 1
        assert root.filters.count(installed) == 1
        logging.getLogger("some.library").warning("url=https://x/?key=%s", KEY)  # child logger
        root.warning("root %s", KEY)
        assert KEY not in stream.getvalue()
        assert stream.getvalue().count(MARKER) == 2
    finally:
        root.setLevel(old_level)
        root.removeHandler(handler)
        for target in (root, *root.handlers):
            for existing in list(target.filters):
                if isinstance(existing, SecretFilter):
                    target.removeFilter(existing)


def secret_filters(target: logging.Filterer) -> list[logging.Filter]:
    return [f for f in target.filters if isinstance(f, SecretFilter)]


@pytest.fixture
def root_handler() -> Iterator[tuple[logging.Handler, io.StringIO]]:
    root = logging.getLogger()
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.DEBUG)
    yield handler, stream
    root.setLevel(old_level)
    root.removeHandler(handler)


def test_secret_filter_scrubs_only_while_the_block_runs(
    root_handler: tuple[logging.Handler, io.StringIO],
) -> None:
    handler, stream = root_handler
    root = logging.getLogger()
    with secret_filter(Secret(KEY)) as installed:
        assert secret_filters(handler) == [installed]
        logging.getLogger("some.library").warning("url=https://x/?key=%s", KEY)
    assert KEY not in stream.getvalue()
    assert stream.getvalue().count(MARKER) == 1
    assert secret_filters(handler) == []
    assert secret_filters(root) == []
    logging.getLogger("some.library").warning("after %s", "the block")
    assert "after the block" in stream.getvalue()


def test_secret_filter_is_removed_when_the_block_fails(
    root_handler: tuple[logging.Handler, io.StringIO],
) -> None:
    handler, _ = root_handler
    with pytest.raises(RuntimeError), secret_filter(Secret(KEY)):
        raise RuntimeError("session failed")
    assert secret_filters(handler) == []


def test_nested_secret_filters_for_one_key_each_remove_only_their_own(
    root_handler: tuple[logging.Handler, io.StringIO],
) -> None:
    handler, stream = root_handler
    with secret_filter(Secret(KEY)) as outer:
        with secret_filter(Secret(KEY)) as inner:
            assert secret_filters(handler) == [outer, inner]
        assert secret_filters(handler) == [outer]
        logging.getLogger("some.library").warning("still %s", KEY)
    assert secret_filters(handler) == []
    assert KEY not in stream.getvalue() and MARKER in stream.getvalue()
