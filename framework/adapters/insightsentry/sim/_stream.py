"""The simulated server's side of one TCP connection, with the two misbehaviours a socket can
show: a peer that falls silent (paused: nothing sent or read, pings included) and a connection
that is dropped without a close handshake (FIN, or RST with ``reset``).
"""

from __future__ import annotations

import socket
import struct

import trio


class ControlledStream(trio.abc.Stream):
    """A socket stream that can be paused (a silent peer) or dropped without a close frame."""

    def __init__(self, inner: trio.SocketStream) -> None:
        self._inner = inner
        self._resumed = trio.Event()
        self._resumed.set()
        self._closed = False
        self.bytes_sent = 0

    def pause(self) -> None:
        if self._resumed.is_set():
            self._resumed = trio.Event()

    def resume(self) -> None:
        self._resumed.set()

    async def _gate(self) -> None:
        await self._resumed.wait()
        if self._closed:
            raise trio.ClosedResourceError("stream was dropped")

    async def send_all(self, data: bytes | bytearray | memoryview) -> None:
        await self._gate()
        await self._inner.send_all(data)
        self.bytes_sent += len(data)

    async def wait_send_all_might_not_block(self) -> None:
        await self._gate()
        await self._inner.wait_send_all_might_not_block()

    async def receive_some(self, max_bytes: int | None = None) -> bytes | bytearray:
        await self._gate()
        return await self._inner.receive_some(max_bytes)

    async def aclose(self) -> None:
        self._closed = True
        self._resumed.set()
        await trio.aclose_forcefully(self._inner)

    async def drop(self, *, reset: bool) -> None:
        """Close TCP now; with ``reset`` the peer gets an RST instead of a FIN."""
        if reset and not self._closed:
            self._inner.socket.setsockopt(
                socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
            )
        await self.aclose()
