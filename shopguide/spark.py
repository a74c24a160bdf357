"""Run a Spark job from ``spark_jobs/``: in-process for local masters, spark-submit otherwise.

A job is a module ``spark_jobs/<job>.py`` or a package ``spark_jobs/<job>/`` whose entry
point (``main``, run as the spark-submit script) is its ``job.py``."""

from __future__ import annotations

import collections
import gc
import importlib
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import zipfile
from pathlib import Path

from shopguide.settings import REPO_ROOT, Settings

log = logging.getLogger("shopguide.spark")


class SparkJobError(RuntimeError):
    pass


JOBS_DIR = REPO_ROOT / "spark_jobs"
ENTRY_MODULE = "job"  # the entry point of a job that is a package: spark_jobs/<job>/job.py


def job_script(job: str) -> Path:
    """The file spark-submit runs for ``job``: ``spark_jobs/<job>.py``, or
    ``spark_jobs/<job>/job.py`` for a job that is a package. It imports ``spark_jobs.*``
    absolutely, from the --py-files zip (and PYTHONPATH)."""
    package = JOBS_DIR / job
    return package / f"{ENTRY_MODULE}.py" if package.is_dir() else JOBS_DIR / f"{job}.py"


def job_module(job: str):
    """The module whose ``main`` runs ``job`` in-process: ``spark_jobs.<job>``, or
    ``spark_jobs.<job>.job`` for a job that is a package."""
    module = importlib.import_module(f"spark_jobs.{job}")
    if hasattr(module, "__path__"):  # a package
        module = importlib.import_module(f"spark_jobs.{job}.{ENTRY_MODULE}")
    return module


def _zip_jobs(dest: Path) -> Path:
    """spark_jobs as a zip for --py-files, so executors import the same modules: every
    ``.py`` file, subpackages included, at its path under ``spark_jobs/``."""
    archive = dest / "spark_jobs.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for file in sorted(JOBS_DIR.rglob("*.py")):
            relative = file.relative_to(JOBS_DIR)
            if "__pycache__" in relative.parts:
                continue
            zf.write(file, f"spark_jobs/{relative.as_posix()}")
    return archive


def event_log_dir(settings: Settings) -> str | None:
    """Where Spark writes its event logs (a history server's ``spark.history.fs.logDirectory``):
    ``SHOPGUIDE_SPARK_EVENT_LOG_DIR``, default ``<home>/spark-events``; ``off`` disables.
    A local directory is created (Spark refuses a missing one) and given as a file:// URI."""
    configured = settings.spark_event_log_dir or str(Path(settings.home) / "spark-events")
    if configured.lower() in ("off", "none", "0", "false"):
        return None
    if "://" in configured and not configured.startswith("file://"):
        return configured  # hdfs://, s3a://: the cluster's file system
    local = Path(configured.removeprefix("file://")).resolve()
    local.mkdir(parents=True, exist_ok=True)
    return local.as_uri()


# What the driver keeps of finished jobs for its UI and status store. Spark's defaults
# (1,000 SQL executions with their plans, 1,000 jobs and stages, 100,000 tasks) grow the
# heap of a long-lived driver: a backfill runs every date's jobs in one in-process JVM.
UI_RETENTION = {
    "spark.sql.ui.retainedExecutions": "100",
    "spark.ui.retainedJobs": "200",
    "spark.ui.retainedStages": "200",
    "spark.ui.retainedTasks": "10000",
}


# An in-process (local) driver is also the only executor. Spark sizes its memory pages
# from heap / cores (64 MB for 4 GB and 2 cores), and every broadcast join's hash table
# takes at least a page: measured on a small shop, 19 such tables held 1.2 GB of a 4 GB
# heap after two nightly runs in one JVM (a broadcast then failed with "Not enough memory
# to build and broadcast the table"); with 4 MB pages the same runs left 0.2 GB.
# Python workers start from spark_jobs.worker_daemon (PySpark's daemon without a re-read
# of pyspark.zip and Spark's jar before every task; the module says why). Local only: a
# cluster's executors import spark_jobs from the --py-files zip, which a daemon started
# before any task cannot see.
LOCAL_CONFS = {
    "spark.buffer.pageSize": "4m",
    "spark.python.daemon.module": "spark_jobs.worker_daemon",
}


def _spark_confs(settings: Settings) -> dict[str, str]:
    confs = {"spark.ui.showConsoleProgress": "false", **UI_RETENTION}
    directory = event_log_dir(settings)
    if directory:
        confs.update({"spark.eventLog.enabled": "true", "spark.eventLog.dir": directory})
    return confs


# Up to this much input (the run's lake inputs, bytes) a job is many short Spark jobs on
# tiny data: the JVM's optimizing compiler (C2) spends more CPU compiling than its code
# saves, so "auto" keeps the JVM on the quick compiler (C1). C1 alone shrinks the JVM's
# code cache to 48 MB, which a whole run filled ("CodeCache is full. Compiler has been
# disabled.": the rest ran interpreted), hence the larger cache. Whole run of the e2e
# test shop (400 customers, 0.12 MB of inputs), idle machine, wall / CPU seconds of the
# machine, one run each: C1 with 48 MB 140 s / 196 CPU-s, C1 with 256 MB 120 s / 159,
# C2 130 s / 214. The demo shop (1.76 MB) keeps C2: with C1 (256 MB) its ALS fits took
# 18-19 s against 12-17.6 s and its whole run 259 s against 234.5 s (3 runs against 1).
SMALL_INPUT_BYTES = 1024**2


def quick_jit_options(code_cache_mb: int) -> str:
    """JVM options for the quick JIT compiler alone (C1) with a code cache of
    ``code_cache_mb`` (C1's default 48 MB filled within one run)."""
    return f"-XX:TieredStopAtLevel=1 -XX:ReservedCodeCacheSize={code_cache_mb}m"


# The throughput collector instead of G1, whatever the size: a nightly run is a batch
# whose pauses nobody waits on, and G1's concurrent marking shares the two cores with the
# tasks (a JFR recording of one demo run: 85 old-generation cycles, 16.5 s of
# concurrent phases, the machine 89% busy). Demo shop, whole run, alternating pairs on
# an idle machine: 146.9 and 159.7 s against 167.7 and 173.6 s with G1 (recommend 111.8
# and 122.2 s against 132.7 and 135.5 s). 25k shop, one run each: 316.9 s against 351.1 s,
# peak memory of all processes 6.11 against 6.84 GiB. The same published tables.
THROUGHPUT_GC = "-XX:+UseParallelGC"
SMALL_INPUT_JAVA_OPTIONS = f"{quick_jit_options(256)} {THROUGHPUT_GC}"


def _argument(args: list[str], name: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def input_bytes(args: list[str]) -> int | None:
    """Bytes of the run's lake inputs (``--lake``, ``--run-date`` of a job's arguments);
    None when the lake is not a local path or holds no inputs for the run."""
    from spark_jobs.common import run_dir

    lake, run_date = _argument(args, "--lake"), _argument(args, "--run-date")
    if not lake or not run_date or ("://" in lake and not lake.startswith("file://")):
        return None
    inputs = Path(run_dir(lake.removeprefix("file://"), run_date)) / "inputs"
    if not inputs.is_dir():
        return None
    return sum(f.stat().st_size for f in inputs.rglob("*") if f.is_file())


def java_options(settings: Settings, args: list[str]) -> str:
    """The Spark driver's and executors' JVM options for a job: SHOPGUIDE_SPARK_JAVA_OPTIONS,
    or with "auto" (the default) the throughput collector, and for small inputs the quick
    JIT compiler alone."""
    if settings.spark_java_options.lower() != "auto":
        return settings.spark_java_options
    size = input_bytes(args)
    small = size is not None and size <= SMALL_INPUT_BYTES
    return SMALL_INPUT_JAVA_OPTIONS if small else THROUGHPUT_GC


def spark_submit_command(
    settings: Settings, job: str, args: list[str], py_files: Path
) -> list[str]:
    pyspark_home = Path(importlib.import_module("pyspark").__file__).parent
    submit = os.environ.get("SPARK_SUBMIT") or str(pyspark_home / "bin" / "spark-submit")
    confs = [item for k, v in _spark_confs(settings).items() for item in ("--conf", f"{k}={v}")]
    options = java_options(settings, args)
    if options:
        confs += ["--driver-java-options", options]
        confs += ["--conf", f"spark.executor.extraJavaOptions={options}"]
    if settings.spark_executor_memory:
        confs += ["--executor-memory", settings.spark_executor_memory]
    return [
        submit,
        "--master", settings.spark_master,
        "--name", f"shopguide-{job}",
        "--driver-memory", settings.spark_driver_memory,
        "--conf", f"spark.pyspark.python={os.environ.get('PYSPARK_PYTHON', sys.executable)}",
        "--conf", f"spark.pyspark.driver.python={sys.executable}",
        *confs,
        "--py-files", str(py_files),
        str(job_script(job)),
        *args,
    ]  # fmt: skip


def run_spark_job(settings: Settings, job: str, args: list[str]) -> None:
    """Run the job ``job`` (:func:`job_script`) with ``args``; raise SparkJobError on failure.

    Local masters run in-process (the task's own JVM; its log goes to the task's
    stderr). Otherwise ``spark-submit`` runs in its own process group: its driver log
    streams line by line into this process's log (the Airflow task log) while it runs,
    and a SIGTERM to this process (Airflow killing the task), an exception or this
    process dying (``PR_SET_PDEATHSIG``) stops the whole group: driver and application.
    """
    if not settings.spark_is_remote:
        _run_in_process(settings, job, args)
        return
    tmp = Path(tempfile.mkdtemp(prefix="shopguide-submit-"))
    try:
        command = spark_submit_command(settings, job, args, _zip_jobs(tmp))
        env = {**os.environ, "SPARK_SUBMIT_ACTIVE": "1", "PYTHONPATH": str(REPO_ROOT)}
        env.setdefault("PYSPARK_PYTHON", sys.executable)
        returncode, tail = _submit_streaming(command, env, job)
        if returncode != 0:
            raise SparkJobError(
                f"spark-submit of {job} to {settings.spark_master} failed (exit {returncode}):\n"
                + "\n".join(tail)
            )
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _run_in_process(settings: Settings, job: str, args: list[str]) -> None:
    module = job_module(job)
    os.environ.setdefault("SHOPGUIDE_SPARK_DRIVER_MEMORY", settings.spark_driver_memory)
    from pyspark import SparkContext

    from spark_jobs.common import get_spark

    global _OWN_GATEWAY
    if SparkContext._gateway is None:
        # Spark's warnings go to a file, not the terminal; the JVM starts here.
        _log_to_file(settings, java_options(settings, args))
        _OWN_GATEWAY = SparkContext._gateway
    confs = (
        {}
        if SparkContext._active_spark_context is not None
        else {**_spark_confs(settings), **LOCAL_CONFS}
    )
    if confs:
        # A new session reads spark.* JVM system properties as its defaults; they are
        # cleared again once it exists, so later sessions of this process are unaffected.
        SparkContext._ensure_initialized()
        system = SparkContext._jvm.java.lang.System
        for key, value in confs.items():
            system.setProperty(key, value)
    try:
        spark = get_spark(f"shopguide-{job}", settings.spark_master)
    finally:
        for key in confs:
            SparkContext._jvm.java.lang.System.clearProperty(key)
    try:
        module.main(args)
    finally:
        # The JVM outlives the job (`shopguide run` and backfills run every job of every
        # date in it): nothing a job cached stays behind for the next one. Python's own
        # collection first: the job's frames in reference cycles still hold their JVM
        # plans, and with them the blocks of their broadcast joins.
        gc.collect()
        spark.catalog.clearCache()


def spark_log_path(settings: Settings) -> Path:
    """Where an in-process Spark JVM writes its log (``$SHOPGUIDE_REPORTS/spark/spark.log``)."""
    return Path(settings.reports_dir) / "spark" / "spark.log"


def _log_to_file(settings: Settings, extra_java_options: str = "") -> None:
    """Before the in-process JVM starts: its log4j2 log (WARN and up: "No Partition
    Defined for Window operation", native-library notes, ...) goes to
    :func:`spark_log_path` instead of the terminal. Only for this launch (the variable is
    read when pyspark starts the JVM) and only when PYSPARK_SUBMIT_ARGS is not set."""
    if os.environ.get("PYSPARK_SUBMIT_ARGS"):
        return
    log_file = spark_log_path(settings)
    log_file.parent.mkdir(parents=True, exist_ok=True)
    config = log_file.parent / "log4j2.properties"
    config.write_text(
        "rootLogger.level = warn\n"
        "rootLogger.appenderRef.file.ref = file\n"
        "appender.file.type = File\n"
        "appender.file.name = file\n"
        f"appender.file.fileName = {log_file}\n"
        "appender.file.append = true\n"
        "appender.file.layout.type = PatternLayout\n"
        "appender.file.layout.pattern = %d{yy/MM/dd HH:mm:ss} %p %c{1}: %m%n%ex\n"
    )
    # The JVM starts here, so its heap is set here too (get_spark's spark.driver.memory
    # comes too late for a running JVM).
    os.environ["PYSPARK_SUBMIT_ARGS"] = (
        f"--driver-memory {settings.spark_driver_memory} "
        f'--driver-java-options "-Dlog4j2.configurationFile=file:{config} {extra_java_options}" '
        "pyspark-shell"
    )
    try:
        from pyspark import SparkContext

        SparkContext._ensure_initialized()
    finally:
        del os.environ["PYSPARK_SUBMIT_ARGS"]


def _prctl():
    """libc's prctl, looked up in the parent: the child between fork and exec of a
    multi-threaded process must not import or dlopen anything."""
    try:
        import ctypes

        return ctypes.CDLL("libc.so.6", use_errno=True).prctl
    except Exception:
        return None


def _die_with_parent_hook():
    prctl = _prctl()

    def hook() -> None:
        """In the child before exec: SIGTERM when the launching process dies (even SIGKILL)."""
        if prctl is not None:
            prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG

    return hook


# Airflow's task supervisor SIGKILLs a task 5 s after its SIGTERM: the launcher's own
# SIGKILL of the Spark process group must come before that.
STOP_GRACE_SECONDS = 3.0


def _stop_group(proc: subprocess.Popen, grace: float = STOP_GRACE_SECONDS) -> None:
    """SIGTERM the spark-submit process group (driver JVM, Python driver), then SIGKILL."""
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            continue
        # the leader is gone; make sure nothing else of its group outlived it
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        return


def _submit_streaming(command: list[str], env: dict, job: str) -> tuple[int, list[str]]:
    """Run spark-submit, log its output as it comes; (exit code, last lines)."""
    tail: collections.deque[str] = collections.deque(maxlen=15)
    proc = subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        encoding="utf-8",
        errors="replace",  # one odd byte in a driver log line must not fail the task
        bufsize=1,
        start_new_session=True,
        preexec_fn=_die_with_parent_hook(),
    )
    log.info("spark-submit %s started (pid %s, process group %s)", job, proc.pid, proc.pid)
    previous = None
    in_main = threading.current_thread() is threading.main_thread()
    if in_main:
        previous = signal.getsignal(signal.SIGTERM)

        def on_term(signum, frame):
            log.warning("SIGTERM: stopping the Spark application of %s (pid %s)", job, proc.pid)
            _stop_group(proc)
            if callable(previous):
                previous(signum, frame)
            raise SparkJobError(f"spark-submit of {job} stopped: the task was terminated")

        signal.signal(signal.SIGTERM, on_term)
    finished = False
    try:
        assert proc.stdout is not None
        for line in proc.stdout:
            line = line.rstrip("\n")
            tail.append(line)
            log.info("[spark %s] %s", job, line)
        returncode = proc.wait()
        finished = True
        return returncode, list(tail)
    finally:
        if in_main:
            signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)
        if not finished:
            _stop_group(proc)


# The JVM gateway _run_in_process launched (None: none, or a session someone else
# started, e.g. a test fixture's, which release_local_jvm leaves alone).
_OWN_GATEWAY = None


def release_local_jvm(timeout: float = 60.0) -> bool:
    """Stop the in-process Spark JVM that :func:`run_spark_job` started, once no Spark job
    follows in this process: `shopguide run` calls it after its last Spark task, so the
    tasks after it (load, validation, publish, report) do not run beside the JVM's idle
    heap (4-5 GiB at the 100k shop). The session stops, the gateway closes and the JVM,
    whose stdin is its life line (PySpark's PythonGatewayServer exits at end of input),
    exits; a later job would start a new one. True when a JVM was stopped."""
    global _OWN_GATEWAY
    from pyspark import SparkContext

    gateway = _OWN_GATEWAY
    if gateway is None or SparkContext._gateway is not gateway:
        return False
    _OWN_GATEWAY = None
    stop_local_session()
    if SparkContext._active_spark_context is not None:
        SparkContext._active_spark_context.stop()
    proc = getattr(gateway, "proc", None)
    try:
        gateway.shutdown()
    finally:
        SparkContext._gateway = None
        SparkContext._jvm = None
        if proc is not None:
            if proc.stdin is not None:
                proc.stdin.close()
            try:
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                log.warning("the Spark JVM did not exit within %.0f s: killed", timeout)
                proc.kill()
                proc.wait()
    return True


def stop_local_session() -> None:
    """Stop the in-process session (tests and the CLI call this at exit)."""
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        active.stop()
