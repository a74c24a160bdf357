"""Static checks of the dbt project (no warehouse, no dbt run): contracts and layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shopguide.dbt_runner import DbtError, run_dbt
from shopguide.schema import PUBLISHED_MODELS, PUBLISHED_TABLES, SPARK_OUTPUTS
from shopguide.settings import REPO_ROOT, load_settings

DBT_DIR = REPO_ROOT / "dbt"
MODELS = DBT_DIR / "models"


def _model_spec(sql: Path) -> dict:
    spec = yaml.safe_load(sql.with_suffix(".yml").read_text())
    return next(m for m in spec["models"] if m["name"] == sql.stem)


@pytest.mark.parametrize("table", sorted(PUBLISHED_TABLES))
def test_published_contract_matches_schema_py(table):
    spec = _model_spec(MODELS / "published" / f"{PUBLISHED_MODELS.get(table, table)}.sql")
    assert spec["config"]["contract"]["enforced"] is True
    declared = [(c["name"], c["data_type"].upper()) for c in spec["columns"]]
    assert declared == list(PUBLISHED_TABLES[table].items())


def test_every_model_has_its_yaml_and_only_staging_reads_sources():
    models = sorted(MODELS.rglob("*.sql"))
    assert len(models) >= 14
    for sql in models:
        assert sql.with_suffix(".yml").is_file(), f"{sql} has no {sql.stem}.yml beside it"
        calls_source = "source(" in sql.read_text()
        assert calls_source == (sql.parent.parent.name == "staging"), sql
        if sql.parent.parent.name == "staging":
            assert sql.stem.startswith(f"stg_{sql.parent.name}__"), sql


def test_every_spark_output_is_a_source_read_by_a_staging_model():
    spec = yaml.safe_load((MODELS / "staging" / "spark" / "_spark__sources.yml").read_text())
    source = next(s for s in spec["sources"] if s["name"] == "spark")
    assert source["schema"] == "outputs"
    assert sorted(t["name"] for t in source["tables"]) == sorted(SPARK_OUTPUTS)
    staging = " ".join(p.read_text() for p in (MODELS / "staging" / "spark").glob("*.sql"))
    for table in SPARK_OUTPUTS:
        assert f"source('spark', '{table}')" in staging, table


def test_published_models_filter_on_the_run_date():
    """Candidates are built from staging views that keep only the run's outputs."""
    for sql in (MODELS / "staging" / "spark").glob("*.sql"):
        assert "where cast(run_date as date) = {{ run_date_sql() }}" in sql.read_text(), sql


def test_no_dbt_packages_needed():
    assert not (DBT_DIR / "packages.yml").exists() and not (DBT_DIR / "dependencies.yml").exists()


@pytest.mark.parametrize("bad", ["2020-9-22", "22/09/2020", "", "2020-02-30"])
def test_run_dbt_refuses_a_bad_run_date(tmp_path, bad):
    settings = load_settings(
        warehouse_url=f"duckdb://{tmp_path / 'w.duckdb'}", reports_dir=tmp_path
    )
    with pytest.raises(DbtError, match="YYYY-MM-DD"):
        run_dbt(settings, ["build"], bad)


def test_run_dbt_names_a_missing_project(tmp_path):
    settings = load_settings(
        warehouse_url=f"duckdb://{tmp_path / 'w.duckdb'}", reports_dir=tmp_path
    )
    with pytest.raises(DbtError, match="dbt_project.yml missing"):
        run_dbt(settings.with_(dbt_project_dir=tmp_path), ["build"], "2020-09-22")
