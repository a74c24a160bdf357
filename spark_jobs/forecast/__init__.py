"""The Spark job ``forecast``: per-article daily demand forecast with a p10-p90 interval.

Reads the lake inputs ``daily_sales`` and ``articles`` of the run and writes
``demand_forecast`` (article_id, forecast_date, units_p10, units_p50, units_p90,
model) for forecast_date = run_date+1 … run_date+horizon and every sellable article;
with ``--backtest`` also ``forecast_metrics`` (run_date, level, model, horizon, wape,
mase, bias, interval_coverage).

How the forecast is made (details in the modules' comments):
1. The shop calendar: days on which the whole shop sold nothing are closed days
   (not zero demand); weekdays closed most weeks (e.g. Saturdays) are forecast 0.
2. Per article, in parallel (``groupBy("article_id").applyInPandas``): the open-day
   series at a grid of weekly origins, fifteen level estimators (means, robust weekly
   levels, buyer-based levels, Croston/SBA/TSB in ``estimators``), its demand class, the
   baselines, and the actual units after each origin.
3. On the driver, from those backtest rows pooled over articles: weights of the
   estimators (least absolute error, a weighted average; per demand class on
   request), which split the total over articles; the total itself from one robust
   estimator, the anchor, times what was sold per unit of it on the fit windows; and
   conformal interval multipliers per forecast size. Daily forecast = level x the
   weekday profile of the article's product type (shrunk to the department's and
   shop's). New articles: their early sales shrunk to their type's launch level.
4. With ``--backtest``: the same fit-and-forecast at rolling origins before the run
   date, scored against what was sold, per article, product type, department, shop.

The modules, each importing only those listed before it:
- ``estimators``: per-series models and metrics on numpy arrays (no Spark): baselines,
  level estimators, Croston/SBA/TSB, the pooled weights fit, intervals, WAPE/MASE/bias.
- ``config``: ``ForecastConfig``, the output schemas and the job's constants.
- ``series``: sales history, shop calendar, weekday profiles, the origins and the
  per-article feature rows (step 2, the parallel part).
- ``ensemble``: the pooled fit and the forecast at one origin (step 3).
- ``backtest``: baselines, backtest origins and their articles, ``forecast_metrics`` (step 4).
- ``run``: ``run_forecast``, the whole run; the seasonal-naive fallback model.
- ``job``: ``main``, the entry point ``shopguide.spark`` runs (spark-submit runs ``job.py``).

The transforms are pure ``DataFrame -> DataFrame`` functions; ``main`` only reads,
calls and writes. This package imports nothing itself, so ``estimators`` stays free of
Spark for the evaluation command.
"""
