"""Headless Chromium for the report tests, driven over the DevTools protocol (CDP).

No browser driver package: Chromium from Debian's packages is started with
``--remote-debugging-port=0``, announces its WebSocket on stderr, and is driven with
trio-websocket (already a tradewire dependency). The page load records every console message,
uncaught exception, log entry and network request, so a test can assert there were none.
"""

from __future__ import annotations

import contextlib
import functools
import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import attrs
import pytest
import trio
from trio_websocket import ConnectionClosed, open_websocket_url

#: Flags for a quiet headless start on a machine without network or display; the
#: background-networking ones stop Chromium's own calls home.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--remote-debugging-port=0",
    "--remote-debugging-address=127.0.0.1",
)
_LISTENING = re.compile(rb"DevTools listening on (ws://\S+)")


@attrs.frozen(kw_only=True)
class PageLoad:
    """What happened while a page loaded, and the value of a script evaluated after load."""

    url: str
    console: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    log_errors: list[dict[str, Any]]
    requests: list[str]
    value: Any

    @property
    def problems(self) -> list[str]:
        found = [f"console.{c['type']}: {c.get('args')}" for c in self.console]
        found += [f"exception: {e.get('exceptionDetails')}" for e in self.exceptions]
        found += [f"log: {e['entry'].get('text')}" for e in self.log_errors]
        return found

    @property
    def outside_requests(self) -> list[str]:
        """Requested URLs other than the page itself and inline (data:, blob:, about:) ones."""
        return [
            u
            for u in self.requests
            if u != self.url and not u.startswith(("data:", "blob:", "about:"))
        ]


def chromium_executable() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


@pytest.fixture
def chromium() -> str:
    path = chromium_executable()
    if path is None:
        pytest.skip(
            "Chromium not installed (Debian: apt-get install chromium); .ci/run installs it"
        )
    return path


class _Session:
    """Sequential CDP calls over one socket; events seen while waiting are kept."""

    def __init__(self, ws: Any) -> None:
        self._ws = ws
        self._ids = itertools.count(1)
        self.events: list[dict[str, Any]] = []

    async def call(self, method: str, session: str | None = None, **params: Any) -> Any:
        ident = next(self._ids)
        message: dict[str, Any] = {"id": ident, "method": method, "params": params}
        if session is not None:
            message["sessionId"] = session
        await self._ws.send_message(json.dumps(message))
        while True:
            reply = json.loads(await self._ws.get_message())
            if reply.get("id") == ident:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    async def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event["method"] == method:
                return event
        while True:
            reply = json.loads(await self._ws.get_message())
            if "method" in reply:
                self.events.append(reply)
                if reply["method"] == method:
                    return reply


async def _drain(stream: trio.abc.ReceiveStream) -> None:
    while await stream.receive_some():
        pass


async def load_page(
    executable: str, page: Path, profile: Path, *, expression: str, settle_s: float = 0.5
) -> PageLoad:
    """Open ``page`` (an absolute path) in a fresh headless Chromium, wait for load, evaluate
    ``expression``."""
    url = page.as_uri()
    command = [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"]
    async with trio.open_nursery() as nursery:
        process: trio.Process = await nursery.start(
            functools.partial(
                trio.run_process,
                command,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                check=False,
                env={**os.environ, "DBUS_SESSION_BUS_ADDRESS": "disabled:"},
            )
        )
        assert process.stderr is not None
        buffer = b""
        while (match := _LISTENING.search(buffer)) is None:
            chunk = await process.stderr.receive_some()
            if not chunk:
                raise RuntimeError(f"Chromium exited before listening: {buffer.decode()[-2000:]}")
            buffer += chunk
        nursery.start_soon(_drain, process.stderr)
        try:
            async with open_websocket_url(
                match.group(1).decode(), max_message_size=64 * 1024 * 1024
            ) as ws:
                cdp = _Session(ws)
                target = await cdp.call("Target.createTarget", url="about:blank")
                attached = await cdp.call(
                    "Target.attachToTarget", targetId=target["targetId"], flatten=True
                )
                session = attached["sessionId"]
                for domain in ("Page", "Runtime", "Log", "Network"):
                    await cdp.call(f"{domain}.enable", session)
                await cdp.call("Page.navigate", session, url=url)
                await cdp.wait_for("Page.loadEventFired")
                # Give the charts' own post-load work (resize, relayout) time to fail, if it would.
                await trio.sleep(settle_s)
                result = await cdp.call(
                    "Runtime.evaluate", session, expression=expression, returnByValue=True
                )
                events = list(cdp.events)
                # Chromium may drop the socket before answering: closing is all we need.
                with contextlib.suppress(ConnectionClosed):
                    await cdp.call("Browser.close")
        finally:
            with trio.move_on_after(5, shield=True):
                await process.wait()
            if process.returncode is None:
                process.kill()
    params = [(e["method"], e.get("params", {})) for e in events]
    return PageLoad(
        url=url,
        console=[p for m, p in params if m == "Runtime.consoleAPICalled"],
        exceptions=[p for m, p in params if m == "Runtime.exceptionThrown"],
        log_errors=[
            p for m, p in params if m == "Log.entryAdded" and p["entry"]["level"] == "error"
        ],
        requests=[p["request"]["url"] for m, p in params if m == "Network.requestWillBeSent"],
        value=result.get("result", {}).get("value"),
    )


@pytest.fixture
def open_in_chromium(chromium: str, tmp_path: Path) -> Callable[..., Awaitable[PageLoad]]:
    counter = itertools.count()

    async def opener(page: Path, *, expression: str) -> PageLoad:
        # A fresh profile per page; Chromium creates the folder.
        profile = tmp_path / f"chromium-profile-{next(counter)}"
        return await load_page(chromium, page, profile, expression=expression)

    return opener
