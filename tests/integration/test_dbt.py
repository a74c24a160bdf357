"""The dbt project end to end on a tiny shop: DuckDB (a tmp file) and PostgreSQL (own database).

build_models -> (outputs.* loaded as load_outputs would) -> build_published, then the marts
and the publish candidates are checked against numbers worked out in shop_for_dbt.py.
"""

from __future__ import annotations

import shutil
import time
import uuid
from pathlib import Path

import pandas as pd
import pytest
from shop_for_dbt import (
    FORECAST_METRICS,
    MODEL_METRICS,
    OUTFIT_COMPLEMENTS,
    RECOMMENDATIONS,
    RUN_DATE,
    RUN_DAY,
    SIMILAR_ARTICLES,
    article_id,
    seed_outputs,
    seed_raw,
)

from shopguide.dbt_runner import DbtError, build_models, build_published, run_dbt, summarize
from shopguide.schema import CANDIDATE_SCHEMA, PUBLISHED_MODELS, PUBLISHED_SCHEMA, PUBLISHED_TABLES
from shopguide.settings import load_settings
from shopguide.warehouse import open_warehouse

PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"

# Engine spellings of the contract types in shopguide.schema (information_schema.columns).
_TYPE_SPELLINGS = {
    "DATE": {"date"},
    "VARCHAR": {"varchar", "character varying"},
    "INTEGER": {"integer"},
    "DOUBLE PRECISION": {"double", "double precision"},
    "BIGINT": {"bigint"},
    "BOOLEAN": {"boolean"},
}


def _build(settings) -> dict[str, float]:
    """Seed raw.*, build the marts, load outputs.*, build the candidates; seconds per step."""
    wh = open_warehouse(settings)
    seed_raw(wh)
    started = time.perf_counter()
    models = build_models(settings, RUN_DATE)
    models_seconds = time.perf_counter() - started
    seed_outputs(wh)
    started = time.perf_counter()
    published = build_published(settings, RUN_DATE)
    published_seconds = time.perf_counter() - started
    assert summarize(models).keys() <= {"success", "pass"}, summarize(models)
    assert summarize(published).keys() <= {"success", "pass"}, summarize(published)
    # Every kind of node ran: unit tests before the marts, data tests, contract models.
    assert any(r["resource_type"] == "unit_test" for r in models)
    assert {r["name"] for r in published if r["resource_type"] == "model"} >= {
        PUBLISHED_MODELS.get(t, t) for t in PUBLISHED_TABLES
    }
    print(
        f"\n[{settings.warehouse_kind}] build_models {models_seconds:.1f}s, build_published {published_seconds:.1f}s"
    )
    return {"build_models": models_seconds, "build_published": published_seconds}


def _check_marts_and_candidates(settings) -> None:
    wh = open_warehouse(settings)

    # Recency decay (half-life 30 days): c1/a1 = 1 unit today + 2 units 30 days ago = 1 + 2 * 0.5.
    weights = wh.query_df(
        "SELECT customer_id, article_id, purchases, weight FROM intermediate.int_interactions_weighted"
    )
    by_pair = {(r.customer_id, r.article_id): r for r in weights.itertuples()}
    assert by_pair[("c1", article_id(1))].weight == pytest.approx(2.0)
    assert int(by_pair[("c1", article_id(1))].purchases) == 3
    assert by_pair[("c1", article_id(2))].weight == pytest.approx(0.25)
    assert by_pair[("c2", article_id(2))].weight == pytest.approx(0.5 ** (1 / 30))
    assert ("c1", article_id(3)) not in by_pair  # bought the day after the run date
    assert weights["customer_id"].notna().all()  # anonymous sales are no interactions

    profiles = wh.query_df("SELECT * FROM marts.customer_profiles").set_index("customer_id")
    assert profiles["age_band"].to_dict() == {
        "c1": "16-24", "c2": "35-44", "c3": "65+", "c4": "unknown", "c5": "25-34",
    }  # fmt: skip
    assert profiles["is_opted_in"].map(bool).to_dict() == {
        "c1": True, "c2": False, "c3": False, "c4": True, "c5": True,
    }  # fmt: skip
    assert (
        int(profiles.loc["c1", "frequency"]) == 3 and int(profiles.loc["c1", "recency_days"]) == 0
    )
    assert profiles.loc["c1", "monetary"] == pytest.approx(10 + 2 * 12 + 30)
    assert profiles.loc["c1", "segment"] == "16-24|Ladieswear"
    # c4 never bought: still profiled, no price band, the 'any' segment.
    assert int(profiles.loc["c4", "frequency"]) == 0
    assert profiles.loc["c4", "segment"] == "unknown|any"
    assert profiles.loc["c4", "price_band"] is None
    assert set(profiles["price_band"].dropna()) <= {"low", "mid", "high"}

    articles = wh.query_df("SELECT * FROM marts.article_features").set_index("article_id")
    assert (
        int(articles.loc[article_id(3), "units_total"]) == 3
    )  # anonymous 3 units; tomorrow's sale cut
    # Listed two days ago, not sold yet: new, and sellable (cold start by content).
    assert bool(articles.loc[article_id(4), "is_new"])
    assert bool(articles.loc[article_id(4), "is_sellable"])
    assert bool(articles.loc[article_id(5), "is_new"]) and bool(
        articles.loc[article_id(5), "is_sellable"]
    )
    assert articles.loc[article_id(4), "price"] == pytest.approx(10.0)  # never sold: T-shirt mean
    assert not bool(articles.loc[article_id(6), "is_sellable"])  # last sold 200 days ago
    assert articles["price"].notna().all()

    daily = wh.query_df("SELECT * FROM marts.daily_sales")
    assert str(daily["sale_date"].max())[:10] == RUN_DATE

    # Candidates: only this run's rows; the email list holds opted-in customers' top 5 only.
    recs = wh.query_df(f"SELECT * FROM {CANDIDATE_SCHEMA}.recommendations")
    assert len(recs) == int((RECOMMENDATIONS["run_date"] == RUN_DAY).sum())
    assert {str(d)[:10] for d in recs["run_date"]} == {RUN_DATE}
    emails = wh.query_df(f"SELECT * FROM {CANDIDATE_SCHEMA}.email_campaign_list")
    assert set(emails["customer_id"]) == {"c1", "c4"}  # c2 opted out; c5 has no recommendations
    assert sorted(emails.loc[emails["customer_id"] == "c1", "rank"].astype(int)) == [1, 2, 3, 4, 5]
    first = emails[(emails["customer_id"] == "c1") & (emails["rank"] == 1)].iloc[0]
    assert (first["article_id"], first["prod_name"], first["colour_group_name"]) == (
        article_id(3),
        "Hoodie",
        "Grey",
    )
    assert first["price"] == pytest.approx(20.0)
    assert len(wh.query_df(f"SELECT * FROM {CANDIDATE_SCHEMA}.demand_forecast")) == 4

    # Similar articles, complements and metrics: this run's rows, as the Spark jobs wrote them.
    similar = wh.query_df(
        f'SELECT article_id, "rank", similar_article_id, score FROM {CANDIDATE_SCHEMA}.similar_articles'
    )
    assert sorted(
        map(tuple, similar[["article_id", "rank", "similar_article_id"]].values.tolist())
    ) == [
        (article_id(1), 1, article_id(4)),
        (article_id(1), 2, article_id(2)),
        (article_id(2), 1, article_id(1)),
        (article_id(4), 1, article_id(1)),
    ]
    complements = wh.query_df(f"SELECT * FROM {CANDIDATE_SCHEMA}.outfit_complements")
    assert {str(d)[:10] for d in complements["run_date"]} == {RUN_DATE}
    fallback = complements[complements["article_id"] == article_id(5)].iloc[0]
    assert (fallback["complement_article_id"], int(fallback["support"])) == (article_id(1), 0)
    metrics = wh.query_df(f"SELECT * FROM {CANDIDATE_SCHEMA}.model_metrics").set_index("model")
    assert sorted(metrics.index) == ["baseline", "hybrid"]
    assert metrics.loc["hybrid", "novelty"] == pytest.approx(2.3)
    errors = wh.query_df(f"SELECT * FROM {CANDIDATE_SCHEMA}.forecast_metrics")
    assert len(errors) == 4
    undefined = errors[errors["level"] == "department"].iloc[0]
    assert pd.isna(undefined["wape"]) and pd.isna(undefined["interval_coverage"])  # NULL stays NULL

    # Contracts hold: names, order and types of shopguide.schema.PUBLISHED_TABLES.
    for table, columns in PUBLISHED_TABLES.items():
        found = wh.query_df(
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = {wh.param} AND table_name = {wh.param} ORDER BY ordinal_position",
            [CANDIDATE_SCHEMA, table],
        )
        assert list(found["column_name"]) == list(columns), table
        for name, found_type in zip(found["column_name"], found["data_type"], strict=True):
            assert found_type.lower() in _TYPE_SPELLINGS[columns[name]], (table, name, found_type)

    # BI dimensions: every article and customer of the run; sales of the last 56 days.
    daily_in_window = wh.scalar(
        "SELECT count(*) FROM marts.daily_sales "
        f"WHERE sale_date > CAST({wh.param} AS DATE) - 56 AND sale_date <= CAST({wh.param} AS DATE)",
        [RUN_DATE, RUN_DATE],
    )
    segments = wh.query_df(f"SELECT * FROM {CANDIDATE_SCHEMA}.customer_segments").set_index(
        "customer_id"
    )
    assert "age" not in segments.columns and "region" not in segments.columns
    assert (
        segments.loc["c4", "recency_band"] == "never"
        and segments.loc["c4", "monetary_band"] == "none"
    )
    assert (
        segments.loc["c1", "recency_band"] == "0-7 days"
        and segments.loc["c1", "frequency_band"] == "2-3"
    )
    named = wh.query_df(
        f"SELECT article_id, prod_name, price_band FROM {CANDIDATE_SCHEMA}.articles"
    )
    assert named.set_index("article_id").loc[article_id(3), "prod_name"] == "Hoodie"

    # The lead's publish step can swap the candidates in as they are.
    counts = wh.publish(RUN_DATE, PUBLISHED_TABLES, CANDIDATE_SCHEMA, PUBLISHED_SCHEMA)
    expected = {
        "recommendations": 8,
        "demand_forecast": 4,
        "email_campaign_list": 6,
        "similar_articles": 4,
        "outfit_complements": 4,
        "model_metrics": 2,
        "forecast_metrics": 4,
        "articles": 6,
        "daily_sales": int(daily_in_window),
        "customer_segments": 5,
    }
    assert {table: counts[table] for table in expected} == expected


@pytest.fixture(scope="module")
def duckdb_built(tmp_path_factory):
    """One DuckDB warehouse built once for the module (dbt builds are the slow part)."""
    root = tmp_path_factory.mktemp("dbt_duckdb")
    settings = load_settings(
        warehouse_url=f"duckdb://{root / 'warehouse.duckdb'}", reports_dir=root / "reports"
    )
    _build(settings)
    return settings


def _copy_of(settings, tmp_path: Path):
    """A private copy of a built DuckDB warehouse, for tests that break things."""
    # Fold the write-ahead log into the file first, or the copy misses dbt's last tables.
    open_warehouse(settings).execute("CHECKPOINT")
    shutil.copy(settings.duckdb_path, tmp_path / "warehouse.duckdb")
    return settings.with_(
        warehouse_url=f"duckdb://{tmp_path / 'warehouse.duckdb'}", reports_dir=tmp_path / "reports"
    )


def test_dbt_build_on_duckdb(duckdb_built):
    _check_marts_and_candidates(duckdb_built)
    artifacts = Path(duckdb_built.reports_dir) / "dbt" / f"run_date={RUN_DATE}"
    assert (artifacts / "target" / "run_results.json").is_file()


def test_dbt_console_log_goes_to_stderr(duckdb_built, tmp_path, capfd):
    # stdout is kept for what a command prints, e.g. `shopguide evaluate ... --json`.
    settings = _copy_of(duckdb_built, tmp_path)
    capfd.readouterr()
    run_dbt(settings, ["run", "--select", "stg_shop__articles"], RUN_DATE)
    out, err = capfd.readouterr()
    assert out == "" and "stg_shop__articles" in err


@pytest.mark.postgres
def test_dbt_build_on_postgres(tmp_path):
    psycopg = pytest.importorskip("psycopg")
    name = f"shopguide_test_{uuid.uuid4().hex[:8]}"
    try:
        admin = psycopg.connect(PG_ADMIN_URL, autocommit=True)
    except psycopg.OperationalError as exc:
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL}: {exc}")
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        settings = load_settings(
            warehouse_url=f"postgresql://postgres@127.0.0.1:5432/{name}",
            reports_dir=tmp_path / "reports",
        )
        _build(settings)
        _check_marts_and_candidates(settings)
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_failing_data_test_names_the_node(duckdb_built, tmp_path):
    settings = _copy_of(duckdb_built, tmp_path)
    bad = RECOMMENDATIONS.copy()
    # c1's rank 2 repeated, and an article the shop does not sell.
    bad.loc[len(bad)] = [RUN_DAY, "c1", 2, article_id(99), 0.1, "broken recommender"]
    seed_outputs(open_warehouse(settings), recommendations=bad)
    with pytest.raises(DbtError) as caught:
        build_published(settings, RUN_DATE)
    message = str(caught.value)
    assert (
        "test.shopguide.unique_combination_of_columns_recommendations_run_date__customer_id__rank"
        in message
    )
    assert "test.shopguide.relationships_recommendations_article_id" in message
    assert "[fail]" in message and "model.shopguide" not in message
    failed = {r["name"] for r in caught.value.results if r["status"] == "fail"}
    assert "unique_combination_of_columns_recommendations_run_date__customer_id__rank" in failed


def _with_row(frame: pd.DataFrame, *row) -> pd.DataFrame:
    """``frame`` plus one row (types inferred afresh, as when the fixture frames were built)."""
    return pd.DataFrame(frame.values.tolist() + [list(row)], columns=frame.columns)


def test_bad_similar_complement_and_metric_rows_fail_their_tests(duckdb_built, tmp_path):
    settings = _copy_of(duckdb_built, tmp_path)
    seed_outputs(
        open_warehouse(settings),
        # Article 2 similar to itself at rank 0, and to an article the shop does not sell
        # at rank 1, which it already has.
        similar_articles=_with_row(
            _with_row(SIMILAR_ARTICLES, RUN_DAY, article_id(2), 0, article_id(2), 1.0),
            RUN_DAY,
            article_id(2),
            1,
            article_id(99),
            0.2,
        ),
        # Two T-shirts "complete" each other (same product group), and rank 1 twice.
        outfit_complements=_with_row(
            OUTFIT_COMPLEMENTS, RUN_DAY, article_id(1), 1, article_id(4), 0.7, 2
        ),
        # A precision above 1 and the hybrid at k = 12 twice.
        model_metrics=_with_row(
            MODEL_METRICS, RUN_DAY, "hybrid", 12, 1.5, 0.2, 0.1, 0.1, 0.5, 2.0, 0.5
        ),
        # A negative WAPE.
        forecast_metrics=_with_row(
            FORECAST_METRICS, RUN_DAY, "shop", "shopguide", 28, -0.1, 0.5, 0.0, None
        ),
    )
    with pytest.raises(DbtError) as caught:
        build_published(settings, RUN_DATE)
    failed = {r["name"] for r in caught.value.results if r["status"] == "fail"}
    expected = {
        "unique_combination_of_columns_similar_articles_run_date__article_id__rank",
        "expression_is_true_similar_articles_similar_article_id_article_id",
        "expression_is_true_similar_articles_rank___rank_1",
        "relationships_similar_articles_similar_article_id__article_id__ref_article_features_",
        "unique_combination_of_columns_outfit_complements_run_date__article_id__rank",
        "assert_outfit_complements_from_another_product_group",
        "unique_combination_of_columns_model_metrics_run_date__model__k",
        "expression_is_true_model_metrics_precision_at_k__precision_at_k_between_0_and_1",
        "expression_is_true_forecast_metrics_wape__wape_is_null_or_wape_0",
    }
    assert failed == expected, sorted(failed)  # each bad row fails its own test, no other
    assert not {r["name"] for r in caught.value.results if r["status"] == "error"}
    assert "test.shopguide.assert_outfit_complements_from_another_product_group" in str(
        caught.value
    )


def test_runs_without_holdout_or_backtest_publish_empty_metrics(duckdb_built, tmp_path):
    settings = _copy_of(duckdb_built, tmp_path)
    empty = {
        table: frame.iloc[0:0]
        for table, frame in {
            "similar_articles": SIMILAR_ARTICLES,
            "outfit_complements": OUTFIT_COMPLEMENTS,
            "model_metrics": MODEL_METRICS,
            "forecast_metrics": FORECAST_METRICS,
        }.items()
    }
    seed_outputs(open_warehouse(settings), **empty)
    results = build_published(settings, RUN_DATE)
    assert summarize(results).keys() <= {"success", "pass"}, summarize(results)
    counts = open_warehouse(settings).publish(
        RUN_DATE, PUBLISHED_TABLES, CANDIDATE_SCHEMA, PUBLISHED_SCHEMA
    )
    assert {table: counts[table] for table in empty} == dict.fromkeys(empty, 0)
    assert counts["recommendations"] == 8


def test_recommendation_without_customer_stops_before_the_candidates(duckdb_built, tmp_path):
    settings = _copy_of(duckdb_built, tmp_path)
    bad = RECOMMENDATIONS.copy()
    bad.loc[len(bad)] = [RUN_DAY, None, 1, article_id(1), 0.1, "no customer"]
    seed_outputs(open_warehouse(settings), recommendations=bad)
    with pytest.raises(DbtError) as caught:
        build_published(settings, RUN_DATE)
    lines = str(caught.value).splitlines()
    assert "1 node(s) failed" in lines[0] and "skipped downstream" in lines[0], lines[0]
    assert (
        lines[1]
        .strip()
        .startswith("test.shopguide.not_null_stg_spark__recommendations_customer_id")
    ), lines
    assert "[fail]" in lines[1] and "(1 failing rows)" in lines[1]
    # The candidates were not rebuilt from the broken outputs.
    skipped = {r["name"] for r in caught.value.results if r["status"] == "skipped"}
    assert {"recommendations", "email_campaign_list"} <= skipped


def test_contract_type_mismatch_names_the_model(duckdb_built, tmp_path):
    # A project whose contract says rank is varchar while the model yields an integer.
    project = tmp_path / "dbt"
    shutil.copytree(
        duckdb_built.dbt_project_dir, project, ignore=shutil.ignore_patterns("target", "logs")
    )
    spec = project / "models" / "published" / "recommendations.yml"
    text = spec.read_text()
    assert "      - name: rank\n        data_type: integer\n" in text
    spec.write_text(
        text.replace(
            "      - name: rank\n        data_type: integer\n",
            "      - name: rank\n        data_type: varchar\n",
        )
    )
    settings = _copy_of(duckdb_built, tmp_path).with_(dbt_project_dir=project)
    with pytest.raises(DbtError) as caught:
        build_published(settings, RUN_DATE)
    line = next(x for x in str(caught.value).splitlines() if "model.shopguide.recommendations" in x)
    assert "[error]" in line and "contract" in line.lower()
