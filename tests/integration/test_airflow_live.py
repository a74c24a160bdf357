"""The production path, live, without Docker (issue 19).

A PostgreSQL metadata database and a PostgreSQL warehouse on the local server, a Spark
standalone master and worker on 127.0.0.1, and Airflow's own processes (`api-server`,
`scheduler`, `dag-processor`, `triggerer`; LocalExecutor) started as in
docker-compose.yml. Everything goes through the REST API as the UI does:

1. a trigger with `{"run_date": D}` whose input is missing fails after its retry and
   posts exactly one alert to a local webhook;
2. a run's `recommend` task is set to failed through the API while its Spark
   application runs: the application and its driver stop (and the run alerts once);
3. a trigger with no logical date (the UI's button) runs the whole DAG on the cluster
   and publishes the previous UTC day; the task logs hold the Spark driver's lines; the
   publish task's Asset event starts `shopguide_email_export`, which writes its file.

Every process and database it started is stopped and dropped at the end.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from shopguide.generate import generate_shop
from shopguide.orchestration import SPARK_POOL, email_export_path, published_asset_uri

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DAG = "shopguide_nightly"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait(predicate, seconds: float, what: str, every: float = 1.0):
    deadline = time.time() + seconds
    last = None
    while time.time() < deadline:
        try:
            result = predicate()
            if result:
                return result
        except (OSError, urllib.error.URLError, ValueError) as exc:
            last = exc
        time.sleep(every)
    raise TimeoutError(f"timed out after {seconds:.0f} s waiting for {what} (last error: {last})")


class Processes:
    """Long-running processes, each in its own process group, stopped group by group."""

    def __init__(self, logs: Path):
        self.logs = logs
        self.started: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, command: list[str], env: dict) -> subprocess.Popen:
        out = open(self.logs / f"{name}.log", "w")
        proc = subprocess.Popen(
            command, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.started.append((name, proc))
        return proc

    def check_alive(self) -> None:
        dead = [(n, p.returncode) for n, p in self.started if p.poll() is not None]
        assert not dead, f"{dead} exited; logs:\n" + "\n".join(self.tail(n) for n, _ in dead)

    def tail(self, name: str, lines: int = 40) -> str:
        path = self.logs / f"{name}.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return f"--- {name} ---\n" + "\n".join(text.splitlines()[-lines:])

    def stop_all(self) -> list[str]:
        """SIGTERM every group (newest first), SIGKILL what is left; names of leftovers."""
        for _, proc in reversed(self.started):
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        deadline = time.time() + 30
        for _, proc in reversed(self.started):
            try:
                proc.wait(timeout=max(0.1, deadline - time.time()))
            except subprocess.TimeoutExpired:
                pass
        leftovers = []
        for name, proc in self.started:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
                leftovers.append(name)
            except ProcessLookupError:
                pass
            proc.wait()
        return leftovers


class Api:
    """The Airflow REST API (v2) with a SimpleAuthManager token."""

    def __init__(self, base: str, user: str, password: str):
        self.base = base
        self.user, self.password = user, password
        self.token = None

    def login(self) -> None:
        body = json.dumps({"username": self.user, "password": self.password}).encode()
        request = urllib.request.Request(
            f"{self.base}/auth/token",
            data=body,
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=30) as resp:
            self.token = json.load(resp)["access_token"]

    def call(self, method: str, path: str, body=None, accept="application/json"):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.base}/api/v2{path}",
            data=data,
            method=method,
            headers={
                "Authorization": f"Bearer {self.token}",
                "Content-Type": "application/json",
                "Accept": accept,
            },
        )
        with urllib.request.urlopen(request, timeout=60) as resp:
            raw = resp.read().decode()
        return json.loads(raw) if accept == "application/json" and raw else raw

    def get(self, path: str, **query):
        return self.call("GET", path + ("?" + urllib.parse.urlencode(query) if query else ""))

    def trigger(self, dag_id: str, conf: dict | None = None) -> dict:
        # Like the UI's trigger button in Airflow 3: no logical date.
        return self.call(
            "POST", f"/dags/{dag_id}/dagRuns", {"logical_date": None, "conf": conf or {}}
        )

    def run_state(self, dag_id: str, run_id: str) -> str:
        return self.get(f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}")["state"]

    def task_instances(self, dag_id: str, run_id: str) -> dict[str, dict]:
        rows = self.get(f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances")
        return {ti["task_id"]: ti for ti in rows["task_instances"]}

    def task_log(self, dag_id: str, run_id: str, task_id: str, try_number: int) -> str:
        payload = self.get(
            f"/dags/{dag_id}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/{task_id}"
            f"/logs/{try_number}",
            full_content="true",
        )
        content = payload.get("content")
        if isinstance(content, list):
            return "\n".join(
                str(c.get("event", "")) if isinstance(c, dict) else str(c) for c in content
            )
        return str(content)


def _wait_run(api: Api, procs: Processes, dag_id: str, run_id: str, seconds: float) -> str:
    def finished():
        procs.check_alive()
        state = api.run_state(dag_id, run_id)
        return state if state in ("success", "failed") else None

    return _wait(finished, seconds, f"{dag_id} run {run_id} to finish", every=3)


@pytest.fixture
def webhook():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 - the http.server API
            received.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/alert", received
    server.shutdown()


def _spark_apps(ui: int) -> dict:
    with urllib.request.urlopen(f"http://127.0.0.1:{ui}/json/", timeout=5) as resp:
        return json.load(resp)


def _processes_with(*markers: str, environ: bool = False) -> list[int]:
    """Live processes whose command line (or environment) holds every marker."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / ("environ" if environ else "cmdline")).read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        text = text.replace(b"\0", b" ").decode(errors="replace")
        if state != "Z" and all(m in text for m in markers):
            found.append(int(entry.name))
    return found


def test_production_path_live(tmp_path, pg_databases, webhook):
    from shopguide.access import drop_roles
    from shopguide.settings import load_settings

    started = time.time()
    alert_url, alerts = webhook
    metadata_url, warehouse_url = pg_databases(), pg_databases()
    home, airflow_home, logs = tmp_path / "home", tmp_path / "airflow", tmp_path / "logs"
    for d in (home, airflow_home, logs):
        d.mkdir()
    # The manual trigger without a logical date processes the UTC day before it.
    run_date = (datetime.now(UTC) - timedelta(days=1)).date().isoformat()
    source = home / "data"
    generate_shop(source, customers=300, articles=120, days=60, end_date=run_date, seed=11)

    import pyspark

    spark_home = Path(pyspark.__file__).parent
    spark_port, spark_ui, worker_ui, api_port = (_free_port() for _ in range(4))
    password = secrets.token_hex(8)
    (airflow_home / "passwords.json").write_text(json.dumps({"admin": password}))
    role_prefix = f"sglive_{secrets.token_hex(3)}"
    base = f"http://127.0.0.1:{api_port}"
    env = {
        **os.environ,
        "PATH": f"{BIN}:{os.environ['PATH']}",
        "PYSPARK_PYTHON": sys.executable,
        "SPARK_HOME": str(spark_home),
        "SPARK_LOCAL_IP": "127.0.0.1",
        # Airflow as in docker-compose.yml
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(airflow_home / "passwords.json"),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{base}/execution/",
        "AIRFLOW__API__BASE_URL": base,
        "AIRFLOW__API__SECRET_KEY": secrets.token_hex(16),
        "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_hex(16),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_url.replace(
            "postgresql://", "postgresql+psycopg2://"
        ),
        # asyncpg is not installed: the async engine uses psycopg 3 (as docker-compose.yml)
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": metadata_url.replace(
            "postgresql://", "postgresql+psycopg_async://"
        ),
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # shopguide on the PostgreSQL warehouse and the Spark cluster, small and quick
        "SHOPGUIDE_HOME": str(home),
        "SHOPGUIDE_WAREHOUSE": warehouse_url,
        "SHOPGUIDE_LAKE": str(home / "lake"),
        "SHOPGUIDE_REPORTS": str(home / "reports"),
        "SHOPGUIDE_SOURCE": "generated",
        "SHOPGUIDE_SOURCE_PATH": str(source),
        "SHOPGUIDE_ROLE_PREFIX": role_prefix,
        "SHOPGUIDE_ALERT_WEBHOOK": alert_url,
        "SHOPGUIDE_EVALUATE_RECOMMENDATIONS": "0",
        "SHOPGUIDE_FORECAST_BACKTEST_ORIGINS": "0",
        "SHOPGUIDE_SPARK_DRIVER_MEMORY": "1g",
        "SHOPGUIDE_SHUFFLE_PARTITIONS": "2",
        "SHOPGUIDE_TASK_RETRIES": "1",
        # unpaused at creation, the nightly schedule would add a scheduled run of its own
        "SHOPGUIDE_NIGHTLY_SCHEDULE": "none",
        "SHOPGUIDE_RETRY_DELAY_SECONDS": "1",
        "SPARK_MASTER": f"spark://127.0.0.1:{spark_port}",
    }
    for name in ("SHOPGUIDE_FAILPOINT", "SHOPGUIDE_SPARK_EVENT_LOG_DIR", "SHOPGUIDE_EXPORT_DIR"):
        env.pop(name, None)
    airflow = str(BIN / "airflow")
    procs = Processes(logs)
    timings = {}
    try:
        migrate = subprocess.run(
            [airflow, "db", "migrate"], env=env, capture_output=True, text=True, timeout=600
        )
        assert migrate.returncode == 0, (migrate.stdout + migrate.stderr)[-3000:]
        pool = subprocess.run(
            [airflow, "pools", "set", SPARK_POOL, "2", "shopguide Spark jobs"],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert pool.returncode == 0, pool.stderr[-2000:]
        timings["migrate"] = time.time() - started

        spark_class = str(spark_home / "bin" / "spark-class")
        procs.start(
            "spark-master",
            [spark_class, "org.apache.spark.deploy.master.Master", "--host", "127.0.0.1",
             "--port", str(spark_port), "--webui-port", str(spark_ui)],
            {**env, "SPARK_WORKER_DIR": str(logs / "spark-work")},
        )  # fmt: skip
        for component in ("api-server", "scheduler", "dag-processor", "triggerer"):
            extra = ["--host", "127.0.0.1", "--port", str(api_port), "--workers", "1"]
            procs.start(
                component, [airflow, component, *(extra if component == "api-server" else [])], env
            )
        _wait(lambda: _spark_apps(spark_ui), 120, "the Spark master")
        procs.start(
            "spark-worker",
            [spark_class, "org.apache.spark.deploy.worker.Worker", f"spark://127.0.0.1:{spark_port}",
             "--host", "127.0.0.1", "--cores", "2", "--memory", "2g", "--webui-port", str(worker_ui)],
            {**env, "SPARK_WORKER_DIR": str(logs / "spark-work")},
        )  # fmt: skip
        _wait(lambda: _spark_apps(spark_ui).get("aliveworkers", 0) >= 1, 120, "a Spark worker")

        api = Api(base, "admin", password)

        def logged_in():
            procs.check_alive()
            api.login()
            return True

        _wait(logged_in, 180, "the api-server")

        def parsed():
            procs.check_alive()
            dags = {d["dag_id"]: d for d in api.get("/dags")["dags"]}
            return DAG in dags and "shopguide_email_export" in dags and dags

        dags = _wait(parsed, 240, "the dag-processor to parse the DAGs", every=2)
        assert not dags[DAG]["is_paused"] and not dags["shopguide_email_export"]["is_paused"]
        timings["stack up"] = time.time() - started

        # -- 1. a failing input: the task retries, the run fails, ONE alert --------------
        transactions = source / "transactions.parquet"
        hidden = source / "transactions.parquet.hidden"
        transactions.rename(hidden)
        # `airflow dags trigger -c '{"run_date": D}'`, the documented command line
        trigger = subprocess.run(
            [airflow, "dags", "trigger", DAG, "-c", json.dumps({"run_date": run_date}),
             "-r", "cli_failing_input"],
            env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
        assert trigger.returncode == 0, (trigger.stdout + trigger.stderr)[-3000:]
        failing = {"dag_run_id": "cli_failing_input"}
        state = _wait_run(api, procs, DAG, failing["dag_run_id"], 600)
        hidden.rename(transactions)
        assert state == "failed"
        tis = api.task_instances(DAG, failing["dag_run_id"])
        assert tis["ingest.ingest"]["state"] == "failed" and tis["ingest.ingest"]["try_number"] == 2
        _wait(lambda: len(alerts) >= 1, 120, "the failure alert")
        time.sleep(5)  # a second alert would have arrived by now
        assert len(alerts) == 1, alerts
        assert alerts[0]["run_date"] == run_date and alerts[0]["task"] == "ingest", alerts
        assert "transactions" in alerts[0]["reason"], alerts
        timings["run 1 (failed, one alert)"] = time.time() - started

        # -- 2. kill the recommend task from the API: its Spark application stops -------
        # spark-submit's JVM and the Python driver both carry the job file and this lake
        recommend_driver = ("spark_jobs/recommend/job.py", str(home / "lake"))
        third = api.trigger(DAG, {"run_date": run_date})
        run_id = third["dag_run_id"]

        def recommend_app_running():
            procs.check_alive()
            tis = api.task_instances(DAG, run_id)
            ti = tis.get("spark.recommend", {})
            assert ti.get("state") not in ("success", "failed", "upstream_failed"), {
                k: v["state"] for k, v in tis.items()
            }
            apps = [
                a
                for a in _spark_apps(spark_ui).get("activeapps", [])
                if a["name"] == "shopguide-recommend"
            ]
            return ti.get("state") == "running" and apps and _processes_with(*recommend_driver)

        drivers = _wait(recommend_app_running, 600, "recommend's Spark application", every=1)
        api.call(
            "PATCH",
            f"/dags/{DAG}/dagRuns/{urllib.parse.quote(run_id)}/taskInstances/spark.recommend",
            {"new_state": "failed"},
        )
        _wait(
            lambda: (
                not any(
                    a["name"] == "shopguide-recommend"
                    for a in _spark_apps(spark_ui).get("activeapps", [])
                )
            ),
            90,
            "the recommend application to leave the cluster",
        )
        _wait(lambda: not _processes_with(*recommend_driver), 60, "the driver to exit")
        assert drivers  # there was a driver, and it is gone
        completed = [
            a
            for a in _spark_apps(spark_ui).get("completedapps", [])
            if a["name"] == "shopguide-recommend"
        ]
        assert len(completed) == 1 and completed[0]["state"] in ("KILLED", "FINISHED", "FAILED")
        timings["run 2 (recommend killed)"] = time.time() - started
        assert _wait_run(api, procs, DAG, run_id, 600) == "failed"
        _wait(lambda: len(alerts) >= 2, 120, "the killed run's alert")
        time.sleep(5)
        assert len(alerts) == 2 and alerts[1]["run_date"] == run_date, alerts

        # -- 3. the UI's trigger: no logical date, no data interval --------------------
        run = api.trigger(DAG)
        assert run["logical_date"] is None and run["data_interval_start"] is None
        state = _wait_run(api, procs, DAG, run["dag_run_id"], 1200)
        tis = api.task_instances(DAG, run["dag_run_id"])
        assert state == "success", {k: v["state"] for k, v in tis.items()} | {
            "logs": procs.tail("scheduler")
        }
        timings["run 3 (success)"] = time.time() - started
        assert {tis[t]["pool"] for t in ("spark.recommend", "spark.forecast")} == {SPARK_POOL}

        import psycopg

        with psycopg.connect(warehouse_url) as con:
            runs = con.execute(
                "SELECT run_date::text, status FROM published.pipeline_runs"
            ).fetchall()
            recs = con.execute(
                "SELECT count(*), min(run_date)::text, max(run_date)::text FROM published.recommendations"
            ).fetchone()
            forecasts = con.execute(
                "SELECT count(*) FROM published.demand_forecast WHERE run_date = %s", [run_date]
            ).fetchone()[0]
        # every failed attempt of the two failed runs left a "failed" row; this one published
        assert runs.count((run_date, "success")) == 1 and len(runs) >= 3, runs
        assert recs[0] > 0 and recs[1] == recs[2] == run_date, recs
        assert forecasts > 0

        # The Spark driver's log streamed into the task logs, read through the API.
        for task_id, job in (("spark.recommend", "recommend"), ("spark.forecast", "forecast")):
            text = api.task_log(DAG, run["dag_run_id"], task_id, tis[task_id]["try_number"])
            assert f"[spark {job}]" in text and "SparkContext" in text, text[-3000:]
            assert f"spark://127.0.0.1:{spark_port}" in text or "StandaloneSchedulerBackend" in text
        events_dir = home / "spark-events"
        assert len([p for p in events_dir.iterdir() if "app-" in p.name]) >= 2

        # The publish task emitted the Asset event; the export DAG ran on it.
        events = api.get(
            "/assets/events", source_dag_id=DAG, source_run_id=run["dag_run_id"], limit="100"
        )["asset_events"]
        uris = {e["uri"] for e in events}
        assert published_asset_uri("email_campaign_list") in uris, events
        assert all(e["extra"].get("run_date") == run_date for e in events), events

        def export_run():
            rows = api.get("/dags/shopguide_email_export/dagRuns")["dag_runs"]
            done = [r for r in rows if r["state"] in ("success", "failed")]
            return done[0] if done else None

        exported = _wait(export_run, 300, "shopguide_email_export to run", every=3)
        assert exported["state"] == "success" and exported["run_type"] == "asset_triggered"
        out = Path(email_export_path(home, run_date))
        assert out.exists() and len(out.read_text().splitlines()) > 1
        timings["export"] = time.time() - started
        assert len(alerts) == 2, alerts  # none for the successful run

    except BaseException:
        print("\n".join(procs.tail(n, 60) for n, _ in procs.started))
        raise
    finally:
        if not (source / "transactions.parquet").exists():
            (source / "transactions.parquet.hidden").rename(source / "transactions.parquet")
        leftovers = procs.stop_all()
        drop_roles(load_settings(warehouse_url=warehouse_url), role_prefix)
        shutil.rmtree(home / "lake", ignore_errors=True)
        print(
            f"live production path timings (s since start): {json.dumps({k: round(v) for k, v in timings.items()})}"
        )
    assert leftovers == [], f"processes needed SIGKILL: {leftovers}"
    assert not _processes_with(f"AIRFLOW_HOME={airflow_home}", environ=True), (
        "a process outlived the test"
    )
