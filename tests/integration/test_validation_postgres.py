"""The same suites on PostgreSQL, validated in place through GX's Postgres data source."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from shopguide.settings import REPO_ROOT, load_settings
from shopguide.warehouse import open_warehouse

pytestmark = pytest.mark.postgres

validation = pytest.importorskip("shopguide.validation")

# The small clean tables and the row breakers of the DuckDB tests.
_spec = importlib.util.spec_from_file_location(
    "validation_cases", Path(__file__).resolve().parents[1] / "unit" / "test_validation.py"
)
cases = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(cases)


@pytest.fixture
def pg_settings(tmp_path, pg_url):
    project = tmp_path / "expectations"
    shutil.copytree(
        REPO_ROOT / "expectations", project, ignore=shutil.ignore_patterns("uncommitted")
    )
    return load_settings().with_(
        home=tmp_path,
        warehouse_url=pg_url,
        reports_dir=tmp_path / "reports",
        expectations_dir=project,
        top_k=cases.TOP_K,
        forecast_horizon=7,
    )


def test_postgres_suites_validate_in_place(pg_settings):
    settings = pg_settings
    cases.load_raw(settings)
    result = validation.validate_raw(settings, cases.RUN_DATE)
    assert [
        result[s]["evaluated"] for s in ("raw_customers", "raw_articles", "raw_transactions")
    ] == [30, 12, 40]
    assert all(result[s]["success"] for s in ("raw_customers", "raw_articles", "raw_transactions"))
    assert Path(result["data_docs"]).is_file()

    # Validated by GX's Postgres data source (SQL), not by reading the rows into pandas.
    context = validation.get_context(settings)
    source = context.data_sources.get(validation.POSTGRES_SOURCE)
    assert source.type == "postgres"
    assert (
        str(source.connection_string) == "${" + validation.VAR_POSTGRES_URL + "}"
    )  # no URL stored
    assert any(
        (settings.reports_dir / "gx_validations" / "raw_transactions").rglob(
            "*shopguide_postgres*.json"
        )
    )

    # A bad sale of the run, and a day with no sales at all.
    cases.load_raw(settings, transactions=cases._row(cases.clean_transactions(), 3, price=-4.99))
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_raw(settings, cases.RUN_DATE)
    assert cases.failure_lines(exc) == [
        "raw_transactions: expect_column_values_to_be_between(price, min 0, strict) failed: 1 of 40 rows (2.50%), "
        "e.g. -4.99 [t_dat=2024-03-08, customer_id='cust003', article_id='0000000003']"
    ]
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_raw(settings, "2024-03-11")
    assert (
        "raw_transactions: expect_table_row_count_to_be_between(min 1) failed: observed 0"
        in cases.failure_lines(exc)
    )

    # Candidates: clean pass, then an opted-out customer and a crossed forecast interval.
    cases.load_raw(settings)
    cases.load_candidates(settings)
    result = validation.validate_outputs(settings, cases.RUN_DATE)
    assert [
        result[s]["evaluated"]
        for s in ("recommendations", "demand_forecast", "email_campaign_list")
    ] == [40, 21, 20]
    assert [
        result[s]["evaluated"]
        for s in ("similar_articles", "outfit_complements", "model_metrics", "forecast_metrics")
    ] == [18, 12, 6, 6]
    assert all(result[s]["success"] for s in cases.CLEAN_OUTPUTS)
    cases.load_candidates(
        settings,
        demand_forecast=cases._row(cases.clean_forecast(), 0, units_p10=3.0),
        email_campaign_list=cases._row(cases.clean_email(), 0, customer_id="cust015"),
    )
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_outputs(settings, cases.RUN_DATE)
    lines = cases.failure_lines(exc)
    assert len(lines) == 2, lines
    assert lines[0].startswith(
        "demand_forecast: expect_column_pair_values_a_to_be_greater_than_b(units_p50, units_p10, or equal) failed: 1 of 21 rows"
    )
    assert lines[1].startswith(
        "email_campaign_list: expect_column_values_to_be_in_set(customer_is_opted_in, {True}) failed: 1 of 20 rows (5.00%), "
        "e.g. False [customer_id='cust015', rank=1]"
    )


def test_postgres_new_output_suites(pg_settings):
    """Similar articles, complements and metrics in place: empty tables pass, bad rows fail.

    NaN is a value on PostgreSQL (not NULL, and above every number), so a NaN score must be
    caught by the finite range, not by the not-null expectation.
    """
    settings = pg_settings
    cases.load_raw(settings)
    empty = {t: cases.CLEAN_OUTPUTS[t]().iloc[0:0] for t in ("model_metrics", "forecast_metrics")}
    cases.load_candidates(settings, similar_articles=cases.clean_similar().iloc[0:0], **empty)
    result = validation.validate_outputs(settings, cases.RUN_DATE)
    assert [
        result[s]["evaluated"]
        for s in ("similar_articles", "outfit_complements", "model_metrics", "forecast_metrics")
    ] == [0, 12, 0, 0]

    cases.load_candidates(
        settings,
        similar_articles=cases._row(cases.clean_similar(), 0, similar_article_id="0000000000"),
        model_metrics=cases._row(cases.clean_model_metrics(), 0, precision_at_k=1.2),
        forecast_metrics=cases._row(cases.clean_forecast_metrics(), 0, wape=-0.2),
    )
    open_warehouse(settings).execute(
        "UPDATE publish_candidates.outfit_complements SET score = 'NaN'::double precision "
        "WHERE article_id = '0000000001' AND \"rank\" = 1"
    )
    with pytest.raises(validation.ValidationError) as exc:
        validation.validate_outputs(settings, cases.RUN_DATE)
    lines = cases.failure_lines(exc)
    expected = [
        "similar_articles: expect_select_column_values_to_be_unique_within_record(article_id, similar_article_id) "
        "failed: 1 of 18 rows",
        "outfit_complements: expect_column_values_to_be_between(score, min 0, max 1.79769e+308) failed: 1 of 12 rows",
        "model_metrics: expect_column_values_to_be_between(precision_at_k, min 0, max 1) failed: 1 of 6 rows "
        "(16.67%), e.g. 1.2 [model='hybrid', k=5]",
        "forecast_metrics: expect_column_values_to_be_between(wape, min 0, max 1.79769e+308) failed: 1 of 6 rows "
        "(16.67%), e.g. -0.2 [level='article', model='shopguide', horizon=7]",
    ]
    assert len(lines) == len(expected), lines
    for line, prefix in zip(lines, expected, strict=True):
        assert line.startswith(prefix), (prefix, lines)
