"""Offline evaluation of recommendations: ranking metrics and the ``evaluate recs`` command.

Metric definitions follow Microsoft Recommenders' ``python_evaluation`` and Spark's
``RankingMetrics``: per-customer values averaged over the customers present in both
the truth and the predictions, binary relevance, precision divided by k. ``map_at_k``
is the H&M competition's MAP@k (average precision / min(|relevant|, k)); ``map``
divides by |relevant|.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from spark_jobs.recommend.metrics import catalog_coverage, diversity, novelty, ranking_metrics

__all__ = ["ranking_metrics", "catalog_coverage", "novelty", "diversity", "evaluate_recs"]


# -- the ``shopguide evaluate recs`` command ------------------------------------------


METRIC_KEYS = (
    "map_at_k",
    "precision_at_k",
    "recall_at_k",
    "ndcg_at_k",
    "catalog_coverage",
)
# Also computed; returned only under ``details``, so the default result keeps the keys
# above.
DETAIL_KEYS = ("novelty", "diversity", "map")

# Settings per source. Only MovieLens has searched values (ALS and EASE's L2, on a
# validation split carved from its training part, never on the test part; the tables are
# in benchmarks/results.md); the other sources use the RecsConfig defaults, as a shop's
# nightly run does.
SOURCE_PROFILES: dict[str, dict] = {
    # Ratings, not purchases, and a random split without time order: no recency decay.
    # ALS: validation search in benchmarks/results.md (strong regularization wins).
    "movielens": {
        "interaction_half_life_days": 100000.0,
        "popularity_half_life_days": 100000.0,
        "als_rank": 128,
        "als_reg_param": 1.0,
        "als_alpha": 10.0,
        # EASE's L2 by the same validation split (`bench_recs.py --tune-ease`, the table
        # in benchmarks/results.md).
        "itemitem_l2": 500.0,
    },
    "online-retail": {},
    "hm": {},
    "generated": {},
}


def split_random_per_user(
    transactions: pd.DataFrame, test_fraction: float, seed: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(train, test): each customer's rows shuffled with ``seed``, the first
    round(n * (1 - test_fraction)) to train (Recommenders' stratified split)."""
    if not 0 < test_fraction < 1:
        raise ValueError(f"--test-fraction must be between 0 and 1, got {test_fraction}")
    tx = transactions[transactions["customer_id"].notna()].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(tx))
    shuffled = tx.iloc[order]
    pos = shuffled.groupby("customer_id", sort=False).cumcount()
    n = shuffled.groupby("customer_id", sort=False)["customer_id"].transform("size")
    in_train = pos < np.round(n * (1 - test_fraction))
    return shuffled[in_train.to_numpy()].sort_index(), shuffled[~in_train.to_numpy()].sort_index()


def _eval_settings(tmp: Path):
    from shopguide.settings import load_settings

    return load_settings().with_(
        home=tmp,
        warehouse_url=f"duckdb://{tmp / 'wh.duckdb'}",
        lake=str(tmp / "lake"),
        reports_dir=tmp / "reports",
    )


@dataclass
class _Split:
    """The purchases an evaluation fits on and scores against."""

    train_tx: pd.DataFrame
    test_tx: pd.DataFrame
    run_date: str  # the last training day, the run date of the pipeline it runs
    train_end: pd.Timestamp | None  # time split: the first test day (shifted calendar)


def _split_purchases(args: argparse.Namespace, tx: pd.DataFrame, shift: int) -> _Split:
    """Train and test purchases by ``args.split``: 'time' (``train_end``, ``test_days``)
    or 'random-per-user' (``test_fraction``, ``seed``); with ``args.validation`` the split
    is carved from the training part instead (tuning never sees the test part)."""
    split = getattr(args, "split", None) or "time"
    validation = bool(getattr(args, "validation", False))
    if split == "time":
        if not getattr(args, "train_end", None) or not getattr(args, "test_days", None):
            raise ValueError("the time split needs --train-end YYYY-MM-DD and --test-days N")
        # --train-end is in the source's calendar; the data may have been shifted.
        train_end = pd.Timestamp(dt.date.fromisoformat(str(args.train_end))) + pd.Timedelta(
            days=shift
        )
        if validation:
            # Tuning: the same protocol moved back by the test window, inside training.
            tx = tx[tx["t_dat"] < train_end]
            train_end = train_end - pd.Timedelta(days=int(args.test_days))
        test_end = train_end + pd.Timedelta(days=int(args.test_days))
        train_tx = tx[tx["t_dat"] < train_end]
        test_tx = tx[(tx["t_dat"] >= train_end) & (tx["t_dat"] < test_end)]
        if train_tx.empty or test_tx.empty:
            raise ValueError(
                f"no purchases {'before' if train_tx.empty else 'in the test window from'} {train_end.date()} "
                f"in {args.path} (data covers {tx['t_dat'].min().date()}..{tx['t_dat'].max().date()}): pick another --train-end"
            )
        run_date = (train_end - pd.Timedelta(days=1)).date().isoformat()
        return _Split(train_tx, test_tx, run_date, train_end)
    if split == "random-per-user":
        fraction = float(getattr(args, "test_fraction", 0.25) or 0.25)
        seed = int(getattr(args, "seed", 42) or 42)
        train_tx, test_tx = split_random_per_user(tx, fraction, seed)
        if validation:
            # Tuning: split the training part again; the test part is never looked at.
            train_tx, test_tx = split_random_per_user(train_tx, fraction, seed + 1)
        return _Split(train_tx, test_tx, train_tx["t_dat"].max().date().isoformat(), None)
    raise ValueError(f"--split must be time or random-per-user, got {split!r}")


def evaluate_recs(args: argparse.Namespace) -> dict:
    """Evaluate the recommender and its baselines on a source: fit on the training part of
    a split, score each model's top-k lists against the customers' purchases in the test part.

    ``args``: source, path, k, split ('time' or 'random-per-user'), train_end, test_days
    (time split), test_fraction, seed (random split), exclude_seen; optional ``config``
    (dict of RecsConfig overrides), ``workdir``, ``validation`` (tuning: evaluate on a
    validation split carved from the training part instead of the test part) and
    ``details`` (add novelty, diversity, the ranker's coefficients...). Returns
    ``{"k", "users", "models": {model: metrics}, "cold": {"users", "map_at_k"}}``.
    """
    from shopguide.sources import read_source
    from spark_jobs.recommend.config import RecsConfig

    k = int(args.k)
    if k < 1:
        raise ValueError(f"--k must be at least 1, got {k}")
    split = getattr(args, "split", None) or "time"
    data = read_source(args.source, args.path)
    data, shift = _shift_into_shop_era(data)
    tx = data.transactions
    parts = _split_purchases(args, tx[tx["customer_id"].notna() & tx["t_dat"].notna()], shift)

    overrides = {
        **SOURCE_PROFILES.get(args.source, {}),
        **(getattr(args, "config", None) or {}),
        "top_k": k,
    }
    config = RecsConfig().replace(**overrides)
    if parts.train_end is not None:
        # Anonymous sales stay: they count for demand, not for recommendations.
        train_data = data.filter_transactions(data.transactions["t_dat"] < parts.train_end)
    else:
        train_data = replace(data, transactions=parts.train_tx)
    workdir = getattr(args, "workdir", None)
    tmp_ctx = tempfile.TemporaryDirectory(prefix="shopguide-eval-") if workdir is None else None
    try:
        result = _run_and_score(
            Path(workdir or tmp_ctx.name), args, split, parts, train_data, config, k
        )
        if getattr(args, "details", False):
            result["details"]["date_shift_days"] = shift
            result["details"]["config"] = overrides
        return result
    finally:
        if tmp_ctx is not None:
            tmp_ctx.cleanup()


def _run_and_score(tmp: Path, args, split: str, parts: _Split, train_data, config, k: int):
    """Run the recommender on the training data (ingest, dbt and export in ``tmp``, then
    Spark) for the evaluated and cold customers, and score every model's lists."""
    from shopguide.pipeline import prepare_inputs
    from spark_jobs.common import get_spark, read_input
    from spark_jobs.recommend.candidates.als import set_checkpoint_dir
    from spark_jobs.recommend.holdout import article_type_series, evaluate_models
    from spark_jobs.recommend.lists import recommend_as_of

    train_buyers = set(parts.train_tx["customer_id"])
    test_buyers = set(parts.test_tx["customer_id"])
    evaluated = sorted(test_buyers & train_buyers)
    cold = sorted(test_buyers - train_buyers) if split == "time" else []
    truth = parts.test_tx[["customer_id", "article_id"]].drop_duplicates()

    settings = _eval_settings(tmp)
    prepare_inputs(settings, parts.run_date, train_data)
    spark = get_spark("shopguide-evaluate")
    set_checkpoint_dir(spark, str(tmp / "lake" / "tmp" / "checkpoints"))
    customers, articles, transactions = (
        read_input(spark, settings.lake, parts.run_date, n)
        for n in ("customers", "articles", "transactions")
    )
    targets = spark.createDataFrame(
        pd.DataFrame({"customer_id": evaluated + cold}), "customer_id string"
    )
    recs = recommend_as_of(
        customers,
        articles,
        transactions,
        parts.run_date,
        config,
        score_customers=targets,
        exclude_seen=bool(getattr(args, "exclude_seen", False)),
        validation=("random" if split == "random-per-user" else "time"),
    )
    train_pairs = parts.train_tx[["customer_id", "article_id"]].drop_duplicates()
    types = article_type_series(articles)
    ev_set = set(evaluated)
    models = evaluate_models(
        recs,
        truth[truth["customer_id"].isin(ev_set)],
        train_pairs,
        types,
        recs.sellable_count,
        k,
        ev_set,
    )
    result = {
        "k": k,
        "users": len(evaluated),
        "models": {
            m: {key: round(float(v[key]), 6) for key in METRIC_KEYS} for m, v in models.items()
        },
    }
    if split == "time":
        cold_set = set(cold)
        cold_truth = truth[truth["customer_id"].isin(cold_set)]
        cold_metrics = (
            evaluate_models(recs, cold_truth, train_pairs, types, recs.sellable_count, k, cold_set)[
                "hybrid"
            ]
            if cold
            else {"map_at_k": 0.0}
        )
        result["cold"] = {
            "users": len(cold),
            "map_at_k": round(float(cold_metrics["map_at_k"]), 6),
        }
    if getattr(args, "details", False):
        result["details"] = {
            "models": {
                m: {key: round(float(v[key]), 6) for key in DETAIL_KEYS} for m, v in models.items()
            },
            "ranker": recs.ranker.describe(),
            "repeat_rate": round(recs.repeat_rate, 4),
        }
    recs.release()
    return result


def _shift_into_shop_era(data):
    """Move every purchase date by whole weeks if any predates the shop's opening day
    the ingest step enforces (``SHOPGUIDE_SHOP_OPENED``). Only relative time matters to
    the recommender; returns (data, shift_days)."""
    from shopguide.settings import load_settings

    shop_opened = pd.Timestamp(getattr(load_settings(), "shop_opened", "1995-01-01"))
    first = data.transactions["t_dat"].min()
    if pd.isna(first) or first >= shop_opened:
        return data, 0
    weeks = int(np.ceil((shop_opened - first).days / 7))
    shifted = data.transactions.assign(
        t_dat=data.transactions["t_dat"] + pd.Timedelta(days=7 * weeks)
    )
    return replace(data, transactions=shifted), 7 * weeks
