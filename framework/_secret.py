"""Keeping a secret (an API key) out of recordings and logs.

A vendor that authenticates inside its messages (a key in the subscribe JSON, a bearer header)
makes every outbound frame and every log line about one a leak path. Three layers:

* :class:`Secret` holds the key; ``repr``/``str``/``format`` show only ``<redacted:ab12>`` and
  the value cannot be pickled. :meth:`Secret.reveal` is the one accessor, for the single place
  that puts the key on the wire. :func:`as_secret` turns a caller's ``str | Secret`` into one.
* :func:`redact` replaces the key in any text (outbound frames, before the recorder and before
  any log call) by ``<redacted:ab12>``: the first four hex digits of the key's SHA-256, enough
  to see that a key was rotated and useless to an attacker.
* :class:`SecretFilter` scrubs what slipped through from log records: the message, its ``%``
  arguments, exception and stack text. :func:`secret_filter` attaches one to the root logger's
  handlers for the length of a ``with`` block (a session, a download) and removes it after.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
from collections.abc import Iterator
from typing import NoReturn

import orjson

from ._errors import ConfigError


class Secret:
    """A secret string that does not show itself.

    ``repr``, ``str`` and ``format`` give ``<redacted:xxxx>``; pickling raises ``TypeError``;
    copies are the same object. Equality is identity: compare revealed values if you must.
    """

    __slots__ = ("_fingerprint", "_value")

    def __init__(self, value: str) -> None:
        if not isinstance(value, str) or not value:
            raise ValueError("a Secret needs a non-empty string")
        self._value = value
        self._fingerprint = hashlib.sha256(value.encode("utf-8")).hexdigest()[:4]

    def reveal(self) -> str:
        """The secret value. Call it only where the value must go on the wire."""
        return self._value

    @property
    def fingerprint(self) -> str:
        """First four hex digits of the SHA-256 of the value."""
        return self._fingerprint

    @property
    def marker(self) -> str:
        """What replaces the value wherever it would have appeared: ``<redacted:xxxx>``."""
        return f"<redacted:{self._fingerprint}>"

    def __repr__(self) -> str:
        return f"Secret({self.marker})"

    def __str__(self) -> str:
        return self.marker

    def __format__(self, format_spec: str) -> str:
        return format(self.marker, format_spec)

    def __reduce__(self) -> NoReturn:
        raise TypeError("a Secret cannot be pickled")

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: object) -> Secret:
        return self


def as_secret(value: Secret | str, *, name: str = "API key") -> Secret:
    """``value`` as a :class:`Secret`: a Secret is returned as it is, a string is wrapped.

    Raises :class:`~framework.ConfigError` ("the {name} is empty") for an empty or blank
    string, or for anything that is neither a string nor a Secret.
    """
    if isinstance(value, Secret):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"the {name} is empty")
    return Secret(value)


def redact(text: str, secret: Secret) -> str:
    """``text`` with every occurrence of the secret replaced by ``secret.marker``.

    Also replaces the value as it appears JSON-escaped inside a string literal, in case the key
    holds characters JSON escapes.
    """
    value = secret.reveal()
    if value in text:
        text = text.replace(value, secret.marker)
    escaped = orjson.dumps(value)[1:-1].decode("utf-8")
    if escaped != value and escaped in text:
        text = text.replace(escaped, secret.marker)
    return text


class SecretFilter(logging.Filter):
    """A logging filter that scrubs one secret from every record it sees; never drops a record.

    If the formatted message contains the secret, ``msg`` becomes the redacted message and
    ``args`` is emptied (so the key in an argument of any type is caught). Exception text is
    formatted here (with the standard formatter) when it contains the secret, and stored
    redacted in ``exc_text``, which formatters use instead of formatting ``exc_info`` again.
    """

    def __init__(self, secret: Secret) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        """Replace the secret in ``record``'s message and arguments; always keep the record."""
        value = self.secret.reveal()
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: scrub the pieces instead
            message = None
        if message is not None:
            if value in message:
                record.msg = redact(message, self.secret)
                record.args = None
        else:
            if isinstance(record.msg, str):
                record.msg = redact(record.msg, self.secret)
            if isinstance(record.args, tuple):
                record.args = tuple(
                    redact(arg, self.secret) if isinstance(arg, str) else arg for arg in record.args
                )
        if record.exc_info and record.exc_text is None:
            text = _FORMATTER.formatException(record.exc_info)
            if value in text:
                record.exc_text = redact(text, self.secret)
        elif record.exc_text and value in record.exc_text:
            record.exc_text = redact(record.exc_text, self.secret)
        if record.stack_info and value in record.stack_info:
            record.stack_info = redact(record.stack_info, self.secret)
        return True


_FORMATTER = logging.Formatter()


@contextlib.contextmanager
def secret_filter(secret: Secret) -> Iterator[SecretFilter]:
    """Scrub ``secret`` from log output while the block runs; leave no filter behind.

    A new :class:`SecretFilter` goes on each handler of the root logger (a handler's filters
    see every record that reaches it, from any logger) and comes off those same handlers when
    the block ends, however it ends. The root logger itself gets none: its handlers already
    see what is logged on it. Handlers added during the block are not covered, so configure
    logging first. Each block owns its filter, so nested or concurrent blocks for the same key
    do not remove each other's.
    """
    installed = SecretFilter(secret)
    handlers = list(logging.getLogger().handlers)
    for handler in handlers:
        handler.addFilter(installed)
    try:
        yield installed
    finally:
        for handler in handlers:
            handler.removeFilter(installed)


def install_secret_filter(secret: Secret) -> SecretFilter:
    """Scrub ``secret`` from logs for the rest of the process: add a :class:`SecretFilter` to
    the root logger and to each of its handlers, and return it (to remove it later).

    Deprecated for code with a beginning and an end: :func:`secret_filter` removes its filter
    when the block ends, and is what tradewire's sessions use. This stays for programs that
    want the filter for good. Handlers added to the root logger afterwards are not covered;
    install after configuring logging. Idempotent: a filter for the same secret value is never
    added twice to the same target.
    """
    root = logging.getLogger()
    installed: SecretFilter | None = None
    for target in (root, *root.handlers):
        existing = _filter_for(target, secret)
        if existing is None:
            existing = installed if installed is not None else SecretFilter(secret)
            target.addFilter(existing)
        installed = installed or existing
    assert installed is not None
    return installed


def _filter_for(target: logging.Filterer, secret: Secret) -> SecretFilter | None:
    for candidate in target.filters:
        if isinstance(candidate, SecretFilter) and candidate.secret.reveal() == secret.reveal():
            return candidate
    return None
