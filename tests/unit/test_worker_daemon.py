"""spark_jobs.worker_daemon: a zip importer re-reads its archive only when it changed."""

from __future__ import annotations

import importlib
import os
import sys
import zipfile
import zipimport

import pytest


@pytest.fixture
def daemon_module():
    current = zipimport.zipimporter.invalidate_caches
    original = getattr(current, "reread", current)
    module = importlib.reload(importlib.import_module("spark_jobs.worker_daemon"))
    assert module._reread is original  # importing twice does not wrap the wrapper
    yield module
    zipimport.zipimporter.invalidate_caches = original


def _archive(path, body: str) -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("zdaemon_probe.py", body)


def test_zip_directory_is_read_again_only_when_the_archive_changes(
    daemon_module, tmp_path, monkeypatch
):
    archive = tmp_path / "probe.zip"
    _archive(archive, "VALUE = 1\n")
    importer = zipimport.zipimporter(str(archive))
    reads = []
    real = daemon_module._reread
    monkeypatch.setattr(daemon_module, "_reread", lambda self: (reads.append(1), real(self)))

    importer.invalidate_caches()  # the first call reads once more
    importer.invalidate_caches()
    importer.invalidate_caches()
    assert len(reads) == 1

    # Another archive at the same path (a larger file, a later mtime): read again, and
    # the importer sees its files.
    _archive(archive, "VALUE = 2\n# " + "x" * 100 + "\n")
    later = os.stat(archive).st_mtime_ns + 10_000_000
    os.utime(archive, ns=(later, later))
    importer.invalidate_caches()
    assert len(reads) == 2
    monkeypatch.syspath_prepend(str(archive))
    sys.modules.pop("zdaemon_probe", None)
    try:
        assert importlib.import_module("zdaemon_probe").VALUE == 2
    finally:
        sys.modules.pop("zdaemon_probe", None)


def test_local_sessions_start_their_python_workers_from_it():
    from shopguide.spark import LOCAL_CONFS

    assert LOCAL_CONFS["spark.python.daemon.module"] == "spark_jobs.worker_daemon"
    spec = importlib.util.find_spec("spark_jobs.worker_daemon")
    assert spec is not None and spec.origin.endswith("worker_daemon.py")
