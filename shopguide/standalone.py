"""A Spark standalone cluster on this machine: a master and workers started from the
``spark-class`` launcher shipped in the pyspark package, on 127.0.0.1.

For trying the scale-out path without Docker (the cluster test, the pipeline benchmark):
with ``SPARK_MASTER`` set to the URL it yields, every Spark job goes through
``spark-submit`` exactly as in the docker-compose stack.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, seconds: float, what: str) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            if predicate():
                return
        except OSError:
            pass
        time.sleep(1)
    raise TimeoutError(f"timed out waiting for {what}")


@contextlib.contextmanager
def standalone_cluster(
    logs: Path, *, workers: int = 1, cores: int = 2, memory: str = "2g"
) -> Iterator[str]:
    """Start a master and ``workers`` workers (``cores`` and ``memory`` each); yield the
    master's ``spark://`` URL; stop them all on exit. Their logs go to ``logs``."""
    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_class = str(spark_home / "bin" / "spark-class")
    logs.mkdir(parents=True, exist_ok=True)
    port, ui = free_port(), free_port()
    env = {
        **os.environ,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        "SPARK_WORKER_DIR": str(logs / "work"),
        "PYSPARK_PYTHON": sys.executable,
    }
    url = f"spark://127.0.0.1:{port}"
    procs: list[subprocess.Popen] = []

    def start(name: str, *args: str) -> None:
        with open(logs / f"{name}.log", "w") as out:
            procs.append(
                subprocess.Popen(
                    [spark_class, *args], stdout=out, stderr=subprocess.STDOUT, env=env
                )
            )

    def alive_workers() -> int:
        with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=2) as resp:
            return int(json.load(resp).get("aliveworkers", 0))

    try:
        start(
            "master", "org.apache.spark.deploy.master.Master",
            "--host", "127.0.0.1", "--port", str(port), "--webui-port", str(ui),
        )  # fmt: skip
        wait_for(lambda: alive_workers() >= 0, 90, "the Spark master")
        for i in range(workers):
            start(
                f"worker-{i + 1}", "org.apache.spark.deploy.worker.Worker", url,
                "--host", "127.0.0.1", "--cores", str(cores), "--memory", memory,
                "--webui-port", str(free_port()),
            )  # fmt: skip
        wait_for(lambda: alive_workers() >= workers, 90, f"{workers} Spark worker(s) to register")
        yield url
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
