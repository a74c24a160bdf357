"""What every Spark job shares: the session, the lake paths, argument parsing.

Only pyspark and the standard library are imported here, so the jobs run the same
in-process (local[*]) and through spark-submit on a cluster.
"""

from __future__ import annotations

import argparse
import os
import sys

from pyspark.sql import DataFrame, SparkSession


def get_spark(app_name: str, master: str | None = None) -> SparkSession:
    """The active session, or a new one (``SPARK_MASTER`` or local[*])."""
    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    # Python workers must run the driver's interpreter (the venv with pandas/numpy),
    # not whatever `python3` is first on PATH.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = SparkSession.builder.appName(app_name)
    master = master or os.environ.get("SPARK_MASTER")
    # Under spark-submit the master is already set; only in-process runs pick one.
    if master and not os.environ.get("SPARK_SUBMIT_ACTIVE"):
        builder = builder.master(master)
    builder = (
        builder.config(
            "spark.sql.shuffle.partitions", os.environ.get("SHOPGUIDE_SHUFFLE_PARTITIONS", "8")
        )
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.driver.memory", os.environ.get("SHOPGUIDE_SPARK_DRIVER_MEMORY", "4g"))
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
    )
    return builder.getOrCreate()


def run_dir(lake: str, run_date: str) -> str:
    return f"{lake.rstrip('/')}/run_date={run_date}"


def input_path(lake: str, run_date: str, name: str) -> str:
    return f"{run_dir(lake, run_date)}/inputs/{name}.parquet"


def output_path(lake: str, run_date: str, name: str) -> str:
    return f"{run_dir(lake, run_date)}/outputs/{name}"


def read_input(spark: SparkSession, lake: str, run_date: str, name: str) -> DataFrame:
    return spark.read.parquet(input_path(lake, run_date, name))


def write_output(df: DataFrame, lake: str, run_date: str, name: str) -> None:
    """Overwrite the run's output: a rerun replaces, never appends."""
    df.write.mode("overwrite").parquet(output_path(lake, run_date, name))
    _failpoint("spark")


def _failpoint(name: str) -> None:
    from spark_jobs.faults import failpoint

    failpoint(name)


def job_arguments(
    description: str, argv: list[str] | None = None, extra=None
) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--lake", required=True, help="lake root (local path or Hadoop-compatible URI)"
    )
    parser.add_argument("--run-date", required=True, help="the run's logical date, YYYY-MM-DD")
    if extra is not None:
        extra(parser)
    return parser.parse_args(argv)
