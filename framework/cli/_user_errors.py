"""How the command line shows an exception from the user's own code.

A strategy's bug should read like a bug in a plain script: the frames of the user's files, the
exception, the note the engine added (strategy, hook, event), and one closing line. The frames
of tradewire, Trio and the standard library between them explain nothing the user can change,
so they are shown only with ``--traceback``. When no frame is the user's (a bug of ours, or a
library's), the whole trace is shown: hiding it then would hide the only evidence.
"""

from __future__ import annotations

import sys
import traceback
from typing import TextIO

from .._failure import is_users_frame, users_frames


def print_user_error(exc: BaseException, *, full: bool, file: TextIO | None = None) -> None:
    """Print ``exc`` as described in the module docstring, then one line naming it."""
    file = sys.stderr if file is None else file
    shown = traceback.TracebackException.from_exception(exc)
    carried = users_frames(exc)
    if not full and carried:
        # Raised in another process (a sweep worker): the frames it carried are the user's,
        # and the cause is the worker's whole trace as text, for --traceback.
        shown.stack = traceback.StackSummary.from_list(carried)
        shown.__cause__ = shown.__context__ = None
    # A syntax error carries its own location: the frames above it are the importer's.
    elif not full and (
        isinstance(exc, SyntaxError) or any(is_users_frame(f.filename) for f in shown.stack)
    ):
        _keep_users_frames(shown)
    print("".join(shown.format()), end="", file=file)
    notes = getattr(exc, "__notes__", None) or []
    where = f" {notes[0]}" if notes else ""
    message = str(exc)
    what = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    print(f"tradewire: error: {what:.200}{where}", file=file)
    if not full:
        print("tradewire: run with --traceback for the full trace", file=file)


def _keep_users_frames(shown: traceback.TracebackException) -> None:
    """Drop the frames that are not the user's, along the chain of causes too."""
    seen: set[int] = set()
    pending: list[traceback.TracebackException | None] = [shown]
    while pending:
        entry = pending.pop()
        if entry is None or id(entry) in seen:
            continue
        seen.add(id(entry))
        users = [frame for frame in entry.stack if is_users_frame(frame.filename)]
        entry.stack = traceback.StackSummary.from_list(users)
        pending += [entry.__cause__, entry.__context__]
