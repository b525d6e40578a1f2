"""A strategy for the restart tests: it counts bars and acts on every seventh, with no guard
against seeing a bar twice; its count survives a restart through on_save / on_load."""

from typing import Any

from framework import Bar, Strategy


class FlipEverySeventhBar(Strategy):
    def on_start(self) -> None:
        self.seen = 0

    def on_bar(self, bar: Bar) -> None:
        self.seen += 1
        if self.seen % 7 == 0:
            if self.position(bar.symbol).qty:
                self.close(bar.symbol)
            else:
                self.buy(bar.symbol, 1)

    def on_save(self) -> dict[str, Any]:
        return {"seen": self.seen}

    def on_load(self, state: dict[str, Any]) -> None:
        self.seen = state["seen"]
