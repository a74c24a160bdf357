"""Spark job ``forecast``: the entry point (``spark-submit spark_jobs/forecast/job.py`` or
``shopguide.spark`` in-process). What it computes: the package docstring."""

from __future__ import annotations

import sys

from spark_jobs.common import get_spark, job_arguments, read_input, write_output
from spark_jobs.forecast.config import ForecastConfig
from spark_jobs.forecast.run import run_forecast, seasonal_naive_forecast
from spark_jobs.forecast.timing import STEP_LOG, timed


def _options(parser) -> None:
    parser.add_argument(
        "--horizon", type=int, default=28, help="days to forecast after the run date"
    )
    parser.add_argument(
        "--backtest", nargs="?", type=int, const=3, default=0, metavar="ORIGINS",
        help="also score a rolling-origin backtest (default 3 origins) into outputs/forecast_metrics",
    )  # fmt: skip
    parser.add_argument(
        "--model", choices=("shopguide", "seasonal_naive"), default="shopguide",
        help="shopguide ensemble (default) or the seasonal-naive baseline",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = job_arguments("Per-article demand forecast with p10/p50/p90.", argv, _options)
    if args.backtest and args.backtest < 3:
        raise SystemExit(
            f"--backtest needs at least 3 origins for a rolling-origin backtest, got {args.backtest}"
        )
    STEP_LOG.clear()  # this run's steps only, in a process that runs the job again
    spark = get_spark("shopguide-forecast")
    daily_sales = read_input(spark, args.lake, args.run_date, "daily_sales")
    articles = read_input(spark, args.lake, args.run_date, "articles")
    if args.model == "seasonal_naive":
        write_output(
            seasonal_naive_forecast(daily_sales, articles, args.run_date, args.horizon),
            args.lake,
            args.run_date,
            "demand_forecast",
        )
        return
    config = ForecastConfig(horizon=args.horizon, backtest_origins=args.backtest)
    result = run_forecast(daily_sales, articles, args.run_date, config)
    with timed("demand_forecast written"):
        write_output(result.forecast, args.lake, args.run_date, "demand_forecast")
    if result.metrics is not None:
        with timed("forecast_metrics written"):
            write_output(result.metrics, args.lake, args.run_date, "forecast_metrics")


if __name__ == "__main__":
    main(sys.argv[1:])
