"""The bar catalog: bars stored as a Hive-partitioned Parquet dataset, partitioned by symbol
and bar size, sorted by time, queried by span reading only the row groups it needs
(docs/catalog.md)."""

from ..feeds._bar_table import COMPRESSION as COMPRESSION
from ._catalog import ROW_GROUP_ROWS as ROW_GROUP_ROWS
from ._catalog import Catalog as Catalog
from ._catalog import CatalogEntry as CatalogEntry
from ._catalog import CatalogWrite as CatalogWrite
from ._scan import BarScanner as BarScanner
from ._scan import ScanStatistics as ScanStatistics
from ._scan import TimeBound as TimeBound

__all__ = [
    "COMPRESSION",
    "ROW_GROUP_ROWS",
    "BarScanner",
    "Catalog",
    "CatalogEntry",
    "CatalogWrite",
    "ScanStatistics",
    "TimeBound",
]
