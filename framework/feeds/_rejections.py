"""Bad rows of a bar source, handled one way by every reader (bar files, Arrow data).

By default the first bad row stops the run with its error (source, row, reason). With
``skip_bad_rows`` it is counted by reason, a few examples are kept for the report, and the run
goes on, so nothing is dropped without the user being told how much and why.
"""

from __future__ import annotations

import logging

from .._errors import DataError

log = logging.getLogger(__name__)

#: Bad-row examples kept for the report when skipping.
KEPT_EXAMPLES = 10


class Rejections:
    """The bad rows of one feed: raised at once, or counted when ``skip`` is set."""

    def __init__(self, *, skip: bool) -> None:
        self.skip = skip
        self.by_reason: dict[str, int] = {}
        self.examples: list[str] = []

    @property
    def total(self) -> int:
        return sum(self.by_reason.values())

    def reject(self, error: DataError, reason: str) -> None:
        """Raise ``error``, or count it under ``reason`` when skipping."""
        if not self.skip:
            raise error
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1
        if len(self.examples) < KEPT_EXAMPLES:
            self.examples.append(str(error))
        log.warning("skipped bad row %s", error)
