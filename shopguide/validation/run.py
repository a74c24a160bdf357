"""Running the checks: ``validate_raw`` and ``validate_outputs`` run each check's
checkpoint on the run date's rows, build the Data Docs and raise on any failure."""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from shopguide.run_date import as_run_date
from shopguide.settings import Settings
from shopguide.validation.checks import OUTPUT_CHECKS, RAW_CHECKS, Check
from shopguide.validation.messages import describe_failure
from shopguide.validation.project import (
    DATA_DOCS_SITE,
    FRAME,
    POSTGRES,
    VAR_DATA_DOCS_DIR,
    _definition_name,
    get_context,
    runtime_environment,
)
from shopguide.warehouse import open_warehouse, qident

# Log lines name the package (shopguide.validation), not this module.
log = logging.getLogger("shopguide.validation")


class ValidationError(Exception):
    """A suite failed: the message has one line per failed expectation."""


def validate_raw(settings: Settings, run_date: date | str) -> dict:
    """Validate the raw tables after ingest; raise :class:`ValidationError` on any failure.

    ``run_date``: a date, or YYYY-MM-DD text (checked: callers outside the pipeline)."""
    return _validate(settings, run_date, RAW_CHECKS)


def validate_outputs(settings: Settings, run_date: date | str) -> dict:
    """Validate ``publish_candidates`` for the run date; raise :class:`ValidationError` on failure."""
    return _validate(settings, run_date, OUTPUT_CHECKS)


def _parameters(settings: Settings, day: date) -> dict[str, Any]:
    # Dates as datetimes at midnight: they compare with pandas datetime64 columns (DuckDB
    # DATE read into pandas) and with SQL DATE columns alike; an ISO string compares with
    # neither in pandas.
    midnight = datetime.combine(day, datetime.min.time())
    return {
        "run_date": midnight,
        "last_forecast_date": midnight + timedelta(days=settings.forecast_horizon),
        "top_k": settings.top_k,
    }


def _validate(settings: Settings, run_date: date | str, checks: tuple[Check, ...]) -> dict:
    try:
        day = as_run_date(run_date)
    except ValueError as exc:
        raise ValueError(f"run_date {run_date!r} is not a date in YYYY-MM-DD form") from exc
    context = get_context(settings)
    warehouse = open_warehouse(settings)
    parameters = _parameters(settings, day)
    results: dict[str, Any] = {}
    problems: list[str] = []
    documented: list = []  # the validation results and suites of this call, for Data Docs
    for check in checks:
        if not warehouse.table_exists(check.schema, check.table):
            problems.append(
                f"{check.suite}: table {check.schema}.{check.table} does not exist "
                "(run the steps that build it before validating)"
            )
            results[check.suite] = {
                "success": False,
                "evaluated": 0,
                "expectations": 0,
                "failed": [problems[-1]],
            }
            continue
        outcome = _run_checkpoint(context, settings, warehouse, check, day, parameters)
        summary = _summarise(check, outcome)
        documented += _docs_resources(outcome)
        log.info(
            "%s on %s: %s, %d rows, %d expectations, %d failed",
            check.suite,
            check.where,
            "passed" if summary["success"] else "FAILED",
            summary["evaluated"],
            summary["expectations"],
            len(summary["failed"]),
        )
        results[check.suite] = summary
        problems.extend(summary["failed"])
    if documented:
        context.build_data_docs(site_names=[DATA_DOCS_SITE], resource_identifiers=documented)
    results["data_docs"] = _data_docs_index(settings)
    if problems:
        raise ValidationError(
            f"{len(problems)} expectation(s) failed for run date {day} "
            f"(Data Docs: {results['data_docs']}):\n" + "\n".join(problems)
        )
    return results


def _run_checkpoint(
    context, settings: Settings, warehouse, check: Check, day: date, parameters: dict
):
    if settings.warehouse_kind == "postgres":
        from great_expectations.exceptions.exceptions import NoAvailableBatchesError

        checkpoint = context.checkpoints.get(_definition_name(check, POSTGRES))
        batch_parameters = (
            {"year": day.year, "month": day.month, "day": day.day} if check.run_column else None
        )
        try:
            return checkpoint.run(
                batch_parameters=batch_parameters, expectation_parameters=parameters
            )
        except NoAvailableBatchesError:
            # No rows for the run date: GX has no batch to give. Validate the empty set of
            # rows instead, so "no sales loaded" fails the row-count expectation like on DuckDB.
            pass
    frame = _read_rows(warehouse, check, day)
    checkpoint = context.checkpoints.get(_definition_name(check, FRAME))
    return checkpoint.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters)


def _docs_resources(outcome) -> list:
    """The identifiers Data Docs renders for one checkpoint result: each validation result
    and its suite (what GX's UpdateDataDocsAction passes)."""
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    resources: list = []
    for identifier, result in outcome.run_results.items():
        resources += [identifier, ExpectationSuiteIdentifier(name=result.suite_name)]
    return resources


def _read_rows(warehouse, check: Check, day: date) -> pd.DataFrame:
    sql = check.source_sql
    if check.run_column:
        mark = warehouse.param
        sql = f"SELECT * FROM ({sql}) AS v WHERE CAST(v.{qident(check.run_column)} AS DATE) = CAST({mark} AS DATE)"
    return warehouse.query_df(sql, [day.isoformat()] if check.run_column else None)


def _data_docs_index(settings: Settings) -> str:
    return str(Path(runtime_environment(settings)[VAR_DATA_DOCS_DIR]) / "index.html")


def _summarise(check: Check, outcome) -> dict:
    """success / rows evaluated / one line per failed expectation for one checkpoint run."""
    failed: list[str] = []
    rows = 0
    evaluated = 0
    success = bool(outcome.success)
    for suite_result in outcome.run_results.values():
        evaluated += suite_result.statistics.get("evaluated_expectations", 0)
        for r in suite_result.results:
            res = r.result or {}
            rows = max(rows, int(res.get("element_count") or 0))
            if r.expectation_config.type == "expect_table_row_count_to_be_between":
                rows = max(rows, int(res.get("observed_value") or 0))
            if not r.success:
                failed.append(f"{check.suite}: {describe_failure(r)}")
    if not success and not failed:  # defensive: GX said no without naming an expectation
        failed.append(f"{check.suite}: suite failed on {check.where} (see Data Docs)")
    return {
        "success": success and not failed,
        "evaluated": rows,
        "expectations": evaluated,
        "failed": failed,
    }
