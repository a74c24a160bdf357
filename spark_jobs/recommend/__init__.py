"""The recommender job (``recommend``): top-K lists for every customer, similar articles,
outfit complements and holdout metrics.

- ``job``: the Spark job's entry point (options, outputs, baseline lists for the gate);
- ``columns``, ``config``, ``timing``, ``buckets``: column names, :class:`RecsConfig`,
  the step log, customer buckets and hash draws;
- ``asof``: the shop as known at a cut; ``state``: the model state as of a date;
- ``candidates``: the candidate sources (ALS, item-to-item EASE, content, outfit
  complements, popularity, repurchase); ``topk``: blocked top-K scoring;
- ``features``: candidate features; ``ranker``: the learned ranker; ``lists``: ranked
  lists, reasons and :func:`~spark_jobs.recommend.lists.recommend_as_of`, the whole recommender;
- ``baseline``: the repurchase + popularity baseline; ``holdout`` and ``metrics``: the
  holdout evaluation and its ranking metrics.
"""
