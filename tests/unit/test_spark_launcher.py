"""The spark-submit launcher: streamed driver log, the app stopped with its task, event logs."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest

from shopguide import spark
from support import make_settings


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead for our purposes
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_submit_command_writes_event_logs_to_the_configured_dir(tmp_path):
    settings = make_settings(tmp_path, spark_master="spark://127.0.0.1:7077")
    command = spark.spark_submit_command(settings, "forecast", ["--x"], tmp_path / "jobs.zip")
    confs = dict(c.split("=", 1) for c in command[1::1] if "=" in c and c.startswith("spark."))
    assert confs["spark.eventLog.enabled"] == "true"
    assert confs["spark.eventLog.dir"] == (settings.home / "spark-events").resolve().as_uri()
    assert (settings.home / "spark-events").is_dir()
    other = settings.with_(spark_event_log_dir=str(tmp_path / "history"))
    assert spark.event_log_dir(other) == (tmp_path / "history").resolve().as_uri()
    assert spark.event_log_dir(settings.with_(spark_event_log_dir="hdfs://nn/spark")) == (
        "hdfs://nn/spark"
    )
    assert spark.event_log_dir(settings.with_(spark_event_log_dir="off")) is None


def test_executor_memory_is_submitted_only_when_configured(tmp_path):
    """Spark's own executor default (1g) unless SHOPGUIDE_SPARK_EXECUTOR_MEMORY is set."""
    settings = make_settings(tmp_path, spark_master="spark://127.0.0.1:7077")
    command = spark.spark_submit_command(settings, "recommend", ["--x"], tmp_path / "jobs.zip")
    assert "--executor-memory" not in command
    sized = settings.with_(spark_executor_memory="3g")
    command = spark.spark_submit_command(sized, "recommend", ["--x"], tmp_path / "jobs.zip")
    assert command[command.index("--executor-memory") + 1] == "3g"


def test_a_job_that_is_a_package_is_submitted_by_its_job_py(tmp_path, monkeypatch):
    """A job is spark_jobs/<job>.py or a package spark_jobs/<job>/ (forecast): spark-submit
    runs the module or the package's job.py, the --py-files zip holds every module at its
    path (subpackages included, nothing from __pycache__), and in-process runs call the
    entry module's main."""
    settings = make_settings(tmp_path, spark_master="spark://127.0.0.1:7077")
    jobs = spark.REPO_ROOT / "spark_jobs"
    for job in ("forecast", "recommend"):
        command = spark.spark_submit_command(settings, job, ["--x"], tmp_path / "jobs.zip")
        script = Path(command[command.index("--py-files") + 2])
        assert script == spark.job_script(job) and script.is_file() and command[-1] == "--x"
    assert spark.job_script("forecast") == jobs / "forecast" / "job.py"
    with zipfile.ZipFile(spark._zip_jobs(tmp_path)) as zf:
        names = set(zf.namelist())
    assert names == {
        f"spark_jobs/{f.relative_to(jobs).as_posix()}"
        for f in jobs.rglob("*.py")
        if "__pycache__" not in f.parts
    }
    assert {
        "spark_jobs/__init__.py",
        "spark_jobs/common.py",
        "spark_jobs/forecast/__init__.py",
        "spark_jobs/forecast/job.py",
        "spark_jobs/forecast/estimators.py",
    } <= names
    entry = spark.job_module("forecast")
    assert entry.__name__ == "spark_jobs.forecast.job" and callable(entry.main)

    fake = tmp_path / "fake" / "spark_jobs"
    for name in ("__init__.py", "flat.py", "pkg/__init__.py", "pkg/job.py", "pkg/__pycache__/x.py"):
        (fake / name).parent.mkdir(parents=True, exist_ok=True)
        (fake / name).write_text("")
    monkeypatch.setattr(spark, "JOBS_DIR", fake)
    assert spark.job_script("flat") == fake / "flat.py"
    assert spark.job_script("pkg") == fake / "pkg" / "job.py"
    out = tmp_path / "out"
    out.mkdir()
    with zipfile.ZipFile(spark._zip_jobs(out)) as zf:
        assert sorted(zf.namelist()) == [
            "spark_jobs/__init__.py",
            "spark_jobs/flat.py",
            "spark_jobs/pkg/__init__.py",
            "spark_jobs/pkg/job.py",
        ]


def test_jvm_options_follow_the_size_of_the_runs_inputs(tmp_path, monkeypatch):
    """ "auto": the throughput collector always, with the quick JIT compiler alone for small
    lake inputs (not for large ones nor for lakes the launcher cannot measure); a
    configured value is used as is."""
    settings = make_settings(tmp_path, spark_master="spark://127.0.0.1:7077")
    lake, day = str(tmp_path / "lake"), "2024-03-31"
    args = ["--lake", lake, "--run-date", day]
    assert spark.java_options(settings, args) == "-XX:+UseParallelGC"  # no inputs exported yet
    inputs = tmp_path / "lake" / f"run_date={day}" / "inputs" / "transactions.parquet"
    inputs.mkdir(parents=True)
    (inputs / "part-0.parquet").write_bytes(b"x" * 1000)
    assert spark.java_options(settings, args) == spark.SMALL_INPUT_JAVA_OPTIONS
    command = spark.spark_submit_command(settings, "recommend", args, tmp_path / "jobs.zip")
    assert command[command.index("--driver-java-options") + 1] == spark.SMALL_INPUT_JAVA_OPTIONS
    assert f"spark.executor.extraJavaOptions={spark.SMALL_INPUT_JAVA_OPTIONS}" in command
    assert "-XX:TieredStopAtLevel=1" in spark.SMALL_INPUT_JAVA_OPTIONS
    assert "-XX:+UseParallelGC" in spark.SMALL_INPUT_JAVA_OPTIONS
    monkeypatch.setattr(spark, "SMALL_INPUT_BYTES", 999)
    assert spark.java_options(settings, args) == "-XX:+UseParallelGC"
    command = spark.spark_submit_command(settings, "recommend", args, tmp_path / "jobs.zip")
    assert command[command.index("--driver-java-options") + 1] == "-XX:+UseParallelGC"
    assert "spark.executor.extraJavaOptions=-XX:+UseParallelGC" in command
    remote = ["--lake", "hdfs://nn/lake", "--run-date", day]
    assert spark.java_options(settings, remote) == "-XX:+UseParallelGC"
    fixed = settings.with_(spark_java_options="-Xss4m")
    assert spark.java_options(fixed, args) == "-Xss4m"


def test_the_driver_log_streams_while_the_job_runs_and_the_tail_names_a_failure(caplog):
    script = "import time,sys\nprint('driver line 1', flush=True)\ntime.sleep(1.5)\nprint('boom', file=sys.stderr, flush=True)\nsys.exit(3)\n"
    seen_at = {}
    t0 = time.monotonic()

    class Timing(logging.Handler):
        def emit(self, record):
            seen_at.setdefault(record.getMessage(), time.monotonic() - t0)

    handler = Timing()
    logging.getLogger("shopguide.spark").addHandler(handler)
    try:
        with caplog.at_level(logging.INFO, logger="shopguide.spark"):
            code, tail = spark._submit_streaming(
                [sys.executable, "-c", script], dict(os.environ), "job"
            )
    finally:
        logging.getLogger("shopguide.spark").removeHandler(handler)
    assert code == 3 and tail[-2:] == ["driver line 1", "boom"]
    # logged as it came, not after the process ended
    assert seen_at["[spark job] driver line 1"] < 1.2
    assert seen_at["[spark job] boom"] >= 1.4


def test_sigterm_to_the_launcher_stops_the_whole_spark_process_group(tmp_path):
    """Airflow stops a task with SIGTERM: the driver (spark-submit) and its children go too."""
    pids = tmp_path / "pids"
    launcher = textwrap.dedent(
        f"""
        import logging, sys
        logging.basicConfig(level=logging.INFO)
        from shopguide import spark
        child = "import subprocess,sys,time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(600)']); open({str(pids)!r}, 'w').write(f'{{p.pid}}'); print('driver up', flush=True); time.sleep(600)"
        try:
            spark._submit_streaming([sys.executable, "-c", child], {{}} | __import__("os").environ, "recommend")
        except spark.SparkJobError as exc:
            print("STOPPED:", exc, flush=True)
            sys.exit(1)
        """
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", launcher],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    deadline = time.time() + 60
    while not pids.exists() or not pids.read_text():
        assert time.time() < deadline, "the fake driver did not start"
        time.sleep(0.2)
    grandchild = int(pids.read_text())
    assert _alive(grandchild)
    time.sleep(0.5)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert "STOPPED:" in out and "terminated" in out, out
    deadline = time.time() + 20
    while _alive(grandchild) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(grandchild), "the driver's child outlived the killed task"


def test_a_sigkilled_launcher_takes_its_driver_along(tmp_path):
    """Even SIGKILL (no handler runs): PR_SET_PDEATHSIG stops spark-submit."""
    pids = tmp_path / "pids"
    launcher = textwrap.dedent(
        f"""
        import sys
        from shopguide import spark
        child = "import os,time; open({str(pids)!r}, 'w').write(str(os.getpid())); time.sleep(600)"
        spark._submit_streaming([sys.executable, "-c", child], dict(__import__("os").environ), "forecast")
        """
    )
    proc = subprocess.Popen([sys.executable, "-c", launcher])
    deadline = time.time() + 60
    while not pids.exists() or not pids.read_text():
        assert time.time() < deadline
        time.sleep(0.2)
    driver = int(pids.read_text())
    proc.kill()
    proc.wait()
    deadline = time.time() + 20
    while _alive(driver) and time.time() < deadline:
        time.sleep(0.2)
    assert not _alive(driver)


def test_job_failure_message_keeps_the_tail(tmp_path, monkeypatch):
    settings = make_settings(tmp_path, spark_master="spark://127.0.0.1:1")
    fake = tmp_path / "spark-submit"
    fake.write_text("#!/bin/sh\necho 'Exception: cannot connect to master'\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("SPARK_SUBMIT", str(fake))
    with pytest.raises(spark.SparkJobError, match="cannot connect to master"):
        spark.run_spark_job(settings, "forecast", [])


def test_the_jvm_a_run_started_stops_after_its_last_spark_task_and_no_other(tmp_path):
    """`shopguide run` stops the in-process JVM it started once no Spark task follows
    (release_local_jvm): the process is gone, and a JVM someone else started (a test
    fixture's session) is never stopped, even when a job ran on it."""
    script = textwrap.dedent(
        f"""
        import sys, types
        from pyspark import SparkContext
        from pyspark.sql import SparkSession
        from shopguide import spark
        from support import make_settings

        def main(args):
            assert SparkSession.getActiveSession().range(5).count() == 5
        spark.job_module = lambda job: types.SimpleNamespace(main=main)
        from pathlib import Path
        settings = make_settings(Path({str(tmp_path)!r}))

        spark._run_in_process(settings, "tiny", [])
        jvm = SparkContext._gateway.proc
        assert jvm.poll() is None
        assert spark.release_local_jvm() is True
        assert jvm.poll() is not None, "the JVM outlived its release"
        assert SparkContext._gateway is None and spark.release_local_jvm() is False

        # A session started by someone else: run_spark_job uses it and leaves it alone.
        SparkSession.builder.master("local[1]").getOrCreate()
        foreign = SparkContext._gateway.proc
        spark._run_in_process(settings, "tiny", [])
        assert spark.release_local_jvm() is False and foreign.poll() is None
        print("OK", flush=True)
        """
    )
    tests_dir = Path(__file__).resolve().parents[1]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(tests_dir), os.environ.get("PYTHONPATH", "")]),
    }
    out = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
    )
    assert out.returncode == 0 and "OK" in out.stdout, out.stdout + out.stderr[-3000:]
