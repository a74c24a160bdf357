"""Spark job: the AI shopping guide's top-K recommendations for every customer.

Reads the lake inputs ``customers``, ``articles``, ``transactions`` of the run and
writes the outputs
- ``recommendations`` (customer_id, rank, article_id, score, reason): every customer,
  cold-start ones included;
- ``similar_articles`` (article_id, rank, similar_article_id, score);
- ``outfit_complements`` (article_id, rank, complement_article_id, score, support);
- with ``--evaluate``: ``model_metrics`` (model, k, precision_at_k, recall_at_k,
  map_at_k, ndcg_at_k, catalog_coverage, novelty, diversity) from holding out the
  last ``--holdout-days`` days;
- ``baseline_recommendations`` (the recommendations' columns + ``model``): for the same
  customers, the lists of the best single model by the holdout's MAP@K (popularity
  without a holdout). Private: the publish step's quality gate publishes them instead
  of the hybrid's when the hybrid loses to them.
Like every lake output, the rows carry no run_date: the path holds it and the loader
adds the column.
``--model baseline`` writes only the repurchase + segment popularity baseline.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from urllib.parse import urlparse

from pyspark.sql import Window
from pyspark.sql import functions as F

from spark_jobs.common import get_spark, job_arguments, read_input, write_output
from spark_jobs.recommend.baseline import baseline_recommendations
from spark_jobs.recommend.columns import (
    ARTICLE_ID,
    CUSTOMER_ID,
    OUT_BASELINE_RECOMMENDATIONS,
    OUT_MODEL_METRICS,
    OUT_OUTFIT_COMPLEMENTS,
    OUT_RECOMMENDATIONS,
    OUT_SIMILAR_ARTICLES,
    RANK,
    RECOMMENDATION_COLUMNS,
)
from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.timing import STEP_LOG, timed


def _options(parser) -> None:
    parser.add_argument(
        "--top-k", type=int, default=RecsConfig.top_k, help="articles per customer (default 12)"
    )
    parser.add_argument(
        "--model",
        choices=("hybrid", "baseline"),
        default="hybrid",
        help="hybrid (default) or the popularity+repurchase baseline",
    )
    parser.add_argument(
        "--evaluate",
        action="store_true",
        help="also write model_metrics from a holdout of the last days",
    )
    parser.add_argument(
        "--holdout-days", type=int, default=7, help="days held out by --evaluate (default 7)"
    )


def checkpoint_dir(lake: str, run_date: str) -> str:
    """ALS checkpoints live under the lake's tmp/ so a cluster's executors reach them."""
    return f"{lake.rstrip('/')}/tmp/checkpoints/recommend-{run_date}"


# About 85 lines: the job's whole sequence (ranker, lists, side tables, holdout, baseline
# lists) reads top to bottom in one place, with its cleanup in one finally.
def main(argv: list[str] | None = None) -> None:
    args = job_arguments("Recommend top-K articles for every customer.", argv, _options)
    if args.top_k < 1:
        raise SystemExit(f"--top-k must be at least 1, got {args.top_k}")
    if args.holdout_days < 1:
        raise SystemExit(f"--holdout-days must be at least 1, got {args.holdout_days}")
    config = RecsConfig().replace(top_k=args.top_k)
    STEP_LOG.clear()  # this run's steps only, in a process that runs the job again
    spark = get_spark("shopguide-recommend")
    customers, articles, transactions = (
        read_input(spark, args.lake, args.run_date, n)
        for n in ("customers", "articles", "transactions")
    )
    if args.model == "baseline":
        recs = baseline_recommendations(customers, articles, transactions, args.run_date, config)
        write_output(recs, args.lake, args.run_date, OUT_RECOMMENDATIONS)
        from spark_jobs.recommend.baseline import top_k_per_customer
        from spark_jobs.recommend.candidates.popularity import popularity_candidates

        popular = top_k_per_customer(
            popularity_candidates(customers, transactions, articles, args.run_date, config),
            config.top_k,
        )
        write_output(
            popular.withColumn("model", F.lit("popularity")),
            args.lake,
            args.run_date,
            OUT_BASELINE_RECOMMENDATIONS,
        )
        return

    from spark_jobs.recommend.candidates.als import set_checkpoint_dir
    from spark_jobs.recommend.holdout import holdout_metrics
    from spark_jobs.recommend.lists import recommend_as_of

    ckpt = checkpoint_dir(args.lake, args.run_date)
    set_checkpoint_dir(spark, ckpt)
    result = None
    try:
        ranker = degraded_ranker(config)
        if args.evaluate and ranker is None:
            ranker = holdout_ranker(spark, args, config, customers, articles, transactions)
        result = recommend_as_of(
            customers, articles, transactions, args.run_date, config, ranker=ranker
        )
        with timed(f"{args.run_date} lists for every customer (candidates, ranking, write)"):
            write_output(result.hybrid, args.lake, args.run_date, OUT_RECOMMENDATIONS)
        with timed(f"{args.run_date} similar articles and outfit complements written"):
            write_output(result.similar_articles, args.lake, args.run_date, OUT_SIMILAR_ARTICLES)
            write_output(
                result.outfit_complements, args.lake, args.run_date, OUT_OUTFIT_COMPLEMENTS
            )
        if args.evaluate:
            with timed(f"{args.run_date} holdout of the last {args.holdout_days} days"):
                metrics = holdout_metrics(
                    customers,
                    articles,
                    transactions,
                    args.run_date,
                    config,
                    args.holdout_days,
                    ranker,
                )
            frame = (
                spark.createDataFrame(metrics)
                if len(metrics)
                else spark.createDataFrame([], _METRICS_SCHEMA)
            )
            write_output(frame.coalesce(1), args.lake, args.run_date, OUT_MODEL_METRICS)
        model = best_baseline(metrics if args.evaluate else None)
        with timed(f"{args.run_date} baseline lists ({model})"):
            write_output(
                baseline_lists(result, model, config.top_k),
                args.lake,
                args.run_date,
                OUT_BASELINE_RECOMMENDATIONS,
            )
    finally:
        if result is not None:
            result.release()
        parsed = urlparse(ckpt)
        if parsed.scheme in ("", "file"):
            shutil.rmtree(parsed.path, ignore_errors=True)


def holdout_ranker(spark, args, config: RecsConfig, customers, articles, transactions):
    """One ranker for the lists and the holdout, trained on labels before the holdout
    window (the holdout stays unseen, and it is fit once instead of twice); reused from
    the lake when a run of the last ``ranker_max_age_days`` kept one
    (:mod:`spark_jobs.recommend.ranker_store`), else trained and kept there."""
    from spark_jobs.recommend.ranker import fit_ranker
    from spark_jobs.recommend.ranker_store import load_ranker, save_ranker
    from spark_jobs.recommend.state import shift_date

    cut = shift_date(args.run_date, -args.holdout_days)
    with timed(f"{cut} ranker looked up in the lake"):
        ranker = load_ranker(spark, args.lake, cut, config)
    if ranker is not None:
        print(f"[recommend] ranker reused: {json.dumps(ranker.describe())}", file=sys.stderr)
        return ranker
    ranker = fit_ranker(customers, articles, transactions, cut, config, exclude_seen=False)
    with timed(f"{cut} ranker kept in the lake"):
        save_ranker(spark, args.lake, ranker, config)
    return ranker


BASELINES = ("popularity", "repurchase", "als")
# Tests only: a ranker that orders candidates worst first (the quality gate's test).
DEGRADE_ENV = "SHOPGUIDE_TEST_DEGRADED_RANKER"


def degraded_ranker(config: RecsConfig):
    """With ``SHOPGUIDE_TEST_DEGRADED_RANKER=1``: the fixed weights negated, so the
    hybrid lists the candidates it believes least in (a broken model for the gate's
    tests); otherwise None (the ranker is trained)."""
    if os.environ.get(DEGRADE_ENV, "") not in ("1", "true", "yes"):
        return None
    from spark_jobs.recommend.ranker import Ranker

    return Ranker(model=None, weights={f: -w for f, w in config.fallback_weights})


def best_baseline(metrics) -> str:
    """The single model with the best holdout MAP@K (ties: BASELINES order); popularity
    without holdout metrics."""
    if metrics is None or not len(metrics):
        return "popularity"
    scores = dict(zip(metrics["model"], metrics["map_at_k"], strict=True))
    ranked = [m for m in BASELINES if m in scores]
    if not ranked:
        return "popularity"
    return max(ranked, key=lambda m: (scores[m], -BASELINES.index(m)))


def baseline_lists(result, model: str, k: int):
    """Every customer's top ``k`` from ``model``, topped up with the popularity list where
    ``model`` has fewer (repurchase: only what the customer bought; ALS: customers with
    factors), so each list is as full as the hybrid's. ``model`` names each row's source."""
    popular = result.popularity.withColumn("model", F.lit("popularity"))
    if model == "popularity":
        return popular
    own = getattr(result, model)
    if own is None:
        return popular
    rows = (
        own.withColumn("model", F.lit(model))
        .withColumn("_p", F.lit(0))
        .unionByName(popular.withColumn("_p", F.lit(1)))
    )
    best = Window.partitionBy(CUSTOMER_ID, ARTICLE_ID).orderBy("_p", RANK)
    order = Window.partitionBy(CUSTOMER_ID).orderBy("_p", RANK, ARTICLE_ID)
    return (
        rows.withColumn("_b", F.row_number().over(best))
        .where(F.col("_b") == 1)
        .withColumn(RANK, F.row_number().over(order).cast("int"))
        .where(F.col(RANK) <= k)
        .select(*RECOMMENDATION_COLUMNS, "model")
    )


_METRICS_SCHEMA = (
    "model string, k long, precision_at_k double, recall_at_k double, map_at_k double, "
    "ndcg_at_k double, catalog_coverage double, novelty double, diversity double"
)


if __name__ == "__main__":
    main(sys.argv[1:])
