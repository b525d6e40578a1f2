"""Headless Chromium for the report tests, driven over the DevTools protocol (CDP).

No browser driver package: Chromium from Debian's packages is started with
``--remote-debugging-port=0``, announces its WebSocket on stderr, and is driven with
trio-websocket (already a tradewire dependency). The page load records every console message,
uncaught exception, log entry and network request, so a test can assert there were none.

A test either evaluates one expression after load (``expression=``) or drives the page itself
(``interact=``, an async function given a :class:`Tab`: evaluate scripts, awaiting their
promises, move the mouse, take screenshots). bench/bench_report.py uses the same loader.
"""

from __future__ import annotations

import base64
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
#: The window the page is laid out in, CSS pixels.
WINDOW = (1400, 900)


@attrs.frozen(kw_only=True)
class PageLoad:
    """What happened while a page loaded, and the value of a script evaluated after load."""

    url: str
    console: list[dict[str, Any]]
    exceptions: list[dict[str, Any]]
    log_errors: list[dict[str, Any]]
    requests: list[str]
    value: Any

    screenshots: list[bytes] = attrs.field(factory=list)

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


class Tab:
    """The loaded page, for ``interact``: scripts, the mouse, screenshots."""

    def __init__(self, cdp: _Session, session: str) -> None:
        self._cdp = cdp
        self._session = session
        self.screenshots: list[bytes] = []

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` (awaited if it is a promise), as JSON data; a script
        error raises."""
        result = await self._cdp.call(
            "Runtime.evaluate",
            self._session,
            expression=expression,
            returnByValue=True,
            awaitPromise=True,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:80]}...: {result['exceptionDetails']}")
        return result.get("result", {}).get("value")

    async def mouse_move(self, x: float, y: float) -> None:
        """Move the mouse to (x, y) CSS pixels of the viewport, as a user's hand would."""
        await self._cdp.call("Input.dispatchMouseEvent", self._session, type="mouseMoved", x=x, y=y)

    async def screenshot(self) -> bytes:
        """A PNG of the viewport (also kept in ``PageLoad.screenshots``)."""
        shot = await self._cdp.call("Page.captureScreenshot", self._session, format="png")
        data = base64.b64decode(shot["data"])
        self.screenshots.append(data)
        return data


async def _drain(stream: trio.abc.ReceiveStream) -> None:
    while await stream.receive_some():
        pass


async def load_page(
    executable: str,
    page: Path,
    profile: Path,
    *,
    expression: str | None = None,
    interact: Callable[[Tab], Awaitable[Any]] | None = None,
    settle_s: float = 0.5,
    window: tuple[int, int] = WINDOW,
) -> PageLoad:
    """Open ``page`` (an absolute path) in a fresh headless Chromium with a ``window``-sized
    viewport, wait for load, then evaluate ``expression`` or run ``interact``."""
    url = page.as_uri()
    command = [
        executable,
        *CHROMIUM_FLAGS,
        f"--window-size={window[0]},{window[1]}",
        f"--user-data-dir={profile}",
        "about:blank",
    ]
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
                await cdp.call(
                    "Emulation.setDeviceMetricsOverride",
                    session,
                    width=window[0],
                    height=window[1],
                    deviceScaleFactor=1,
                    mobile=False,
                )
                await cdp.call("Page.navigate", session, url=url)
                await cdp.wait_for("Page.loadEventFired")
                # Give the charts' own post-load work (resize, relayout) time to fail, if it would.
                await trio.sleep(settle_s)
                tab = Tab(cdp, session)
                if interact is not None:
                    value = await interact(tab)
                else:
                    value = await tab.evaluate(expression or "null")
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
        value=value,
        screenshots=tab.screenshots,
    )


@pytest.fixture
def open_in_chromium(chromium: str, tmp_path: Path) -> Callable[..., Awaitable[PageLoad]]:
    counter = itertools.count()

    async def opener(
        page: Path,
        *,
        expression: str | None = None,
        interact: Callable[[Tab], Awaitable[Any]] | None = None,
    ) -> PageLoad:
        # A fresh profile per page; Chromium creates the folder.
        profile = tmp_path / f"chromium-profile-{next(counter)}"
        return await load_page(chromium, page, profile, expression=expression, interact=interact)

    return opener
