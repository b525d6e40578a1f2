"""Where bars in Arrow form come from, opened as streams of record batches that know their place.

A source is a pyarrow ``Table``, ``RecordBatch`` or ``RecordBatchReader``, a pandas or polars
``DataFrame`` (or anything with ``__arrow_c_stream__``), or a path: a ``.parquet`` file, a
Feather / Arrow IPC file (``.feather``, ``.arrow``, ``.ipc``; the IPC stream format too) or a
directory holding such files at any depth. Each file of a directory is a :class:`Stream` of its
own, read in order; the feed merges them by time.

Directories follow Hive's layout: a folder named ``key=value`` (``symbol=AAPL/``,
``interval=1m/``) gives every row below it that value, as if the files had a constant column
``key``. Values are URI-decoded (``symbol=NASDAQ%3AAAPL``) and ``__HIVE_DEFAULT_PARTITION__``
means no value, as pyarrow.dataset and Spark write them. They are read from the path here,
rather than through ``pyarrow.dataset``, because that module imports pandas with it and would
open every file's footer a second time.

Files are read a batch at a time (Parquet row group by row group, page by page, only the
columns a bar needs; Feather a record batch at a time), so memory stays flat with the length of
a file. They are read, not memory-mapped: every page of a map that has been read counts as the
process's memory while the map is open, which for a long replay is the whole file. Each stream
says how much its reader holds at once (:meth:`Stream.read_ahead_bytes`), so that a directory of
many files can be staged rather than read side by side (:mod:`._arrow_staging`). pandas and
polars are never imported here: a frame is recognized by its type's module, and converted with
its own library.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple
from urllib.parse import unquote

import pyarrow as pa

from .._errors import BarTableError, ConfigError
from ._arrow_objects import is_arrow_data

log = logging.getLogger(__name__)

PARQUET_SUFFIXES = (".parquet", ".parq", ".pq")
IPC_SUFFIXES = (".feather", ".arrow", ".ipc")
#: Files a directory source reads; anything else in it is named in a warning.
ARROW_SUFFIXES = PARQUET_SUFFIXES + IPC_SUFFIXES

#: Bytes a Parquet reader reads from the file at once: it then holds one page of a column,
#: not the column's whole row group (pyarrow's default, pre-buffering, reads all of it).
READ_BUFFER_BYTES = 1 << 16
#: The size of a Parquet page, at most, as writers cut them (pyarrow's and parquet-mr's
#: default for data and dictionary pages).
PARQUET_PAGE_BYTES = 1 << 20

_HIVE_NULL = "__HIVE_DEFAULT_PARTITION__"
_PANDAS_INDEX = re.compile(r"__index_level_\d+__")


class Chunk(NamedTuple):
    """Consecutive rows of a stream: the batch, the stream's row number of its first row
    (from 0), and for Parquet the row group and the offset of that row in it."""

    batch: pa.RecordBatch
    first_row: int
    row_group: int | None = None
    group_offset: int | None = None


class Stream:
    """Rows of one file or one object in memory, read in order.

    ``label`` names it in messages (the path, or ``DataFrame``); ``partition`` holds the Hive
    ``key=value`` pairs of its folders; ``stem`` is the file name without extension (None in
    memory), the default symbol of a stream without a symbol column.
    """

    #: What a missing value is called in messages.
    missing = "null"

    def __init__(
        self,
        label: str,
        schema: pa.Schema,
        *,
        stem: str | None = None,
        partition: dict[str, str] | None = None,
        total_rows: int | None = None,
    ) -> None:
        self.label = label
        self.schema = schema
        self.stem = stem
        self.partition = partition or {}
        self.total_rows = total_rows
        #: Rows handed out so far: the stream's progress.
        self.rows_read = 0

    def chunks(
        self, rows: int, columns: Sequence[str], span: tuple[int, int] | None = None
    ) -> Iterator[Chunk]:
        """The stream's ``columns`` in chunks of at most ``rows`` rows, in order; with
        ``span``, only its rows ``[start, end)`` (numbered as in the whole stream)."""
        raise NotImplementedError

    def close(self) -> None:
        """Release the file, if any; idempotent."""

    def read_ahead_bytes(self, columns: Sequence[str]) -> int:
        """About the most memory the stream's reader holds at once beside the chunk it hands
        out (decoded pages, a file's record batch): what reading many streams side by side
        multiplies. 0 for data already in memory."""
        return 0


class BatchStream(Stream):
    """An object in memory, or an IPC file or stream, as record batches."""

    def __init__(
        self, label: str, batches: Any, schema: pa.Schema, *, read_ahead: int = 0, **kwargs: Any
    ) -> None:
        super().__init__(label, schema, **kwargs)
        self._batches = batches
        self._source: Any = None
        self._read_ahead = read_ahead

    def chunks(
        self, rows: int, columns: Sequence[str], span: tuple[int, int] | None = None
    ) -> Iterator[Chunk]:
        start, end = span or (0, None)
        first = 0
        for batch in _rechunked(self._read(), rows, self.schema):
            part, at = _clipped(batch, first, start, end)
            first += batch.num_rows
            if part is not None:
                selected = part.select(list(columns))
                self.rows_read += selected.num_rows
                yield Chunk(selected, at)
            if end is not None and first >= end:
                break

    def _read(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from self._batches()
        except pa.ArrowException as exc:
            raise BarTableError(self.label, f"cannot be read: {_first_line(exc)}") from None

    def close(self) -> None:
        if self._source is not None:
            self._source.close()

    def read_ahead_bytes(self, columns: Sequence[str]) -> int:
        return self._read_ahead


class ParquetStream(Stream):
    """A Parquet file, row group by row group."""

    def __init__(self, path: Path, label: str, *, partition: dict[str, str]) -> None:
        import pyarrow.parquet as pq

        try:
            self._file = pq.ParquetFile(
                path, memory_map=False, pre_buffer=False, buffer_size=READ_BUFFER_BYTES
            )
        except (pa.ArrowException, OSError) as exc:
            raise BarTableError(
                label, f"not a readable Parquet file ({_first_line(exc)})"
            ) from None
        metadata = self._file.metadata
        super().__init__(
            label,
            self._file.schema_arrow,
            stem=path.stem,
            partition=partition,
            total_rows=metadata.num_rows,
        )
        self._group_rows = [metadata.row_group(i).num_rows for i in range(metadata.num_row_groups)]

    def chunks(
        self, rows: int, columns: Sequence[str], span: tuple[int, int] | None = None
    ) -> Iterator[Chunk]:
        start, end = span or (0, None)
        first = 0
        for group, group_rows in enumerate(self._group_rows):
            if first + group_rows <= start:
                first += group_rows  # a window's reader skips whole row groups unread
                continue
            if end is not None and first >= end:
                break
            offset = 0
            batches = self._file.iter_batches(
                batch_size=rows, row_groups=[group], columns=list(columns), use_threads=False
            )
            while True:
                try:
                    batch = next(batches, None)
                except (pa.ArrowException, OSError) as exc:
                    raise BarTableError(
                        self.label,
                        f"row group {group} (rows {first}..{first + group_rows - 1}) cannot be "
                        f"read: {_first_line(exc)}; the file is damaged",
                    ) from None
                if batch is None:
                    break
                part, at = _clipped(batch, first + offset, start, end)
                offset += batch.num_rows
                if part is not None:
                    self.rows_read += part.num_rows
                    yield Chunk(part, at, group, at - first)
                if end is not None and first + offset >= end:
                    break
            first += group_rows
            pa.default_memory_pool().release_unused()

    def close(self) -> None:
        self._file.close()

    def read_ahead_bytes(self, columns: Sequence[str]) -> int:
        # Per column, in the middle of a row group: the read buffer and about a page, or the
        # column's whole row group if smaller. Measured: 2.3 MB for a file of 100,000 rows in
        # one row group (estimated 2.3 MB), 0.6 MB for 10,000 rows (0.65 MB), 5 MB for row
        # groups of 1M rows (6.7 MB).
        metadata = self._file.metadata
        wanted = set(columns)
        largest = 0
        for group in range(metadata.num_row_groups):
            row_group = metadata.row_group(group)
            held = 0
            for i in range(row_group.num_columns):
                chunk = row_group.column(i)
                if chunk.path_in_schema.split(".")[0] in wanted:
                    held += READ_BUFFER_BYTES + min(
                        chunk.total_uncompressed_size, PARQUET_PAGE_BYTES
                    )
            largest = max(largest, held)
        return largest


def streams_of(source: Any, *, label: str | None = None) -> list[Stream]:
    """The streams of ``source`` (see the module docstring); ``label`` names an object in
    memory in messages (default: its kind, ``DataFrame``, ``Table``...).

    Raises ConfigError for what is no source of bars, BarTableError for a file that cannot
    be read.
    """
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        if path.is_dir():
            return _directory_streams(path)
        if not path.exists():
            raise ConfigError(f"data file not found: {path}")
        return [_file_stream(path, str(path), {})]
    return [_memory_stream(source, label)]


def pandas_index_column(name: str) -> bool:
    """Whether ``name`` is a column pyarrow made of an unnamed pandas index."""
    return _PANDAS_INDEX.fullmatch(name) is not None


# -- objects in memory ---------------------------------------------------------------------


def check_data(source: Any) -> None:
    """ConfigError unless ``source`` is data in memory that :func:`streams_of` reads."""
    module = type(source).__module__.split(".")[0]
    name = type(source).__name__
    if module == "polars" and name == "LazyFrame":
        raise ConfigError("a polars LazyFrame holds no data yet: pass frame.collect()")
    if not is_arrow_data(source):
        raise ConfigError(
            f"cannot read bars from a {name}: give a pandas or polars DataFrame, a pyarrow "
            "Table, RecordBatch or RecordBatchReader, or a path to .parquet, .feather, .arrow "
            "or .csv files"
        )
    if module == "pyarrow" and not isinstance(
        source, pa.Table | pa.RecordBatch | pa.RecordBatchReader
    ):
        raise ConfigError(f"cannot read bars from a pyarrow {name}: give a Table")


def _memory_stream(source: Any, label: str | None) -> Stream:
    check_data(source)
    module = type(source).__module__.split(".")[0]
    label = label or type(source).__name__
    if module == "pandas":
        table = _pandas_table(source, label)
    elif module == "polars":
        table = source.to_arrow()
    elif isinstance(source, pa.RecordBatch):
        table = pa.Table.from_batches([source])
    elif isinstance(source, pa.Table):
        table = source
    elif isinstance(source, pa.RecordBatchReader):
        return BatchStream(label, lambda: iter(source), source.schema)
    else:
        reader = pa.RecordBatchReader.from_stream(source)
        return BatchStream(label, lambda: iter(reader), reader.schema)
    stream = BatchStream(
        label, lambda: iter(table.to_batches()), table.schema, total_rows=table.num_rows
    )
    if module == "pandas":
        # pyarrow reads pandas' NaN, None and NaT as null, and a user knows them by those.
        stream.missing = "null: NaN, None or NaT in pandas"
    return stream


def _pandas_table(frame: Any, label: str) -> pa.Table:
    """A pandas frame as a table, its index a column when it is more than row numbers.

    A column of Python objects that pyarrow cannot type (numbers mixed with text, as a frame
    read from a messy spreadsheet holds) is taken as text, so that its bad rows are named one
    by one as in a bar file, rather than the whole frame refused with pyarrow's message.
    """
    try:
        return pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        pass
    frame = frame.copy(deep=False)
    for name in frame.columns:
        column = frame[name]
        if column.dtype != object:
            continue
        try:
            pa.array(column, from_pandas=True)
        except (pa.ArrowInvalid, pa.ArrowTypeError):
            frame[name] = [None if _missing(v) else str(v) for v in column]
    try:
        return pa.Table.from_pandas(frame)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        raise BarTableError(label, f"cannot be read as a table: {_first_line(exc)}") from None


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and value != value)


# -- files -----------------------------------------------------------------------------------


def _file_stream(path: Path, label: str, partition: dict[str, str]) -> Stream:
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES:
        return ParquetStream(path, label, partition=partition)
    if suffix in IPC_SUFFIXES:
        return _ipc_stream(path, label, partition)
    raise ConfigError(
        f"unsupported data file {path}: expected .csv, .parquet, .feather, .arrow or .twrec"
    )


def _ipc_stream(path: Path, label: str, partition: dict[str, str]) -> Stream:
    import pyarrow.ipc as ipc

    try:
        source = pa.OSFile(str(path))
    except OSError as exc:
        raise BarTableError(label, f"cannot open: {exc.strerror or exc}") from None
    try:
        reader = ipc.open_file(source)
    except pa.ArrowException as file_error:
        # The same suffixes hold the IPC stream format, which has no footer.
        try:
            source.seek(0)
            stream_reader = ipc.open_stream(source)
        except pa.ArrowException:
            source.close()
            raise BarTableError(
                label,
                f"not a readable Feather/Arrow IPC file ({_first_line(file_error)}); "
                "Feather V1 files are not read: rewrite with pyarrow.feather.write_feather",
            ) from None
        # Batches of unknown size: as if the file were one.
        stream = BatchStream(
            label, lambda: iter(stream_reader), stream_reader.schema, stem=path.stem,
            partition=partition, read_ahead=source.size(),
        )  # fmt: skip
        stream._source = source
        return stream
    batches = reader.num_record_batches
    stream = BatchStream(
        label,
        lambda: (reader.get_batch(i) for i in range(batches)),
        reader.schema,
        stem=path.stem,
        partition=partition,
        total_rows=reader.count_rows(),
        read_ahead=source.size() // max(batches, 1),
    )
    stream._source = source
    return stream


def _directory_streams(root: Path) -> list[Stream]:
    found = directory_files(root)
    files = [path for path in found if path.suffix.lower() in ARROW_SUFFIXES]
    if not files:
        raise ConfigError(f"{root}: no .parquet, .feather or .arrow files in the directory")
    others = [str(path.relative_to(root)) for path in found if path not in files]
    if others:
        log.warning(
            "%s: reading Parquet and Feather files only; ignoring %s", root, ", ".join(others)
        )
    streams: list[Stream] = []
    try:
        for path in files:
            streams.append(_file_stream(path, str(path), hive_partition(path.relative_to(root))))
    except BaseException:
        for stream in streams:
            stream.close()
        raise
    return streams


def directory_files(root: Path) -> list[Path]:
    """The files below ``root`` in path order, hidden files and markers (``_SUCCESS``,
    ``_metadata``, ``.crc``) left out: what a directory source is made of."""
    return [
        path
        for path in sorted(root.rglob("*"))
        if path.is_file()
        and not any(part.startswith((".", "_")) for part in path.relative_to(root).parts)
    ]


def hive_partition(relative: Path) -> dict[str, str]:
    """The ``key=value`` folders of a file's path below its dataset's root."""
    found: dict[str, str] = {}
    for part in relative.parts[:-1]:
        key, equals, value = part.partition("=")
        if equals and key and value != _HIVE_NULL:
            found[unquote(key)] = unquote(value)
    return found


# -- batches -----------------------------------------------------------------------------------


def _rechunked(
    batches: Iterator[pa.RecordBatch], rows: int, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """``batches`` cut or joined into batches of ``rows`` rows (the last may be shorter): big
    enough for whole-column work to pay, small enough to hold few in memory."""
    pending: list[pa.RecordBatch] = []
    count = 0
    for batch in batches:
        start = 0
        while start < batch.num_rows:
            take = min(rows - count, batch.num_rows - start)
            pending.append(batch.slice(start, take))
            count += take
            start += take
            if count == rows:
                yield _joined(pending, schema)
                pending, count = [], 0
    if count:
        yield _joined(pending, schema)


def _clipped(
    batch: pa.RecordBatch, first: int, start: int, end: int | None
) -> tuple[pa.RecordBatch | None, int]:
    """The rows of ``batch`` (its first row numbered ``first``) in ``[start, end)``, and the
    number of the first of them; None when there are none."""
    low = max(start, first)
    high = first + batch.num_rows if end is None else min(end, first + batch.num_rows)
    if high <= low:
        return None, low
    if (low, high) == (first, first + batch.num_rows):
        return batch, first
    return batch.slice(low - first, high - low), low


def _joined(batches: list[pa.RecordBatch], schema: pa.Schema) -> pa.RecordBatch:
    if len(batches) == 1:
        return batches[0]
    return pa.Table.from_batches(batches, schema=schema).combine_chunks().to_batches()[0]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]
