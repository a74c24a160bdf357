"""The whole synthetic shop: ``build_shop`` draws it in memory, ``generate_shop`` writes
its three H&M files."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shopguide.generate.articles import _catalogue_articles, _synthetic_articles
from shopguide.generate.customers import _customers
from shopguide.generate.purchases import _transactions
from shopguide.generate.seasonality import _Calendar
from shopguide.generate.vocabulary import NEVER_DAY, SEGMENTS


@dataclass
class GeneratedShop:
    """The generated frames (H&M file shapes) and the hidden facts behind them, for checks."""

    articles: pd.DataFrame
    customers: pd.DataFrame
    transactions: pd.DataFrame
    article_launch: pd.Series  # article_id -> first day on sale
    article_retire: pd.Series  # article_id -> first day off sale (NaT: never)
    customer_signup: pd.Series  # customer_id -> signup day
    customer_segment: pd.Series  # customer_id -> segment name


def generate_shop(
    out_dir: str | Path,
    *,
    customers: int = 3000,
    articles: int = 1500,
    days: int = 365,
    end_date: str = "2024-06-30",
    seed: int = 42,
    catalogue: str | None = None,
) -> dict[str, str]:
    """Write the synthetic shop to ``out_dir``; returns entity -> file path."""
    shop = build_shop(
        customers=customers,
        articles=articles,
        days=days,
        end_date=end_date,
        seed=seed,
        catalogue=catalogue,
    )
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = {}
    for entity, frame in (
        ("articles", shop.articles),
        ("customers", shop.customers),
        ("transactions", shop.transactions),
    ):
        path = out / f"{entity}.parquet"
        frame.to_parquet(path, index=False)
        paths[entity] = str(path)
    return paths


def build_shop(
    *,
    customers: int = 3000,
    articles: int = 1500,
    days: int = 365,
    end_date: str = "2024-06-30",
    seed: int = 42,
    catalogue: str | None = None,
) -> GeneratedShop:
    """Generate the shop in memory (see the module docstring for what is in it)."""
    for name, value, low in (
        ("customers", customers, 1),
        ("articles", articles, 2),
        ("days", days, 7),
    ):
        try:
            whole = int(value) == value
        except (TypeError, ValueError):
            whole = False
        if not whole or value < low:
            raise ValueError(f"generate: {name}={value!r} must be a whole number of at least {low}")
    try:
        last_day = pd.Timestamp(end_date).normalize()
    except (ValueError, TypeError):
        last_day = pd.NaT
    if pd.isna(last_day):
        raise ValueError(f"generate: end_date={end_date!r} is not a date; write it as YYYY-MM-DD")
    rng = np.random.default_rng(seed)
    calendar = _Calendar(last_day - pd.Timedelta(days=days - 1), days)

    if catalogue is None:
        art = _synthetic_articles(rng, articles, calendar)
    else:
        art = _catalogue_articles(rng, catalogue, articles, calendar)
    cust = _customers(rng, customers, calendar, seed, art)
    tx = _transactions(rng, art, cust, calendar)

    launch = pd.Series(calendar.day(art.launch_day), index=art.frame["article_id"], name="launch")
    never_retired = art.retire_day >= NEVER_DAY
    retire = pd.Series(
        np.where(
            never_retired,
            np.datetime64("NaT"),
            calendar.day(np.where(never_retired, 0, art.retire_day)),
        ),
        index=art.frame["article_id"],
        name="retire",
    )
    signup = pd.Series(
        calendar.day(cust.signup_day), index=cust.frame["customer_id"], name="signup"
    )
    segment = pd.Series(
        np.array([s.name for s in SEGMENTS])[cust.segment],
        index=cust.frame["customer_id"],
        name="segment",
    )
    order_a = np.argsort(art.frame["article_id"].to_numpy(), kind="stable")
    order_c = np.argsort(cust.frame["customer_id"].to_numpy(), kind="stable")
    return GeneratedShop(
        articles=art.frame.iloc[order_a].reset_index(drop=True),
        customers=cust.frame.iloc[order_c].reset_index(drop=True),
        transactions=tx,
        article_launch=launch.iloc[order_a],
        article_retire=retire.iloc[order_a],
        customer_signup=signup.iloc[order_c],
        customer_segment=segment.iloc[order_c],
    )
