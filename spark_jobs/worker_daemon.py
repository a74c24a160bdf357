"""PySpark's Python worker daemon, with zip archives read once instead of at every task.

Spark starts its Python workers through ``python -m pyspark.daemon`` (the
``spark.python.daemon.module`` setting picks this module instead). Before every task a
worker calls ``importlib.invalidate_caches()``, and in Python 3.10+ a
``zipimporter`` answers that by reading its archive's whole directory again. The
workers' path holds ``pyspark.zip`` (about 1,300 files, one importer per package
imported from it) and ``spark-core_*.jar`` (about 5,400 files): py-spy over one demo
shop run found 782 of its 3,734 Python samples (driver and workers) there. Here an importer
re-reads its archive only when the file changed (size or modification time), which is
what the invalidation is for: a new ``--py-files`` archive is a new path and is read
when it is first imported from, as before.
"""

from __future__ import annotations

import os
import zipimport

# Zip importers' own method (a second import of this module must not wrap the wrapper).
_reread = getattr(
    zipimport.zipimporter.invalidate_caches,
    "reread",
    zipimport.zipimporter.invalidate_caches,
)


def _stamp(archive: str) -> tuple[int, int] | None:
    try:
        status = os.stat(archive)
    except OSError:
        return None
    return status.st_mtime_ns, status.st_size


def invalidate_caches(self) -> None:
    """``zipimporter.invalidate_caches`` when the archive changed since this importer
    last read it (the first call reads it once more); otherwise nothing: its
    directory is still the file's."""
    stamp = _stamp(self.archive)
    if stamp is not None and getattr(self, "_read_at", None) == stamp:
        return
    _reread(self)
    self._read_at = stamp


invalidate_caches.reread = _reread
zipimport.zipimporter.invalidate_caches = invalidate_caches

if __name__ == "__main__":
    from pyspark import daemon

    daemon.manager()
