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
