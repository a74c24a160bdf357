"""Static checks of the dbt project (no warehouse, no dbt run): contracts and layout."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from shopguide.dbt_runner import DbtError, run_dbt
from shopguide.schema import PUBLISHED_TABLES
from shopguide.settings import REPO_ROOT, load_settings

DBT_DIR = REPO_ROOT / "dbt"
MODELS = DBT_DIR / "models"


def _model_spec(sql: Path) -> dict:
    spec = yaml.safe_load(sql.with_suffix(".yml").read_text())
    return next(m for m in spec["models"] if m["name"] == sql.stem)


@pytest.mark.parametrize("table", sorted(PUBLISHED_TABLES))
def test_published_contract_matches_schema_py(table):
    spec = _model_spec(MODELS / "published" / f"{table}.sql")
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
