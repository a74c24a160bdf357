"""Spark job: the AI shopping guide's top-K recommendations for every customer.

Reads the lake inputs ``customers``, ``articles``, ``transactions`` of the run and
writes the outputs
- ``recommendations`` (customer_id, rank, article_id, score, reason): every customer,
  cold-start ones included;
- ``similar_articles`` (article_id, rank, similar_article_id, score);
- ``outfit_complements`` (article_id, rank, complement_article_id, score, support);
- with ``--evaluate``: ``model_metrics`` (model, k, precision_at_k, recall_at_k,
  map_at_k, ndcg_at_k, catalog_coverage, novelty, diversity) from holding out the
  last ``--holdout-days`` days.
Like every lake output, the rows carry no run_date: the path holds it and the loader
adds the column.
``--model baseline`` writes only the repurchase + segment popularity baseline.
"""

from __future__ import annotations

import shutil
import sys
from urllib.parse import urlparse

from spark_jobs.common import get_spark, job_arguments, read_input, write_output
from spark_jobs.recs_baseline import baseline_recommendations
from spark_jobs.recs_common import (
    OUT_MODEL_METRICS,
    OUT_OUTFIT_COMPLEMENTS,
    OUT_RECOMMENDATIONS,
    OUT_SIMILAR_ARTICLES,
    STEP_LOG,
    RecsConfig,
    timed,
)


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
        return

    from spark_jobs.recs_als import set_checkpoint_dir
    from spark_jobs.recs_evaluate import holdout_metrics
    from spark_jobs.recs_hybrid import fit_ranker, recommend, shift_date

    ckpt = checkpoint_dir(args.lake, args.run_date)
    set_checkpoint_dir(spark, ckpt)
    result = None
    try:
        ranker = None
        if args.evaluate:
            # One ranker for both runs, trained on labels before the holdout window: the
            # holdout stays unseen and the ranker is fit once instead of twice.
            cut = shift_date(args.run_date, -args.holdout_days)
            ranker = fit_ranker(customers, articles, transactions, cut, config, exclude_seen=False)
        result = recommend(customers, articles, transactions, args.run_date, config, ranker=ranker)
        with timed(f"{args.run_date} lists for every customer (candidates, ranking, write)"):
            write_output(result.hybrid, args.lake, args.run_date, OUT_RECOMMENDATIONS)
        write_output(result.similar_articles, args.lake, args.run_date, OUT_SIMILAR_ARTICLES)
        write_output(result.outfit_complements, args.lake, args.run_date, OUT_OUTFIT_COMPLEMENTS)
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
    finally:
        if result is not None:
            result.release()
        parsed = urlparse(ckpt)
        if parsed.scheme in ("", "file"):
            shutil.rmtree(parsed.path, ignore_errors=True)


_METRICS_SCHEMA = (
    "model string, k long, precision_at_k double, recall_at_k double, map_at_k double, "
    "ndcg_at_k double, catalog_coverage double, novelty double, diversity double"
)


if __name__ == "__main__":
    main(sys.argv[1:])
