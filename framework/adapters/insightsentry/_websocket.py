"""The client side of a WebSocket over any Trio stream, one batch of messages per read.

The protocol is the ``websockets`` package's sans-IO :class:`~websockets.client.ClientProtocol`
(framing, masking, the opening and closing handshakes, ping answers, size limits); this module
only moves bytes between it and a :class:`trio.abc.Stream` (TCP, or TLS over TCP), so the
stream's owner decides how it is opened and verified. What it adds over a per-message API:
:meth:`ClientWebSocket.receive` returns every message completed by one read of the socket, so
the reader above pays its per-message machinery (a checkpoint, a hand-off) once per read, not
once per message.

Errors, all raised from this module's calls and nothing left running in the background::

    Exception
    ├── UpgradeRefused     the server answered the upgrade with HTTP ``status`` (and
    │                      ``headers``, lower-case names) instead of 101
    ├── UpgradeFailed      any other failed upgrade: not HTTP, a bad accept key, the stream
    │                      ended or broke first
    └── WebSocketClosed    the connection is over: ``code`` and ``reason`` of the peer's close
                           frame, 1006 when the stream ended or broke without one, or the
                           code we failed it with (1009 message too big, 1002 protocol
                           error, 1007 text that is not UTF-8); ``by_peer`` says which

They are the adapter's internal vocabulary: the live feed translates them into its own
outcomes (reconnect, :class:`~framework.FeedTerminated`) at its edge.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import cast

import trio
from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import CloseCode, Frame, Opcode
from websockets.http11 import Request, Response
from websockets.protocol import State
from websockets.uri import parse_uri

#: Bytes asked of the stream per read. Loopback and TLS reads return up to this much; every
#: message completed in it is handed on together.
RECEIVE_BYTES = 64 * 1024

_TEXT, _BINARY, _CONT = Opcode.TEXT, Opcode.BINARY, Opcode.CONT
_OPEN, _CLOSED = State.OPEN, State.CLOSED
_Bytes = bytes | bytearray | memoryview


class UpgradeRefused(Exception):
    """The server answered the upgrade with HTTP ``status`` instead of 101."""

    def __init__(self, status: int, headers: dict[str, str]) -> None:
        super().__init__(f"upgrade refused with HTTP {status}")
        self.status = status
        #: Response headers, names in lower case (a repeated header: its last value).
        self.headers = headers


class UpgradeFailed(Exception):
    """The upgrade failed other than by an HTTP status: see the message."""


class WebSocketClosed(Exception):
    """The connection is over; ``code`` and ``reason`` say how (see the module docstring)."""

    def __init__(self, code: int, reason: str, *, by_peer: bool) -> None:
        self.code = code
        self.reason = reason
        #: True when the server sent the close frame or ended the stream; False when we
        #: failed the connection (a protocol error, a message over the size limit).
        self.by_peer = by_peer
        try:
            name = CloseCode(code).name
        except ValueError:
            name = "APPLICATION_CODE" if code >= 3000 else "UNKNOWN_CODE"
        #: The code's name, as RFC 6455 and the IANA registry call it.
        self.name = name
        text = f"{code} {name}"
        super().__init__(f"{text} {reason}" if reason else text)


class _QuietAtDebug(logging.LoggerAdapter[logging.Logger]):
    """websockets logs every frame at DEBUG, and the subscription frame carries the API key:
    this adapter turns DEBUG off for the protocol, whatever the logger's level."""

    def isEnabledFor(self, level: int) -> bool:
        return level > logging.DEBUG and self.logger.isEnabledFor(level)


_PROTOCOL_LOG = _QuietAtDebug(logging.getLogger(__name__), {})


async def wrap_client_stream(
    stream: trio.abc.Stream, url: str, *, max_message_bytes: int
) -> ClientWebSocket:
    """Do the opening handshake for ``url`` (its host, port and resource give the request's
    ``Host`` header and path) over ``stream``, already connected (and TLS-wrapped for
    ``wss``); return the open connection.

    Messages over ``max_message_bytes`` (after reassembling fragments) fail the connection
    with 1009. Raises :class:`UpgradeRefused` or :class:`UpgradeFailed`. The stream stays the
    caller's to close if this raises or is cancelled; once it returns, the connection's
    :meth:`~ClientWebSocket.aclose` closes it.
    """
    protocol = ClientProtocol(parse_uri(url), max_size=max_message_bytes, logger=_PROTOCOL_LOG)
    protocol.send_request(protocol.connect())
    try:
        await stream.send_all(b"".join(protocol.data_to_send()))
        events: list[Frame | Request | Response] = []
        while protocol.state is State.CONNECTING and protocol.handshake_exc is None:
            data = await stream.receive_some(RECEIVE_BYTES)
            if data:
                protocol.receive_data(data)
            else:
                protocol.receive_eof()
            events.extend(protocol.events_received())
    except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
        raise UpgradeFailed(f"the connection broke during the upgrade: {exc!r}") from exc
    error = protocol.handshake_exc
    if isinstance(error, InvalidStatus):
        response = error.response
        headers = {name.lower(): value for name, value in response.headers.raw_items()}
        raise UpgradeRefused(response.status_code, headers)
    if error is not None:
        cause = f" ({error.__cause__})" if error.__cause__ else ""
        raise UpgradeFailed(f"{error}{cause}")
    connection = ClientWebSocket(stream, protocol)
    # Frames the server wrote right behind its 101 arrived in the same read: keep their
    # messages for the first receive, answer their pings (or close) now.
    connection._early = connection._messages([e for e in events if isinstance(e, Frame)])
    await connection._flush()
    connection._note_state()
    return connection


class ClientWebSocket:
    """An open client connection; made by :func:`wrap_client_stream`.

    One task may receive while another sends; sends are serialised. Pings are answered by the
    protocol, flushed after every read.
    """

    def __init__(self, stream: trio.abc.Stream, protocol: ClientProtocol) -> None:
        self._stream = stream
        self._protocol = protocol
        self._early: list[str | bytes] = []
        self._fragments: list[_Bytes] = []
        self._fragment_opcode = _TEXT
        self._closed: WebSocketClosed | None = None
        self._send_lock = trio.Lock()
        self._receiving = False
        self._stream_closed = False

    @property
    def closed(self) -> WebSocketClosed | None:
        """How the connection ended, once it has (None while it is open)."""
        return self._closed

    async def receive(self) -> list[str | bytes]:
        """Wait for the next read of the socket that completes at least one message and return
        every message it completed, in order: text as ``str``, binary as ``bytes``.

        Raises :class:`WebSocketClosed` once the connection is over; messages that arrived
        before the close are returned first. Cancellation loses nothing: messages already
        read come with the next call. Not for two tasks at once.
        """
        if self._early:
            early, self._early = self._early, []
            return early
        protocol = self._protocol
        stream = self._stream
        self._receiving = True
        try:
            while True:
                if self._closed is not None:
                    raise self._closed
                try:
                    data = await stream.receive_some(RECEIVE_BYTES)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""  # a broken stream ends like an unannounced close: 1006
                if data:
                    protocol.receive_data(data)
                else:
                    protocol.receive_eof()
                # Once open, the protocol's events are frames only.
                messages = self._messages(cast("list[Frame]", protocol.events_received()))
                self._early = messages  # kept for the next call if the flush is cancelled
                await self._flush()
                self._early = []
                if protocol.state is not _OPEN:
                    self._note_state()
                if not data and self._closed is None:
                    self._closed = WebSocketClosed(
                        CloseCode.ABNORMAL_CLOSURE, "the stream ended", by_peer=True
                    )
                if messages:
                    return messages
        finally:
            self._receiving = False

    async def send_text(self, text: str) -> None:
        """Send one text message. Raises :class:`WebSocketClosed` if the connection is over
        (or breaks now). Cancellation may leave the message partly written; the connection is
        unusable then."""
        if self._closed is not None:
            raise self._closed
        if self._protocol.state is not _OPEN:
            self._note_state()
            raise self._closed or WebSocketClosed(1006, "connection closing", by_peer=False)
        self._protocol.send_text(text.encode())
        await self._flush()
        if self._closed is not None:
            raise self._closed

    async def aclose(self, code: int = 1000, reason: str = "") -> None:
        """Close handshake, then close the stream. Idempotent.

        Sends a close frame (unless the connection is already closing) and reads until the
        server answers and ends the stream; that wait is bounded only by the caller's cancel
        scope, so callers put a deadline around it (the live feed uses ``close_timeout``,
        shielded). The stream is closed whatever happens, cancellation included.
        """
        protocol = self._protocol
        try:
            if protocol.state is _OPEN:
                protocol.send_close(code, reason)
                await self._flush()
            # Another task reading would collide with us on the stream: then leave it at the
            # close frame.
            while protocol.state is not _CLOSED and not self._receiving and not self._closed:
                try:
                    data = await self._stream.receive_some(RECEIVE_BYTES)
                except (trio.BrokenResourceError, trio.ClosedResourceError):
                    data = b""
                if data:
                    protocol.receive_data(data)
                else:
                    protocol.receive_eof()
                protocol.events_received()  # messages after our close frame are not read
                await self._flush()
            self._note_state()
        finally:
            if self._closed is None:
                self._closed = WebSocketClosed(code, reason, by_peer=False)
            if not self._stream_closed:
                self._stream_closed = True
                await trio.aclose_forcefully(self._stream)

    # -- internals ---------------------------------------------------------------------------

    def _messages(self, events: Sequence[Frame]) -> list[str | bytes]:
        """Complete messages among ``events`` (data frames, in order); fails the connection
        with 1007 on a text message that is not UTF-8 (messages before it are kept)."""
        messages: list[str | bytes] = []
        for frame in events:
            opcode = frame.opcode
            if opcode is _TEXT and frame.fin:  # by far the most common frame: first
                data = frame.data
            elif opcode is _TEXT or opcode is _BINARY:
                if not frame.fin:
                    self._fragment_opcode = opcode
                    self._fragments = [frame.data]
                    continue
                messages.append(bytes(frame.data))
                continue
            elif opcode is _CONT:
                self._fragments.append(frame.data)
                if not frame.fin:
                    continue
                data = b"".join(self._fragments)
                self._fragments = []
                if self._fragment_opcode is _BINARY:
                    messages.append(data)
                    continue
            else:
                continue  # ping (answered by the protocol), pong, close (seen in the state)
            try:
                messages.append(str(data, "utf-8"))
            except UnicodeDecodeError as exc:
                self._protocol.fail(CloseCode.INVALID_DATA, f"text is not UTF-8: {exc.reason}")
                self._closed = WebSocketClosed(
                    CloseCode.INVALID_DATA, "text message is not UTF-8", by_peer=False
                )
                break
        return messages

    async def _flush(self) -> None:
        # The protocol's end-of-stream marker is an empty write; joined, it vanishes: the
        # stream is closed by aclose, not half-closed.
        data = b"".join(self._protocol.data_to_send())
        if not data:
            return
        async with self._send_lock:
            try:
                await self._stream.send_all(data)
            except (trio.BrokenResourceError, trio.ClosedResourceError):
                if self._closed is None:
                    self._closed = WebSocketClosed(
                        CloseCode.ABNORMAL_CLOSURE, "the connection broke", by_peer=True
                    )

    def _note_state(self) -> None:
        """Once the protocol has left OPEN, record how the connection ended (first cause
        wins)."""
        protocol = self._protocol
        if self._closed is not None or protocol.state is _OPEN:
            return
        received, sent = protocol.close_rcvd, protocol.close_sent
        if received is not None:
            self._closed = WebSocketClosed(received.code, received.reason, by_peer=True)
        elif sent is not None and protocol.parser_exc is not None:
            self._closed = WebSocketClosed(sent.code, sent.reason, by_peer=False)
        elif protocol.state is _CLOSED or protocol.parser_exc is not None:
            self._closed = WebSocketClosed(
                CloseCode.ABNORMAL_CLOSURE, "the stream ended without a close frame", by_peer=True
            )
