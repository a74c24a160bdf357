"""Run the dbt project (``dbt/``) in-process for one run date.

``build_models`` builds staging -> intermediate -> marts (before Spark);
``build_published`` builds the contract-checked ``publish_candidates`` (after the
pipeline loaded the Spark outputs into ``outputs.*``). Artifacts and logs go to
``$SHOPGUIDE_REPORTS/dbt/run_date=D/`` so runs never write into the repository.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse

PUBLISHED_TAG = "published"
# Exposures (BI dashboard, email tool) are documentation: `dbt build` would list them as
# no-op nodes.
NOT_BUILT = ("--exclude-resource-type", "exposure")

# Result statuses that mean the node did not do its job. "warn" (a data test with
# severity warn) and "skipped" (downstream of a failure) are reported, not raised.
FAILED_STATUSES = frozenset({"error", "fail", "runtime error"})

# dbtRunner keeps global state (flags, adapters, the event manager): one invocation
# at a time per process.
_DBT_LOCK = threading.Lock()


class DbtError(RuntimeError):
    """A dbt invocation failed; the message names each failing node, one per line."""

    def __init__(self, message: str, results: list[dict] | None = None):
        super().__init__(message)
        self.results = results or []


def dbt_artifacts_dir(settings: Settings, run_date: dt.date | str) -> Path:
    """Where a run date's dbt target (manifest, run_results.json) and logs go."""
    return Path(settings.reports_dir) / "dbt" / f"run_date={run_date}"


def _check_run_date(run_date: dt.date | str) -> str:
    """The run date as the YYYY-MM-DD text dbt gets; text (callers outside the pipeline)
    is checked."""
    if isinstance(run_date, dt.date) and not isinstance(run_date, dt.datetime):
        return run_date.isoformat()
    try:
        dt.date.fromisoformat(run_date)
    except (TypeError, ValueError) as exc:
        raise DbtError(
            f"run_date {run_date!r} is not a day as YYYY-MM-DD (e.g. 2020-09-22)"
        ) from exc
    if len(run_date) != 10:
        raise DbtError(f"run_date {run_date!r} is not a day as YYYY-MM-DD (e.g. 2020-09-22)")
    return run_date


@contextlib.contextmanager
def _environment(values: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the profile (dbt reads os.environ), then restore them."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, old in saved.items():
            if old is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = old


def _one_line(text: Any) -> str:
    """dbt's message on one line, without the macro call stack ("> in macro ...")."""
    lines = [line for line in str(text or "").splitlines() if not line.strip().startswith(">")]
    return " ".join(" ".join(lines).split())


def _node_results(result: Any) -> list[dict]:
    """dbt's per-node results as plain dicts (empty when dbt stopped before running nodes)."""
    rows: list[dict] = []
    for item in getattr(result, "results", None) or []:
        node = getattr(item, "node", None)
        status = getattr(item, "status", None)
        adapter_response = getattr(item, "adapter_response", None) or {}
        message = _one_line(getattr(item, "message", None))
        if not message and getattr(item, "age", None) is not None:
            # `dbt source freshness` results carry no message, only the newest row's age.
            message = f"newest row loaded at {item.max_loaded_at}, {item.age / 86400:.1f} days ago"
        rows.append(
            {
                "unique_id": getattr(node, "unique_id", None),
                "name": getattr(node, "name", None),
                "resource_type": str(getattr(node, "resource_type", "") or ""),
                "status": str(getattr(status, "value", status)),
                "message": message,
                "failures": getattr(item, "failures", None),
                "rows_affected": adapter_response.get("rows_affected")
                if isinstance(adapter_response, dict)
                else None,
                "execution_time": round(float(getattr(item, "execution_time", 0.0) or 0.0), 3),
            }
        )
    return rows


def run_dbt(
    settings: Settings,
    command: list[str],
    run_date: dt.date | str,
    extra_vars: dict | None = None,
) -> list[dict]:
    """Run ``dbt <command>`` for ``run_date`` against the configured warehouse.

    Returns one dict per node (unique_id, name, resource_type, status, message,
    failures, rows_affected, execution_time). Raises :class:`DbtError` listing every
    failing node when a node errors or a data test fails, or dbt itself cannot run.
    """
    run_date = _check_run_date(run_date)
    if not command:
        raise DbtError("run_dbt needs a dbt command, e.g. ['build', '--select', 'tag:published']")
    project_dir = Path(settings.dbt_project_dir)
    if not (project_dir / "dbt_project.yml").is_file():
        raise DbtError(
            f"no dbt project at {project_dir} (dbt_project.yml missing): "
            "check Settings.dbt_project_dir"
        )
    artifacts = dbt_artifacts_dir(settings, run_date)
    target_path, log_path = artifacts / "target", artifacts / "logs"
    target_path.mkdir(parents=True, exist_ok=True)
    log_path.mkdir(parents=True, exist_ok=True)

    if extra_vars and "run_date" in extra_vars:
        raise DbtError("pass the run date as run_dbt(..., run_date=...), not in extra_vars")
    dbt_vars = {
        "run_date": run_date,
        "email_top_n": settings.email_top_n,
        "email_control_share": settings.email_control_share,
        **(extra_vars or {}),
    }
    args = [
        *command,
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target", settings.warehouse_kind,
        "--target-path", str(target_path),
        "--log-path", str(log_path),
        "--vars", json.dumps(dbt_vars),
        "--no-use-colors",  # plain text in Airflow task logs
    ]  # fmt: skip
    env = {
        **open_warehouse(settings).dbt_env(),
        "SHOPGUIDE_DBT_TARGET": settings.warehouse_kind,
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }

    from dbt.cli.main import dbtRunner

    # dbt's console log goes to stderr: stdout stays for what a command prints (the
    # JSON of `shopguide evaluate ... --json`); task logs capture both.
    with _DBT_LOCK, _environment(env), contextlib.redirect_stdout(sys.stderr):
        outcome = dbtRunner().invoke(args)

    results = _node_results(outcome.result)
    where = f"dbt {' '.join(command)} (run_date {run_date}, target {settings.warehouse_kind})"
    _raise_on_failure(outcome, results, where, target_path, log_path)
    return results


def _raise_on_failure(outcome, results: list[dict], where: str, target_path, log_path) -> None:
    """Raise :class:`DbtError` when dbt could not run, or listing each failing node."""
    if outcome.exception is not None:
        raise DbtError(
            f"{where} could not run: {_one_line(outcome.exception)}\n  log: {log_path / 'dbt.log'}",
            results,
        ) from outcome.exception
    failed = [r for r in results if r["status"] in FAILED_STATUSES]
    if failed or not outcome.success:
        lines = [
            f"  {r['unique_id']} [{r['status']}]: {r['message'] or 'no message'}"
            + (
                f" ({r['failures']} failing rows)"
                if r["status"] == "fail" and r["failures"]
                else ""
            )
            for r in failed
        ]
        skipped = sum(r["status"] == "skipped" for r in results)
        summary = f"{where} failed: {len(failed)} node(s) failed" + (
            f", {skipped} skipped downstream" if skipped else ""
        )
        raise DbtError(
            "\n".join(
                [
                    summary + ":",
                    *lines,
                    f"  details: {target_path / 'run_results.json'}, {log_path / 'dbt.log'}",
                ]
            ),
            results,
        )


def build_models(
    settings: Settings, run_date: dt.date | str, extra_vars: dict | None = None
) -> list[dict]:
    """Build and test staging, intermediate and marts (everything not published)."""
    return run_dbt(
        settings,
        ["build", "--exclude", f"tag:{PUBLISHED_TAG}", *NOT_BUILT],
        run_date,
        extra_vars,
    )


def build_published(
    settings: Settings, run_date: dt.date | str, extra_vars: dict | None = None
) -> list[dict]:
    """Build and test the publish candidates (needs outputs.* loaded for run_date)."""
    from shopguide.consent import ensure_consent_tables

    # The email list reads consent.* (suppressions, earlier listings): empty on a new warehouse.
    ensure_consent_tables(open_warehouse(settings))
    # The realized-performance models read outputs.* of the score_feedback task.
    from shopguide.feedback import ensure_outputs

    ensure_outputs(open_warehouse(settings))
    return run_dbt(
        settings, ["build", "--select", f"tag:{PUBLISHED_TAG}", *NOT_BUILT], run_date, extra_vars
    )


def docs_dir(settings: Settings) -> Path:
    """Where each run's dbt docs go: ``$SHOPGUIDE_REPORTS/dbt/index.html`` (latest run)."""
    return Path(settings.reports_dir) / "dbt"


def generate_docs(settings: Settings, run_date: dt.date | str) -> Path:
    """``dbt docs generate --static`` (models, sources incl. the published tables,
    exposures, the warehouse's catalog) for the run, copied to ``docs_dir``: one
    self-contained index.html a browser opens from disk, beside manifest.json and
    catalog.json. Returns the index.html path."""
    import shutil

    run_dbt(settings, ["docs", "generate", "--static"], run_date)
    target = dbt_artifacts_dir(settings, run_date) / "target"
    out = docs_dir(settings)
    out.mkdir(parents=True, exist_ok=True)
    for name in ("manifest.json", "catalog.json"):
        if (target / name).is_file():
            shutil.copyfile(target / name, out / name)
    index = out / "index.html"
    tmp = out / ".index.html.tmp"
    shutil.copyfile(target / "static_index.html", tmp)
    os.replace(tmp, index)
    return index


def summarize(results: list[dict]) -> dict[str, int]:
    """Counts by status (e.g. {'success': 20, 'pass': 41}), for the pipeline's task result."""
    counts: dict[str, int] = {}
    for row in results:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    return counts
