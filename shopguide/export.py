"""Exports for downstream tools (the email tool reads a CSV)."""

from __future__ import annotations

from pathlib import Path

from shopguide.schema import PUBLISHED_SCHEMA, PUBLISHED_TABLES
from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse, qident, qualified


def export_email_list(settings: Settings, run_date: str | None, out: str) -> tuple[int, str]:
    """Write the published email campaign list of ``run_date`` (default: latest) to CSV.

    The list holds opted-in customers only when it is built; customers who opted out
    since then are dropped here too, so an export never mails someone who said no.
    """
    wh = open_warehouse(settings)
    table = qualified(PUBLISHED_SCHEMA, "email_campaign_list")
    if not wh.table_exists(PUBLISHED_SCHEMA, "email_campaign_list"):
        raise RuntimeError(
            "published.email_campaign_list does not exist yet: run the pipeline first"
        )
    if run_date is None:
        run_date = wh.scalar(f"SELECT max(run_date) FROM {table}")
        if run_date is None:
            raise RuntimeError("published.email_campaign_list is empty: run the pipeline first")
        run_date = str(run_date)[:10]
    cols = ", ".join(f"e.{qident(c)}" for c in PUBLISHED_TABLES["email_campaign_list"])
    sql = f"SELECT {cols} FROM {table} e WHERE e.run_date = CAST({wh.param} AS DATE)"
    if wh.table_exists("marts", "customer_profiles"):
        sql += (
            f" AND EXISTS (SELECT 1 FROM {qualified('marts', 'customer_profiles')} p "
            "WHERE p.customer_id = e.customer_id AND p.is_opted_in)"
        )
    sql += " ORDER BY e.customer_id, e.rank"
    df = wh.query_df(sql, [run_date])
    if df.empty:
        raise RuntimeError(f"no email campaign list was published for {run_date}")
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    df.to_csv(out, index=False)
    return len(df), run_date
