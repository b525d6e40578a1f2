"""The simulated server's side of one TCP connection, with the two misbehaviours a socket can
show: a peer that falls silent (paused: nothing sent or read, pings included) and a connection
that is dropped without a close handshake (FIN, or RST with ``reset``).

It can also gather writes (:meth:`ControlledStream.coalesced`): the server sends a frame per
series and market step, and one socket write for each would cost more than the frame itself.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections.abc import AsyncIterator
from typing import Final

import trio

#: Gathered bytes that are written at once, without waiting for the end of the block.
COALESCE_BYTES: Final = 64 * 1024


class ControlledStream(trio.abc.Stream):
    """A socket stream that can be paused (a silent peer) or dropped without a close frame."""

    def __init__(self, inner: trio.SocketStream) -> None:
        self._inner = inner
        self._resumed = trio.Event()
        self._resumed.set()
        self._closed = False
        self._holding = 0
        self._held = bytearray()
        # One writer at a time: the end of a coalesced block writes from the task that sent
        # the frames while trio-websocket may answer a close from its reader task.
        self._write_lock = trio.StrictFIFOLock()
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
        if self._holding:
            self._held += data
            if len(self._held) < COALESCE_BYTES:
                return
            data, self._held = self._held, bytearray()
        await self._write(data)

    async def _write(self, data: bytes | bytearray | memoryview) -> None:
        async with self._write_lock:
            await self._gate()
            await self._inner.send_all(data)
            self.bytes_sent += len(data)

    @contextlib.asynccontextmanager
    async def coalesced(self) -> AsyncIterator[None]:
        """Gather what is sent in the block (by anyone) and write it when the block ends, in
        order, or earlier once :data:`COALESCE_BYTES` are gathered; a block that raises
        writes nothing more. Blocks may nest: the outermost one writes."""
        self._holding += 1
        try:
            yield
        finally:
            self._holding -= 1
        if not self._holding and self._held:
            data, self._held = self._held, bytearray()
            await self._write(data)

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
