"""Exports for the email tool: ``shopguide export email``.

The list is the published email list of a run (default: the latest successful run, i.e.
``published.email_audience``) re-checked against consent *now*: customers who opted out
or were suppressed since the run are left out. The control group is never in the send
file; it goes to its own file (``<name>.control<ext>``) so uplift can be measured.

Formats (CSV, or Parquet when the file name ends in ``.parquet``; ``-`` is CSV on stdout):

- ``long``: one row per recipient and item: run_date, customer_id, age_band, rank,
  article_id, prod_name, product_type_name, colour_group_name, price, reason,
  campaign_group, product_url.
- ``wide``: one row per recipient, merge fields for the email tool: run_date,
  customer_id, age_band, campaign_group, items (how many item_k are filled), and for
  k = 1..SHOPGUIDE_EMAIL_TOP_N: item_k_article_id, item_k_name, item_k_price,
  item_k_reason, item_k_url (SHOPGUIDE_PRODUCT_URL_TEMPLATE with {article_id}).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from shopguide.schema import PUBLISHED_SCHEMA, PUBLISHED_TABLES
from shopguide.settings import Settings
from shopguide.warehouse import open_warehouse, qualified

FORMATS = ("long", "wide")
ITEM_FIELDS = ("article_id", "name", "price", "reason", "url")


@dataclass(frozen=True)
class EmailExport:
    run_date: date
    send_rows: int
    recipients: int
    control_recipients: int
    send_file: str
    control_file: str | None


def product_url(template: str, article_id: str) -> str:
    return template.replace("{article_id}", str(article_id))


def email_audience(settings: Settings, run_date: date | None = None) -> tuple[pd.DataFrame, date]:
    """The run's email list for customers opted in now and not suppressed (both groups);
    ``run_date`` None: the latest published run."""
    from shopguide.consent import ensure_consent_tables
    from shopguide.published import audience_sql, latest_published_run

    wh = open_warehouse(settings)
    if not wh.table_exists(PUBLISHED_SCHEMA, "email_campaign_list"):
        raise RuntimeError(
            "published.email_campaign_list does not exist yet: run the pipeline first"
        )
    if run_date is None:
        run_date = latest_published_run(wh)
        if run_date is None:
            raise RuntimeError("no successful run is published yet: run the pipeline first")
    ensure_consent_tables(wh)
    sql = audience_sql(wh.kind, f"CAST({wh.param} AS DATE)") + ' ORDER BY e.customer_id, e."rank"'
    df = wh.query_df(sql, [run_date])
    if df.empty:
        listed = wh.scalar(
            f"SELECT count(*) FROM {qualified(PUBLISHED_SCHEMA, 'email_campaign_list')} "
            f"WHERE run_date = CAST({wh.param} AS DATE)",
            [run_date],
        )
        raise RuntimeError(
            f"no email campaign list was published for {run_date}"
            if not listed
            else f"nobody on the {run_date} email list may be emailed now (opted out or suppressed)"
        )
    df["run_date"] = df["run_date"].astype(str).str[:10]
    return df.reset_index(drop=True), run_date


def long_format(df: pd.DataFrame, url_template: str) -> pd.DataFrame:
    out = df[list(PUBLISHED_TABLES["email_campaign_list"])].copy()
    out["product_url"] = [product_url(url_template, a) for a in out["article_id"]]
    return out


def wide_format(df: pd.DataFrame, top_n: int, url_template: str) -> pd.DataFrame:
    """One row per recipient with item_1..item_N merge fields (N = top_n)."""
    head = ["run_date", "customer_id", "age_band", "campaign_group"]
    rows = []
    for (run_date, customer_id), items in df.sort_values("rank").groupby(
        ["run_date", "customer_id"], sort=True
    ):
        first = items.iloc[0]
        row = {
            "run_date": run_date,
            "customer_id": customer_id,
            "age_band": first["age_band"],
            "campaign_group": first["campaign_group"],
            "items": len(items),
        }
        for k, item in enumerate(items.head(top_n).itertuples(index=False), start=1):
            row[f"item_{k}_article_id"] = item.article_id
            row[f"item_{k}_name"] = item.prod_name
            row[f"item_{k}_price"] = item.price
            row[f"item_{k}_reason"] = item.reason
            row[f"item_{k}_url"] = product_url(url_template, item.article_id)
        rows.append(row)
    columns = [*head, "items"] + [
        f"item_{k}_{field}" for k in range(1, top_n + 1) for field in ITEM_FIELDS
    ]
    return pd.DataFrame(rows).reindex(columns=columns)


def _write(df: pd.DataFrame, out: str) -> None:
    if out == "-":
        df.to_csv(sys.stdout, index=False)
        return
    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() == ".parquet":
        df.to_parquet(path, index=False)
    else:
        df.to_csv(path, index=False)


def control_path(settings: Settings, out: str, run_date: date | str) -> str:
    """Where the control group goes: beside the send file, or var/exports for stdout
    (``run_date``: a run date, or the text the caller names the file with)."""
    if out == "-":
        return str(Path(settings.home) / "exports" / f"email_{run_date}.control.csv")
    path = Path(out)
    return str(path.with_name(f"{path.stem}.control{path.suffix or '.csv'}"))


def export_email(
    settings: Settings, run_date: date | None, out: str, fmt: str = "long"
) -> EmailExport:
    """Write the send file (treatment group) to ``out`` and the control group beside it."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}: choose one of {', '.join(FORMATS)}")
    df, run_date = email_audience(settings, run_date)
    shape = (
        (lambda d: wide_format(d, settings.email_top_n, settings.product_url_template))
        if fmt == "wide"
        else (lambda d: long_format(d, settings.product_url_template))
    )
    send = df[df["campaign_group"] != "control"]
    control = df[df["campaign_group"] == "control"]
    _write(shape(send), out)
    where = None
    if not control.empty:
        where = control_path(settings, out, run_date)
        _write(shape(control), where)
    return EmailExport(
        run_date=run_date,
        send_rows=len(shape(send)),
        recipients=send["customer_id"].nunique(),
        control_recipients=control["customer_id"].nunique(),
        send_file=out,
        control_file=where,
    )


def export_email_list(settings: Settings, run_date: date | None, out: str) -> tuple[int, date]:
    """The long send file (kept for callers of the first version): rows written, run date."""
    result = export_email(settings, run_date, out, "long")
    return result.send_rows, result.run_date
