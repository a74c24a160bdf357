"""docker-compose.yml describes the production-like stack (parsed: no Docker engine here)."""

from __future__ import annotations

from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def load():
    return yaml.safe_load((REPO / "docker-compose.yml").read_text())


def test_services_present():
    services = load()["services"]
    for name in (
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-init",
        "airflow-db",
        "warehouse-db",
        "spark-master",
        "spark-worker",
    ):
        assert name in services, name


def test_airflow_uses_local_executor_postgres_metadata_and_the_repo():
    services = load()["services"]
    for name in (
        "airflow-api-server",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
    ):
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql")
        # the async engine needs a driver the image has (psycopg 3, not asyncpg)
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC"].startswith(
            "postgresql+psycopg_async://"
        )
        assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/shopguide/dags"
        assert "./:/opt/shopguide" in services[name]["volumes"]
        # The same DAG, pointed at the Postgres warehouse and the Spark master.
        assert env["SHOPGUIDE_WAREHOUSE"].startswith("postgresql://")
        assert env["SHOPGUIDE_WAREHOUSE"].split("@")[1].startswith("warehouse-db:")
        assert env["SPARK_MASTER"] == "spark://spark-master:7077"
        assert "airflow-db" in services[name]["depends_on"]


def test_spark_cluster_and_shared_lake():
    doc = load()
    services = doc["services"]
    assert "deploy.master.Master" in services["spark-master"]["command"]
    assert "deploy.worker.Worker" in services["spark-worker"]["command"]
    assert "spark://spark-master:7077" in services["spark-worker"]["command"]
    # Driver (Airflow) and executors must see the same lake.
    for name in ("airflow-scheduler", "spark-master", "spark-worker"):
        assert "lake:/lake" in services[name]["volumes"], name
    assert "lake" in doc["volumes"]


def test_image_builds_from_the_repo_with_pinned_constraints():
    services = load()["services"]
    build = services["spark-worker"]["build"]
    dockerfile = REPO / build["dockerfile"]
    text = dockerfile.read_text()
    assert "openjdk-17" in text and "constraints.txt" in text
    for name, service in services.items():
        if name.endswith("-db"):
            assert service["image"].startswith("postgres:15")
            assert "healthcheck" in service


AIRFLOW_SERVICES = (
    "airflow-api-server",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
)


def test_every_airflow_container_shares_the_api_and_jwt_secrets():
    """Each container would draw its own secret otherwise: the UI could not fetch task
    logs and tokens issued by one component would not verify on another."""
    services = load()["services"]
    keys = set()
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        env = services[name]["environment"]
        assert env.get("AIRFLOW__API__SECRET_KEY"), name
        assert env.get("AIRFLOW__API_AUTH__JWT_SECRET"), name
        keys.add((env["AIRFLOW__API__SECRET_KEY"], env["AIRFLOW__API_AUTH__JWT_SECRET"]))
    assert len(keys) == 1


def test_task_logs_live_on_a_volume_the_api_server_reads():
    doc = load()
    for name in AIRFLOW_SERVICES:
        volumes = doc["services"][name]["volumes"]
        assert "airflow-logs:/opt/airflow/logs" in volumes, name
        assert doc["services"][name]["environment"]["AIRFLOW_HOME"] == "/opt/airflow"
    assert "airflow-logs" in doc["volumes"]


def test_healthchecks_for_every_long_running_airflow_component():
    services = load()["services"]
    checks = {name: services[name]["healthcheck"]["test"] for name in AIRFLOW_SERVICES}
    assert "/api/v2/version" in " ".join(checks["airflow-api-server"])
    assert ":8974/health" in " ".join(checks["airflow-scheduler"])
    assert (
        services["airflow-scheduler"]["environment"]["AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK"]
        == "True"
    )
    assert "--job-type DagProcessorJob" in " ".join(checks["airflow-dag-processor"])
    assert "--job-type TriggererJob" in " ".join(checks["airflow-triggerer"])
    for name in AIRFLOW_SERVICES:
        assert services[name]["healthcheck"].get("interval"), name


def test_long_running_services_restart_and_one_shot_ones_do_not():
    services = load()["services"]
    for name in (*AIRFLOW_SERVICES, "spark-master", "spark-worker", "spark-history"):
        assert services[name].get("restart") in ("always", "unless-stopped"), name
    assert services["airflow-init"].get("restart") == "no"
    assert services["airflow-cli"].get("restart") == "no"


def test_the_login_note_matches_simple_auth_manager():
    """admin:admin in SIMPLE_AUTH_MANAGER_USERS is user:role; the password is generated."""
    text = (REPO / "docker-compose.yml").read_text()
    services = load()["services"]
    env = services["airflow-api-server"]["environment"]
    assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("SimpleAuthManager")
    user, role = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"].split(":")
    assert role in ("admin", "viewer", "user", "op")
    assert "(admin / admin)" not in text
    passwords = env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]
    assert passwords in text.split("services:")[0], "the header must say where the password is"
    assert passwords.startswith("/opt/airflow/config/")
    assert "airflow-config:/opt/airflow/config" in services["airflow-api-server"]["volumes"]


def test_dags_are_unpaused_when_created():
    services = load()["services"]
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        env = services[name]["environment"]
        assert str(env["AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION"]).lower() == "false", name


def test_init_stops_on_a_failed_migration_and_creates_the_spark_pool():
    import subprocess

    from shopguide.orchestration import SPARK_POOL

    command = load()["services"]["airflow-init"]["command"]
    assert command[:2] == ["bash", "-c"]
    script = command[2]
    assert script.lstrip().startswith("set -e")
    assert "airflow db migrate" in script and f"airflow pools set {SPARK_POOL} " in script
    # Run the script with a failing migration: it must stop there.
    probe = script.replace("airflow db migrate", "false").replace(
        "shopguide generate", "echo GENERATED"
    )
    probe = probe.replace("airflow pools set", "echo POOL").replace(
        "/data/", "/tmp/_compose_probe/"
    )
    out = subprocess.run(["bash", "-c", probe], capture_output=True, text=True)
    assert out.returncode != 0 and "POOL" not in out.stdout and "GENERATED" not in out.stdout


def test_spark_event_logs_reach_the_history_server():
    services = load()["services"]
    where = services["airflow-scheduler"]["environment"]["SHOPGUIDE_SPARK_EVENT_LOG_DIR"]
    history = services["spark-history"]
    assert "deploy.history.HistoryServer" in history["command"]
    assert f"logDirectory=file://{where}" in history["environment"]["SPARK_HISTORY_OPTS"]
    assert "shopguide-data:/data" in history["volumes"] and where.startswith("/data/")


def test_executor_memory_fits_the_workers_memory():
    """An executor asking more than a worker offers never starts: the job would hang."""

    def gib(text: str) -> float:
        return float(text[:-1]) / (1024 if text[-1].lower() == "m" else 1)

    services = load()["services"]
    asked = services["airflow-scheduler"]["environment"]["SHOPGUIDE_SPARK_EXECUTOR_MEMORY"]
    command = services["spark-worker"]["command"].split()
    offered = command[command.index("--memory") + 1]
    assert 1 <= gib(asked) < gib(offered), (asked, offered)
