"""Many files read side by side in bounded memory: each is first copied, one after the other,
to a temporary Arrow IPC stream of the chunks the feed will read, then replayed from there.

Reading a directory merges its files by time, so every file is open at once, and a Parquet
reader in the middle of a row group holds a decoded page of each column it reads (up to a few
MiB a file, measured 2.3 MB for a 100,000-row file): a hundred files hold hundreds of MB before
a single bar is made. A staged file holds only the chunk being read (its record batch, read
with a plain read, not a memory map), so memory no longer grows with the number of files. The
copy costs a disk write of the columns a bar needs, uncompressed (about 50 bytes a row, which
reads back at memory speed), and is removed when the run ends.

A chunk keeps its place (row, row group, offset), so messages name the original file's rows;
an error reading the original file is raised where the replay reaches it, as it would have been.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa

from .._errors import BarTableError
from ._arrow_source import Chunk, Stream

#: What the readers of a source's streams may hold at once, all together, before its files are
#: staged rather than read side by side (see the module docstring).
READ_AHEAD_BUDGET = 32 << 20


def staging_pays(streams: Sequence[Stream], columns: Sequence[Sequence[str]]) -> bool:
    """Whether reading ``streams`` (each its ``columns``) side by side would hold more than
    :data:`READ_AHEAD_BUDGET` in their readers."""
    if len(streams) < 2:
        return False
    held = sum(
        stream.read_ahead_bytes(names) for stream, names in zip(streams, columns, strict=True)
    )
    return held > READ_AHEAD_BUDGET


class StagingArea:
    """A temporary directory of staged streams, removed (with the streams closed) on exit."""

    def __init__(self) -> None:
        self._folder: tempfile.TemporaryDirectory[str] | None = None
        self._staged: list[StagedStream] = []

    def __enter__(self) -> StagingArea:
        return self

    def __exit__(self, *exc_info: object) -> None:
        for stream in self._staged:
            stream.close()
        if self._folder is not None:
            self._folder.cleanup()

    def stage(self, stream: Stream, rows: int, columns: Sequence[str]) -> StagedStream:
        """Copy the chunks of ``rows`` rows of ``columns`` of ``stream`` (closed after) to a
        file; the staged stream hands the same chunks out again."""
        if self._folder is None:
            self._folder = tempfile.TemporaryDirectory(prefix="tradewire-staged-")
        path = Path(self._folder.name) / f"{len(self._staged)}.arrows"
        staged = StagedStream(stream, path, rows, columns)
        self._staged.append(staged)
        try:
            staged.copy(stream)
        finally:
            stream.close()
            stream.rows_read = 0  # the replay counts the progress
        return staged


class StagedStream(Stream):
    """The chunks of a stream, copied to an Arrow IPC stream and read back one at a time."""

    def __init__(self, original: Stream, path: Path, rows: int, columns: Sequence[str]) -> None:
        super().__init__(
            original.label,
            original.schema,
            stem=original.stem,
            partition=original.partition,
            total_rows=original.total_rows,
        )
        self.missing = original.missing
        self._path = path
        self._rows = rows
        self._columns = list(columns)
        # (first row, row group, offset in it) of each staged chunk.
        self._places: list[tuple[int, int | None, int | None]] = []
        self._failure: BarTableError | None = None
        self._file: Any = None

    def copy(self, original: Stream) -> None:
        """Write the chunks of ``original``; an error reading it is kept for the replay."""
        import pyarrow.ipc as ipc

        writer: Any = None
        try:
            for chunk in original.chunks(self._rows, self._columns):
                if writer is None:
                    # The stream format, as it is read in order: it also takes a dictionary
                    # column whose dictionary changes between row groups.
                    writer = ipc.new_stream(str(self._path), chunk.batch.schema)
                writer.write_batch(chunk.batch)
                self._places.append((chunk.first_row, chunk.row_group, chunk.group_offset))
        except BarTableError as exc:
            self._failure = exc
        finally:
            if writer is not None:
                writer.close()

    def chunks(
        self, rows: int, columns: Sequence[str], span: tuple[int, int] | None = None
    ) -> Iterator[Chunk]:
        """The staged chunks, which were cut for these ``rows`` and ``columns``."""
        if (rows, list(columns), span) != (self._rows, self._columns, None):
            raise ValueError("a staged stream hands out the chunks it was staged with")
        if self._places:
            import pyarrow.ipc as ipc

            self._file = pa.OSFile(str(self._path))
            batches = ipc.open_stream(self._file)
            for batch, (first_row, row_group, offset) in zip(batches, self._places, strict=True):
                self.rows_read += batch.num_rows
                yield Chunk(batch, first_row, row_group, offset)
        if self._failure is not None:
            raise self._failure

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
