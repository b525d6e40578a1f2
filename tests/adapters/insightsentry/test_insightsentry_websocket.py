"""The live feed's WebSocket transport (``_websocket``) against a scripted server on 127.0.0.1.

The server does the upgrade with ``websockets``' sans-IO server protocol and then writes
exactly the frames a test asks for, in one write where a test needs them to arrive together.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
import trio
from websockets.frames import Opcode
from websockets.http11 import Request
from websockets.protocol import State
from websockets.server import ServerProtocol

from framework.adapters.insightsentry._websocket import (
    UpgradeFailed,
    UpgradeRefused,
    WebSocketClosed,
    wrap_client_stream,
)

Script = Callable[[trio.SocketStream, ServerProtocol], Awaitable[None]]


class ScriptedServer:
    """Accepts connections; upgrades each (unless ``upgrade`` is false) and runs ``script``."""

    def __init__(self, script: Script, *, upgrade: bool = True) -> None:
        self.script = script
        self.upgrade = upgrade
        self.requests: list[Request] = []
        self.received: list[tuple[Opcode, bytes]] = []
        self.port = 0
        #: Set once the connection's script has ended (its frames are all in ``received``).
        self.done = trio.Event()
        #: Set once a frame came from the client.
        self.heard = trio.Event()

    async def _handle(self, stream: trio.SocketStream) -> None:
        try:
            await self._upgrade_and_run(stream)
        finally:
            self.done.set()

    async def _upgrade_and_run(self, stream: trio.SocketStream) -> None:
        async with stream:
            protocol = ServerProtocol()
            if self.upgrade:
                while not self.requests:
                    data = await stream.receive_some()
                    if not data:
                        return
                    protocol.receive_data(data)
                    for event in protocol.events_received():
                        if isinstance(event, Request):
                            self.requests.append(event)
                            protocol.send_response(protocol.accept(event))
                await write(stream, protocol)
            with contextlib.suppress(trio.BrokenResourceError, trio.ClosedResourceError):
                await self.script(stream, protocol)

    async def read(self, stream: trio.SocketStream, protocol: ServerProtocol) -> None:
        """Read one chunk from the client, answer what the protocol answers, keep the frames."""
        data = await stream.receive_some()
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        for frame in protocol.events_received():
            self.received.append((frame.opcode, bytes(frame.data)))  # type: ignore[union-attr]
            self.heard.set()
        await write(stream, protocol)

    async def answer_until_closed(
        self, stream: trio.SocketStream, protocol: ServerProtocol
    ) -> None:
        """Read (answering pings and the close handshake) until the connection is over."""
        while not protocol.close_expected() and protocol.state is not State.CLOSED:
            await self.read(stream, protocol)


async def write(stream: trio.SocketStream, protocol: ServerProtocol) -> None:
    data = b"".join(protocol.data_to_send())
    if data:
        await stream.send_all(data)


@contextlib.asynccontextmanager
async def listening(handler: Callable[[trio.SocketStream], Awaitable[None]]) -> AsyncIterator[int]:
    """Serve ``handler`` on a free port of 127.0.0.1 while the block runs (5 s at most); the
    block gets the port."""
    with trio.fail_after(5):
        async with trio.open_nursery() as nursery:
            listeners = await nursery.start(
                functools.partial(trio.serve_tcp, handler, 0, host="127.0.0.1")
            )
            yield listeners[0].socket.getsockname()[1]
            nursery.cancel_scope.cancel()


@contextlib.asynccontextmanager
async def serving(server: ScriptedServer) -> AsyncIterator[ScriptedServer]:
    """``server`` listening while the block runs."""
    async with listening(server._handle) as server.port:
        yield server


async def connect(server: ScriptedServer, path: str = "/live", max_bytes: int = 1 << 20):
    stream = await trio.open_tcp_stream("127.0.0.1", server.port)
    try:
        return await wrap_client_stream(
            stream, f"ws://127.0.0.1:{server.port}{path}", max_message_bytes=max_bytes
        )
    except BaseException:
        await trio.aclose_forcefully(stream)
        raise


async def test_every_message_of_one_read_comes_back_as_one_batch_in_order():
    async def script(stream, protocol):
        protocol.send_text(b'{"n": 1}')
        protocol.send_binary(b"\x00\x01")
        protocol.send_text(b"caf\xc3\xa9")
        await write(stream, protocol)  # one write: the three arrive together
        await server.answer_until_closed(stream, protocol)

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server)
        batches = []
        while sum(len(b) for b in batches) < 3:
            batches.append(await ws.receive())
        await ws.aclose()
    assert [m for b in batches for m in b] == ['{"n": 1}', b"\x00\x01", "café"]
    # Loopback delivers one write in one read almost always; never split inside a message.
    assert len(batches) <= 3


async def test_the_request_names_host_port_and_resource():
    async def script(stream, protocol):
        await server.answer_until_closed(stream, protocol)

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server, path="/live/v2")
        await ws.aclose()
    request = server.requests[0]
    assert request.path == "/live/v2"
    assert request.headers["Host"] == f"127.0.0.1:{server.port}"


async def test_fragmented_messages_are_reassembled():
    async def script(stream, protocol):
        protocol.send_text(b'{"a":', fin=False)
        await write(stream, protocol)
        await trio.sleep(0.01)
        protocol.send_ping(b"keep")  # control frames may come between fragments
        protocol.send_continuation(b' "b"', fin=False)
        protocol.send_continuation(b"}", fin=True)
        protocol.send_binary(b"ab", fin=False)
        protocol.send_continuation(b"cd", fin=True)
        await write(stream, protocol)
        await server.answer_until_closed(stream, protocol)

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server)
        got: list[str | bytes] = []
        while len(got) < 2:
            got += await ws.receive()
        await ws.aclose()
    assert got == ['{"a": "b"}', b"abcd"]


async def test_pings_are_answered_after_the_read_that_brought_them():
    async def script(stream, protocol):
        protocol.send_ping(b"are you there")
        protocol.send_text(b"after the ping")
        await write(stream, protocol)
        while (Opcode.PONG, b"are you there") not in server.received:
            await server.read(stream, protocol)
        protocol.send_text(b"pong seen")
        await write(stream, protocol)
        await server.answer_until_closed(stream, protocol)

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server)
        got: list[str | bytes] = []
        while "pong seen" not in got:
            got += await ws.receive()
        await ws.aclose()
        await server.done.wait()
    assert got == ["after the ping", "pong seen"]


async def test_a_server_close_carries_code_and_reason_after_the_messages_before_it():
    async def script(stream, protocol):
        protocol.send_text(b"last words")
        protocol.send_close(4001, "evicted")
        await write(stream, protocol)
        while protocol.state is not State.CLOSED:  # until the echo and the end of the stream
            await server.read(stream, protocol)

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server)
        assert await ws.receive() == ["last words"]
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive()
        await ws.aclose()
        await server.done.wait()
    closed = info.value
    assert (closed.code, closed.reason, closed.by_peer) == (4001, "evicted", True)
    assert ws.closed is closed
    # The close was echoed, as the protocol requires.
    assert server.received[-1][0] is Opcode.CLOSE


@pytest.mark.parametrize("reset", [False, True])
async def test_a_dropped_tcp_connection_is_1006(reset):
    async def script(stream, protocol):
        protocol.send_text(b"one")
        await write(stream, protocol)
        await trio.sleep(0.05)
        if reset:
            stream.socket.setsockopt(
                __import__("socket").SOL_SOCKET,
                __import__("socket").SO_LINGER,
                b"\x01\x00\x00\x00\x00\x00\x00\x00",
            )
        await stream.aclose()

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server)
        got: list[str | bytes] = []
        with pytest.raises(WebSocketClosed) as info:
            while True:
                got += await ws.receive()
        await ws.aclose()
    assert got == ["one"]
    assert info.value.code == 1006 and info.value.by_peer


async def test_a_message_over_the_limit_fails_the_connection_with_1009():
    async def script(stream, protocol):
        protocol.send_text(b"small")
        protocol.send_text(b"x" * 5000)
        await write(stream, protocol)
        await server.answer_until_closed(stream, protocol)

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server, max_bytes=4096)
        got = await ws.receive()
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive()
        await ws.aclose()
        await server.done.wait()
    assert got == ["small"]
    assert info.value.code == 1009 and not info.value.by_peer
    assert (Opcode.CLOSE, b"\x03\xf1" + info.value.reason.encode()) in server.received


async def test_text_that_is_not_utf8_fails_the_connection_with_1007():
    async def script(stream, protocol):
        protocol.send_text(b"fine")
        protocol.send_text(b"\xff\xfe not utf-8")
        await write(stream, protocol)
        await server.answer_until_closed(stream, protocol)

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server)
        got = await ws.receive()
        with pytest.raises(WebSocketClosed) as info:
            await ws.receive()
        await ws.aclose()
    assert got == ["fine"]
    assert info.value.code == 1007 and not info.value.by_peer


async def test_frames_sent_with_the_101_are_not_lost_and_their_pings_answered():
    class Eager(ScriptedServer):
        async def _upgrade_and_run(self, stream):
            async with stream:
                protocol = ServerProtocol()
                while not self.requests:
                    protocol.receive_data(await stream.receive_some())
                    for event in protocol.events_received():
                        self.requests.append(event)
                        protocol.send_response(protocol.accept(event))
                protocol.send_ping(b"early")
                protocol.send_text(b"right behind the 101")
                await write(stream, protocol)  # the 101 and two frames in one write
                while (Opcode.PONG, b"early") not in self.received:
                    await self.read(stream, protocol)
                protocol.send_text(b"pong seen")
                await write(stream, protocol)
                await self.answer_until_closed(stream, protocol)

    async with serving(Eager(None)) as server:  # type: ignore[arg-type]
        ws = await connect(server)
        got = await ws.receive()
        while "pong seen" not in got:
            got += await ws.receive()
        await ws.aclose()
        await server.done.wait()
    assert got == ["right behind the 101", "pong seen"]
    assert server.received[0] == (Opcode.PONG, b"early")


async def test_send_text_reaches_the_server():
    async def script(stream, protocol):
        while not server.received:
            await server.read(stream, protocol)
        await server.answer_until_closed(stream, protocol)

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server)
        await ws.send_text('{"subscriptions": []}')
        await server.heard.wait()
        await ws.aclose()
    assert server.received[0] == (Opcode.TEXT, b'{"subscriptions": []}')


async def test_a_refused_upgrade_surfaces_status_and_headers():
    async def refuse(stream):
        async with stream:
            protocol = ServerProtocol()
            while True:
                protocol.receive_data(await stream.receive_some())
                if protocol.events_received():
                    break
            response = protocol.reject(429, "slow down")
            response.headers["Retry-After"] = "7"
            protocol.send_response(response)
            await write(stream, protocol)

    async with listening(refuse) as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        with pytest.raises(UpgradeRefused) as info:
            await wrap_client_stream(stream, f"ws://127.0.0.1:{port}/", max_message_bytes=100)
        await stream.aclose()
    assert info.value.status == 429
    assert info.value.headers["retry-after"] == "7"


@pytest.mark.parametrize("answer", [b"", b"SSH-2.0-OpenSSH_9.6\r\n\r\n"])
async def test_an_answer_that_is_not_an_upgrade_is_an_upgrade_failure(answer):
    async def not_http(stream):
        async with stream:
            await stream.receive_some()
            if answer:
                await stream.send_all(answer)

    async with listening(not_http) as port:
        stream = await trio.open_tcp_stream("127.0.0.1", port)
        with pytest.raises(UpgradeFailed):
            await wrap_client_stream(stream, f"ws://127.0.0.1:{port}/", max_message_bytes=100)
        await stream.aclose()


async def test_aclose_does_the_close_handshake_and_is_idempotent():
    async def script(stream, protocol):
        while not server.received:
            await server.read(stream, protocol)
        # The protocol answered the close frame and ends the stream.

    async with serving(ScriptedServer(script)) as server:
        ws = await connect(server)
        await ws.aclose()
        await ws.aclose()
        await server.done.wait()
    assert server.received == [(Opcode.CLOSE, b"\x03\xe8")]
    assert ws.closed is not None and ws.closed.code == 1000
    with pytest.raises(WebSocketClosed):
        await ws.send_text("too late")


async def test_aclose_against_a_silent_server_is_bounded_by_the_caller_and_closes_the_stream():
    async def silent(stream, protocol):
        await trio.sleep_forever()

    async with serving(ScriptedServer(silent)) as server:
        ws = await connect(server)
        with trio.move_on_after(0.2) as scope:
            await ws.aclose()
    assert scope.cancelled_caught
    with pytest.raises(WebSocketClosed):
        await ws.receive()
