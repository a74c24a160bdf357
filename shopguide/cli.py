"""``shopguide``: the command line. Every command calls the package's functions.

Failures exit non-zero with one line on stderr saying what went wrong.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date

from shopguide.settings import load_settings
from shopguide.sources.registry import SALES_SOURCE_NAMES, SOURCE_NAMES


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date in YYYY-MM-DD form") from exc


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="shopguide",
        description="The nightly AI shopping guide: ingest, model (dbt), validate (GX), "
        "learn (Spark), publish. Configuration comes from SHOPGUIDE_* environment variables "
        "(see README).",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every task's progress")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_generate(sub)
    _add_run_commands(sub)
    _add_customer_commands(sub)
    _add_report_commands(sub)
    _add_evaluate(sub)
    return parser


def _add_generate(sub) -> None:
    gen = sub.add_parser("generate", help="write a synthetic shop in the H&M Kaggle schema")
    gen.add_argument(
        "--out", required=True, help="directory for articles/customers/transactions.parquet"
    )
    gen.add_argument("--customers", type=int, default=3000)
    gen.add_argument("--articles", type=int, default=1500)
    gen.add_argument("--days", type=int, default=365, help="days of history ending at --end-date")
    gen.add_argument("--end-date", type=_date, default="2024-06-30")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--catalogue", help="reuse a real H&M articles.parquet as the catalogue")


def _add_run_commands(sub) -> None:
    """``run`` (one date) and ``backfill`` (a range of dates)."""
    run = sub.add_parser(
        "run", help="run the nightly pipeline's tasks for one date, outside the scheduler"
    )
    run.add_argument(
        "--date", required=True, type=_date, help="run date: the day whose data is processed"
    )
    run.add_argument(
        "--source", choices=SOURCE_NAMES, help="default: SHOPGUIDE_SOURCE or generated"
    )
    run.add_argument("--path", help="source files; default: SHOPGUIDE_SOURCE_PATH")
    run.add_argument(
        "--only", nargs="+", metavar="TASK", help="run only these tasks (in pipeline order)"
    )
    run.add_argument(
        "--accept-volume-change",
        action="store_true",
        help="publish although a table shrank beyond SHOPGUIDE_VOLUME_MAX_DROP (issue 16)",
    )

    back = sub.add_parser(
        "backfill", help="run the pipeline for every date in a range, oldest first"
    )
    back.add_argument("--from", dest="first", required=True, type=_date, help="first run date")
    back.add_argument(
        "--to", dest="last", required=True, type=_date, help="last run date (inclusive)"
    )
    back.add_argument(
        "--source", choices=SOURCE_NAMES, help="default: SHOPGUIDE_SOURCE or generated"
    )
    back.add_argument("--path", help="source files; default: SHOPGUIDE_SOURCE_PATH")


def _add_customer_commands(sub) -> None:
    """``forget``, ``export email`` and ``suppress``: what customers asked for or receive."""
    forget = sub.add_parser(
        "forget",
        help="remove a customer from raw, marts and every published table (and from later loads)",
    )
    forget.add_argument("customer_id", help="the customer's id as in the source files")

    exp = sub.add_parser("export", help="export a published list")
    exp_sub = exp.add_subparsers(dest="what", required=True, metavar="WHAT")
    email = exp_sub.add_parser(
        "email",
        help="the email send file: opted in now, not suppressed, control group in its own file",
    )
    email.add_argument("--date", type=_date, help="run date; default: the latest published run")
    email.add_argument(
        "--format",
        dest="fmt",
        choices=("long", "wide"),
        default="long",
        help="long: a row per recipient and item; wide: a row per recipient, item_1..item_N",
    )
    email.add_argument(
        "--out", required=True, help="file to write (.csv, or .parquet), or - for CSV on stdout"
    )

    supp = sub.add_parser(
        "suppress",
        help="never email these customers again (out of published.email_audience at once)",
    )
    supp.add_argument("customer_ids", nargs="+", metavar="CUSTOMER_ID")


def _add_report_commands(sub) -> None:
    """``report``, ``summary`` and ``fingerprint`` of a published run."""
    rep = sub.add_parser(
        "report",
        help="(re)build a run's HTML report (var/reports/runs/D/index.html); print its path",
    )
    rep.add_argument("--date", type=_date, help="default: the latest published run")

    summ = sub.add_parser(
        "summary", help="rows per published table for a run date, and where files are"
    )
    summ.add_argument("--date", type=_date, help="default: the latest published run")

    fp = sub.add_parser(
        "fingerprint",
        help="rows and a SHA-256 per published table for a run date (compare two runs or commits)",
    )
    fp.add_argument("--date", type=_date, help="default: the latest published run")


def _add_evaluate(sub) -> None:
    """``evaluate recs`` and ``evaluate forecast``: offline quality on real data."""
    ev = sub.add_parser("evaluate", help="offline evaluation of the models on real data")
    ev_sub = ev.add_subparsers(dest="what", required=True, metavar="WHAT")
    recs = ev_sub.add_parser("recs", help="recommendation quality vs baselines")
    recs.add_argument("--source", required=True, choices=SOURCE_NAMES)
    recs.add_argument("--path", required=True)
    recs.add_argument("--train-end", type=_date, help="first day of the test window (time split)")
    recs.add_argument("--test-days", type=int, default=7)
    recs.add_argument("--k", type=int, default=12)
    recs.add_argument("--split", choices=("time", "random-per-user"), default="time")
    recs.add_argument("--test-fraction", type=float, default=0.25)
    recs.add_argument("--seed", type=int, default=42)
    recs.add_argument("--exclude-seen", action="store_true", help="never recommend training items")
    recs.add_argument("--json", action="store_true", help="print one JSON object")
    fc = ev_sub.add_parser("forecast", help="demand forecast quality vs baselines")
    fc.add_argument("--source", required=True, choices=SALES_SOURCE_NAMES)
    fc.add_argument("--path", required=True)
    fc.add_argument(
        "--train-end",
        required=True,
        type=_date,
        help="last day of training data; the forecast starts the day after",
    )
    fc.add_argument("--horizon", type=int, default=28)
    fc.add_argument("--top", type=int, help="only the N articles with the most units in training")
    fc.add_argument("--json", action="store_true", help="print one JSON object")


def cmd_generate(args) -> int:
    from shopguide.generate import generate_shop

    paths = generate_shop(
        args.out,
        customers=args.customers,
        articles=args.articles,
        days=args.days,
        end_date=args.end_date.isoformat(),
        seed=args.seed,
        catalogue=args.catalogue,
    )
    for name, path in paths.items():
        print(f"{name}: {path}")
    return 0


def cmd_run(args) -> int:
    from shopguide.pipeline import STEPS
    from shopguide.spark import stop_local_session

    settings = load_settings(**_source_overrides(args))
    if getattr(args, "accept_volume_change", False):
        settings = settings.with_(accept_volume_change=True)
    names = [s.name for s in STEPS]
    if args.only:
        unknown = sorted(set(args.only) - set(names))
        if unknown:
            raise SystemExit(f"shopguide: unknown task(s) {unknown}; tasks are {names}")
        names = [n for n in names if n in args.only]
    try:
        _run_tasks(settings, args.date, names)
    finally:
        stop_local_session()
    if "publish" not in names:
        return 0
    code = cmd_summary(argparse.Namespace(date=args.date), settings)
    _print_report_path(settings, args.date)
    return code


def _run_tasks(
    settings, run_date: date, names: list[str], prefix: str = "", last_spark_work: bool = True
) -> None:
    """Run the tasks in order, printing each as it starts and ends with its duration, so
    a long run shows its progress. ``last_spark_work``: no Spark job follows these tasks
    in this process, so the in-process Spark JVM stops after the last of them that uses
    it (:func:`shopguide.spark.release_local_jvm`)."""
    import time

    from shopguide.orchestration import SPARK_TASKS
    from shopguide.run import run_task
    from shopguide.spark import release_local_jvm

    last_spark = max((i for i, n in enumerate(names, 1) if n in SPARK_TASKS), default=None)
    for i, name in enumerate(names, 1):
        print(f"{prefix}[{i}/{len(names)}] {name} ...", flush=True)
        started = time.perf_counter()
        result = run_task(name, run_date, settings)
        seconds = time.perf_counter() - started
        print(
            f"{prefix}[{i}/{len(names)}] {name} done in {seconds:.1f} s: "
            f"{json.dumps(result, default=str)[:200]}",
            flush=True,
        )
        if last_spark_work and i == last_spark and release_local_jvm():
            print(f"{prefix}(the Spark JVM is stopped: no Spark task follows)", flush=True)


def _print_report_path(settings, run_date: date) -> None:
    from shopguide.report import report_path

    path = report_path(settings, run_date)
    if path.exists():
        print(f"run report: {path}")


def cmd_report(args) -> int:
    from shopguide.published import latest_published_run
    from shopguide.report import build_report
    from shopguide.warehouse import open_warehouse

    settings = load_settings()
    run_date = args.date or latest_published_run(open_warehouse(settings))
    if run_date is None:
        raise RuntimeError("nothing is published yet: run `shopguide run --date D` first")
    print(build_report(settings, run_date))
    return 0


def cmd_fingerprint(args, settings=None) -> int:
    from shopguide.published import fingerprint, latest_published_run
    from shopguide.warehouse import open_warehouse

    settings = settings or load_settings()
    wh = open_warehouse(settings)
    run_date = args.date or latest_published_run(wh)
    if run_date is None:
        raise RuntimeError("nothing is published yet: run `shopguide run --date D` first")
    for table, (rows, digest) in fingerprint(wh, run_date).items():
        print(f"{table:<28} {rows:>9,} rows  sha256 {digest}")
    return 0


def _source_overrides(args) -> dict:
    overrides = {}
    if args.source:
        overrides["source"] = args.source
    if args.path:
        overrides["source_path"] = args.path
    return overrides


def cmd_backfill(args) -> int:
    from shopguide.pipeline import STEPS
    from shopguide.run import backfill_days
    from shopguide.spark import stop_local_session

    settings = load_settings(**_source_overrides(args))
    days = backfill_days(args.first, args.last)
    try:
        for i, day in enumerate(days, 1):
            print(f"backfill day {i}/{len(days)}: {day}", flush=True)
            _run_tasks(
                settings,
                day,
                [s.name for s in STEPS],
                prefix=f"  {day} ",
                last_spark_work=i == len(days),
            )
            print(f"published {day}", flush=True)
    finally:
        stop_local_session()
    if days:
        _print_report_path(settings, days[-1])
    return 0


def cmd_summary(args, settings=None) -> int:
    from shopguide.published import latest_published_run
    from shopguide.schema import PUBLISHED_SCHEMA, PUBLISHED_TABLES
    from shopguide.warehouse import open_warehouse, qualified

    settings = settings or load_settings()
    wh = open_warehouse(settings)
    run_date = args.date or latest_published_run(wh)
    if run_date is None:
        raise RuntimeError(
            "nothing is published yet: run `make demo` or `shopguide run --date D` first"
        )
    print(f"\nshopguide run {run_date} — published tables ({settings.warehouse_kind}):")
    for table in [*PUBLISHED_TABLES, "pipeline_runs"]:
        rows = 0
        if wh.table_exists(PUBLISHED_SCHEMA, table):
            rows = wh.scalar(
                f"SELECT count(*) FROM {qualified(PUBLISHED_SCHEMA, table)} WHERE run_date = CAST({wh.param} AS DATE)",
                [run_date],
            )
        print(f"  {PUBLISHED_SCHEMA}.{table:<26} {int(rows):>9,} rows")
    _print_run_figures(wh, run_date)
    where = (
        settings.duckdb_path
        if settings.warehouse_kind == "duckdb"
        else settings.warehouse_url.split("@")[-1]
    )
    print(f"warehouse:  {where}")
    print(f"lake:       {settings.lake}/run_date={run_date}")
    print(f"data docs:  {settings.reports_dir / 'data_docs' / 'index.html'}")
    from shopguide.dbt_runner import docs_dir

    if settings.warehouse_kind == "duckdb":
        from shopguide.published import bi_file_path

        print(f"BI file:    {bi_file_path(settings)} (read-only copy of published.*, for BI tools)")
    print(f"dbt docs:   {docs_dir(settings) / 'index.html'}")
    print(
        f"exports:    {settings.home / 'exports'} (shopguide export email --format wide --out FILE)"
    )
    return 0


def _print_run_figures(wh, run_date: date) -> None:
    """The run's task timings and its own quality figures, as published: what
    README quotes from `make demo` (the nightly holdout and the forecast backtest)."""
    import json

    from shopguide.schema import PUBLISHED_SCHEMA
    from shopguide.warehouse import qualified

    def rows(table: str, sql: str):
        if not wh.table_exists(PUBLISHED_SCHEMA, table):
            return []
        return wh.query_df(sql.format(t=qualified(PUBLISHED_SCHEMA, table), p=wh.param), [run_date])

    runs = rows(
        "pipeline_runs",
        "SELECT duration_seconds, task_durations, message FROM {t} "
        "WHERE run_date = CAST({p} AS DATE) AND status = 'success' ORDER BY finished_at DESC",
    )
    if len(runs):
        run = runs.iloc[0]
        tasks = json.loads(run["task_durations"] or "{}")
        print(
            f"task seconds ({float(run['duration_seconds']):.0f} s from the first task to publish):"
        )
        print("  " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in tasks.items()))
        if run["message"] and run["message"] != "published":
            print(f"publish: {run['message']}")
    metrics = rows(
        "model_metrics",
        "SELECT model, k, map_at_k, ndcg_at_k FROM {t} WHERE run_date = CAST({p} AS DATE) "
        "ORDER BY map_at_k DESC",
    )
    if len(metrics):
        k = int(metrics["k"].iloc[0])
        print(f"nightly holdout, last 7 days (MAP@{k} / nDCG@{k}):")
        print(
            "  "
            + ", ".join(
                f"{m.model} {m.map_at_k:.4f} / {m.ndcg_at_k:.4f}" for m in metrics.itertuples()
            )
        )
    backtest = rows(
        "forecast_metrics",
        "SELECT level, model, wape, mase, bias, interval_coverage FROM {t} "
        "WHERE run_date = CAST({p} AS DATE) ORDER BY level, wape",
    )
    if len(backtest):
        print("forecast backtest (WAPE / MASE / bias / p10-p90 coverage):")
        for b in backtest.itertuples():
            coverage = (
                "n/a"
                if b.interval_coverage != b.interval_coverage
                else f"{b.interval_coverage:.3f}"
            )
            print(
                f"  {b.level:<14} {b.model:<16} {b.wape:.3f} / {b.mase:.3f} / "
                f"{b.bias:+.3f} / {coverage}"
            )


def cmd_forget(args) -> int:
    from shopguide.privacy import forget_customer

    removed = forget_customer(load_settings(), args.customer_id)
    if not removed:
        print("no rows held this customer; later loads will drop them all the same")
    for where, rows in removed.items():
        print(
            f"{where}: {rows} {'partitions deleted' if where.startswith('lake') else 'copy' if where.startswith('BI') else 'rows removed'}"
        )
    return 0


def cmd_export(args) -> int:
    from shopguide.export import export_email

    result = export_email(load_settings(), args.date, args.out, args.fmt)
    # stdout may be the file itself (--out -): the report goes to stderr then.
    report = sys.stderr if args.out == "-" else sys.stdout
    print(
        f"wrote {result.send_rows} rows ({result.recipients} recipients, {args.fmt}) of the "
        f"{result.run_date} email list to {args.out}",
        file=report,
    )
    if result.control_file:
        print(
            f"control group ({result.control_recipients} customers, not to be sent): "
            f"{result.control_file}",
            file=report,
        )
    return 0


def cmd_suppress(args) -> int:
    from shopguide.consent import suppress

    added = suppress(load_settings(), args.customer_ids)
    print(
        f"suppressed {added} new customer(s) ({len(args.customer_ids) - added} already were); "
        "they are out of published.email_audience now and of every later list"
    )
    return 0


def cmd_evaluate(args) -> int:
    if args.what == "recs":
        from shopguide.evaluation import evaluate_recs as evaluate
    else:
        from shopguide.evaluate_forecast import evaluate_forecast as evaluate
    try:
        result = evaluate(args)
    finally:
        from shopguide.spark import stop_local_session

        stop_local_session()
    if args.json:
        print(json.dumps(result))
    else:
        print(json.dumps(result, indent=2))
    return 0


COMMANDS = {
    "generate": cmd_generate,
    "run": cmd_run,
    "backfill": cmd_backfill,
    "export": cmd_export,
    "forget": cmd_forget,
    "suppress": cmd_suppress,
    "summary": cmd_summary,
    "report": cmd_report,
    "fingerprint": cmd_fingerprint,
    "evaluate": cmd_evaluate,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if not args.verbose:
        # The CLI prints a failed task's reason itself, as its one line.
        for name in ("shopguide.pipeline", "shopguide.alerts"):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    try:
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("shopguide: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one line for the user; -v shows the traceback
        if args.verbose:
            logging.exception("shopguide %s failed", args.command)
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"shopguide: error: {first}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
