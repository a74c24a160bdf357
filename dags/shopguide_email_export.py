"""
### shopguide_email_export

Data-aware: runs whenever `shopguide_nightly`'s publish task emits the Asset of
`published.email_campaign_list` and writes that run date's email list (opted-in
customers only) to `SHOPGUIDE_EXPORT_DIR` (default `$SHOPGUIDE_HOME/exports`) as
`email_<run_date>.csv`, the file the email tool picks up. The run date comes from the
Asset event's extra; a manual trigger takes the `run_date` param, else the latest
published run.
"""

from __future__ import annotations

import os
from datetime import date, datetime

from airflow.sdk import Asset, dag, get_current_context, task

from shopguide.orchestration import (
    ASSET_GROUP,
    EMAIL_EXPORT_DAG,
    RUN_DATE_PARAM,
    default_args,
    published_asset_name,
    published_asset_uri,
    run_date_param,
)

EMAIL_LIST = Asset(
    name=published_asset_name("email_campaign_list"),
    uri=published_asset_uri("email_campaign_list"),
    group=ASSET_GROUP,
)


def _event_run_dates(context) -> list[str]:
    """Every run date among the Asset events that triggered this run, oldest first (a
    backfill's publish and the nightly one may arrive as one queued trigger)."""
    dates = set()
    for events in (context.get("triggering_asset_events") or {}).values():
        for event in events:
            value = (getattr(event, "extra", None) or {}).get(RUN_DATE_PARAM)
            if value:
                dates.add(str(value))
    return sorted(dates)


@dag(
    dag_id=EMAIL_EXPORT_DAG,
    schedule=[EMAIL_LIST],
    start_date=datetime(2024, 1, 1),
    catchup=False,
    max_active_runs=1,
    params={
        RUN_DATE_PARAM: run_date_param(
            "Published run to export (YYYY-MM-DD). Empty: the triggering "
            "Asset event's run, else the latest published run."
        )
    },
    default_args=default_args(),
    tags=["shopguide", "export"],
    doc_md=__doc__,
)
def shopguide_email_export():
    @task
    def export_email() -> dict:
        from shopguide.export import control_path, export_email_list
        from shopguide.orchestration import email_export_path
        from shopguide.settings import load_settings

        context = get_current_context()
        params = context.get("params") or {}
        given = params.get(RUN_DATE_PARAM)
        run_dates = [given] if given else _event_run_dates(context)
        settings = load_settings()
        done = []
        if not run_dates:
            # The latest published run: let the export pick it, then name the files.
            tmp = email_export_path(settings.home, "latest")
            rows, run_date = export_email_list(settings, None, tmp)
            out = email_export_path(settings.home, run_date)
            os.replace(tmp, out)
            control = control_path(settings, tmp, "latest")
            if os.path.exists(control):
                os.replace(control, control_path(settings, out, run_date))
            done.append({"run_date": run_date.isoformat(), "rows": rows, "path": out})
        for text in run_dates:
            out = email_export_path(settings.home, text)
            rows, run_date = export_email_list(settings, date.fromisoformat(text), out)
            done.append({"run_date": run_date.isoformat(), "rows": rows, "path": out})
        for item in done:
            print(
                f"shopguide email export: {item['rows']} rows for {item['run_date']} -> {item['path']}"
            )
        return {"exports": done}

    export_email()


shopguide_email_export()
