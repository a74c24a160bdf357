"""Run a Spark job from ``spark_jobs/``: in-process for local masters, spark-submit otherwise."""

from __future__ import annotations

import importlib
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from shopguide.settings import REPO_ROOT, Settings


class SparkJobError(RuntimeError):
    pass


def _zip_jobs(dest: Path) -> Path:
    """spark_jobs as a zip for --py-files, so executors import the same modules."""
    archive = dest / "spark_jobs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted((REPO_ROOT / "spark_jobs").glob("*.py")):
            zf.write(file, f"spark_jobs/{file.name}")
    return archive


def spark_submit_command(
    settings: Settings, job: str, args: list[str], py_files: Path
) -> list[str]:
    pyspark_home = Path(importlib.import_module("pyspark").__file__).parent
    submit = os.environ.get("SPARK_SUBMIT") or str(pyspark_home / "bin" / "spark-submit")
    return [
        submit,
        "--master", settings.spark_master,
        "--name", f"shopguide-{job}",
        "--driver-memory", settings.spark_driver_memory,
        "--conf", f"spark.pyspark.python={os.environ.get('PYSPARK_PYTHON', sys.executable)}",
        "--conf", f"spark.pyspark.driver.python={sys.executable}",
        "--py-files", str(py_files),
        str(REPO_ROOT / "spark_jobs" / f"{job}.py"),
        *args,
    ]  # fmt: skip


def run_spark_job(settings: Settings, job: str, args: list[str]) -> None:
    """Run ``spark_jobs/<job>.py`` with ``args``; raise SparkJobError on failure."""
    if not settings.spark_is_remote:
        module = importlib.import_module(f"spark_jobs.{job}")
        os.environ.setdefault("SHOPGUIDE_SPARK_DRIVER_MEMORY", settings.spark_driver_memory)
        from spark_jobs.common import get_spark

        get_spark(f"shopguide-{job}", settings.spark_master)
        module.main(args)
        return
    tmp = Path(tempfile.mkdtemp(prefix="shopguide-submit-"))
    try:
        command = spark_submit_command(settings, job, args, _zip_jobs(tmp))
        env = {**os.environ, "SPARK_SUBMIT_ACTIVE": "1", "PYTHONPATH": str(REPO_ROOT)}
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        proc = subprocess.run(command, env=env, capture_output=True, text=True)
        if proc.returncode != 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
            raise SparkJobError(
                f"spark-submit of {job} to {settings.spark_master} failed (exit {proc.returncode}):\n{tail}"
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def stop_local_session() -> None:
    """Stop the in-process session (tests and the CLI call this at exit)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
