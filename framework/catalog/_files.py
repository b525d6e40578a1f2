"""Reading a catalog file's footer: its rows, row groups and time span, or one line saying why
it cannot be read."""

from __future__ import annotations

from pathlib import Path

import attrs
import pyarrow as pa
import pyarrow.parquet as pq

from .._errors import BarTableError
from ..feeds._bar_table import BAR_SCHEMA

#: Position of the ``time`` column in BAR_SCHEMA (and in every catalog file).
TIME_COLUMN = BAR_SCHEMA.get_field_index("time")


@attrs.frozen(slots=True, kw_only=True)
class StoredFile:
    """One data file of a partition, described by its footer alone."""

    path: Path
    #: Open times (int ns) of its first and last bar.
    first: int
    last: int
    rows: int
    row_groups: int


def read_footer(path: Path, metadata: pq.FileMetaData | None = None) -> StoredFile:
    """The footer of ``path`` (or the ``metadata`` already read from it); BarTableError naming
    the file if it is not a Parquet file of bars with time statistics."""
    if metadata is None:
        try:
            metadata = pq.read_metadata(path)
        except (pa.ArrowException, OSError) as exc:
            raise unreadable(path, exc) from None
    schema = metadata.schema.to_arrow_schema()
    if not schema.remove_metadata().equals(BAR_SCHEMA):
        columns = ", ".join(schema.names)
        raise BarTableError(str(path), f"not a catalog bar file (columns {columns})")
    if metadata.num_rows == 0:
        raise BarTableError(str(path), "a catalog file without rows")
    firsts: list[int] = []
    lasts: list[int] = []
    for index in range(metadata.num_row_groups):
        stats = metadata.row_group(index).column(TIME_COLUMN).statistics
        if stats is None or not stats.has_min_max:
            raise BarTableError(str(path), f"row group {index} has no time statistics")
        firsts.append(stats.min_raw)
        lasts.append(stats.max_raw)
    return StoredFile(
        path=path,
        first=min(firsts),
        last=max(lasts),
        rows=metadata.num_rows,
        row_groups=metadata.num_row_groups,
    )


def unreadable(path: Path | str, exc: BaseException) -> BarTableError:
    """The one-line error for a file pyarrow could not read."""
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return BarTableError(str(path), f"unreadable Parquet file ({reason})")
