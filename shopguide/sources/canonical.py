"""Canonical frames: an adapter's customers, articles and transactions with the columns
and types of :mod:`shopguide.schema` (see the package docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from shopguide.schema import ARTICLE_COLUMNS, CUSTOMER_COLUMNS, TRANSACTION_COLUMNS
from shopguide.sources.coerce import to_article_id, to_day, to_float, to_id, to_int, to_text

# H&M article columns besides the canonical ones, with their types: kept when present.
HM_EXTRA_ARTICLE_INT_COLUMNS = (
    "product_type_no",
    "graphical_appearance_no",
    "colour_group_code",
    "perceived_colour_value_id",
    "perceived_colour_master_id",
    "department_no",
    "index_group_no",
    "section_no",
    "garment_group_no",
)
HM_EXTRA_ARTICLE_TEXT_COLUMNS = ("perceived_colour_value_name", "index_code")


def canonical_customers(df: pd.DataFrame) -> pd.DataFrame:
    """Customers frame with exactly ``CUSTOMER_COLUMNS`` (missing columns become null)."""
    out = pd.DataFrame(index=df.index)
    out["customer_id"] = to_id(df["customer_id"]) if "customer_id" in df else None
    for col in ("fn", "active", "age"):
        out[col] = to_float(df[col]) if col in df else np.nan
    for col in ("club_member_status", "fashion_news_frequency", "postal_code"):
        out[col] = to_text(df[col]) if col in df else None
    return out[list(CUSTOMER_COLUMNS)]


def canonical_articles(df: pd.DataFrame, *, pad_ids: bool = True) -> pd.DataFrame:
    """Articles frame: ``ARTICLE_COLUMNS`` first, then any extra (H&M) columns."""
    out = pd.DataFrame(index=df.index)
    for col in ARTICLE_COLUMNS:
        if col == "article_id":
            out[col] = to_article_id(df[col], pad=pad_ids)
        elif col == "product_code":
            out[col] = to_int(df[col]) if col in df else pd.array([pd.NA] * len(df), dtype="Int64")
        else:
            out[col] = to_text(df[col]) if col in df else None
    for col in df.columns:
        if col in out.columns:
            continue
        if col in HM_EXTRA_ARTICLE_INT_COLUMNS:
            out[col] = to_int(df[col])
        elif col in HM_EXTRA_ARTICLE_TEXT_COLUMNS:
            out[col] = to_text(df[col])
        else:
            out[col] = df[col]
    return out


def canonical_transactions(
    df: pd.DataFrame, *, pad_ids: bool = True, date_formats=("ISO8601",)
) -> pd.DataFrame:
    """Transactions frame with exactly ``TRANSACTION_COLUMNS``; quantity defaults to 1."""
    out = pd.DataFrame(index=df.index)
    out["t_dat"] = to_day(df["t_dat"], date_formats)
    out["customer_id"] = to_id(df["customer_id"])
    out["article_id"] = to_article_id(df["article_id"], pad=pad_ids)
    out["price"] = to_float(df["price"])
    if "sales_channel_id" in df:
        out["sales_channel_id"] = to_int(df["sales_channel_id"])
    else:
        out["sales_channel_id"] = pd.array([pd.NA] * len(df), dtype="Int64")
    if "quantity" in df:
        out["quantity"] = to_int(df["quantity"])
    else:
        out["quantity"] = pd.array(np.ones(len(df), dtype="int64"), dtype="Int64")
    return out[list(TRANSACTION_COLUMNS)]


def derive_missing_customers(
    customers: pd.DataFrame, transactions: pd.DataFrame
) -> tuple[pd.DataFrame, int]:
    """Append customers who bought but are not in the customers file, attributes unknown.

    Unknown ``fashion_news_frequency``/``club_member_status`` means opted out of
    marketing. Returns the frame and how many customers were derived.
    """
    buyers = pd.Index(transactions["customer_id"].dropna().unique())
    new_ids = buyers.difference(pd.Index(customers["customer_id"].dropna().unique()))
    if len(new_ids) == 0:
        return customers, 0
    derived = pd.DataFrame({"customer_id": pd.Series(np.asarray(new_ids, dtype=object))})
    derived = canonical_customers(derived)
    start = (customers.index.max() + 1) if len(customers) else 0
    derived.index = pd.RangeIndex(start, start + len(derived))
    if customers.empty:
        return derived, len(derived)
    return pd.concat([customers, derived]), len(derived)


def empty_customers() -> pd.DataFrame:
    return canonical_customers(pd.DataFrame({"customer_id": pd.Series([], dtype=object)}))
