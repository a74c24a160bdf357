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
