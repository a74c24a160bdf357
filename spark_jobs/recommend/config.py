"""The recommender's tunable settings (:class:`RecsConfig`)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass(frozen=True)
class RecsConfig:
    """Tunable settings of the recommender. Only some defaults were searched on validation
    splits (benchmarks/results.md: EASE's ``itemitem_l2`` on MovieLens; the MovieLens ALS
    search sets ``SOURCE_PROFILES`` in shopguide/evaluation.py, not these defaults); the
    others were set by hand and are not tuned."""

    top_k: int = 12
    # Popularity: purchases decay with this half-life (days before the run date).
    popularity_half_life_days: float = 7.0
    # A segment (or age band) needs this many distinct buyers to get its own list;
    # smaller groups back off to age band, then to the whole shop.
    min_group_buyers: int = 30
    # Repurchase: how fast old purchases lose weight.
    repurchase_half_life_days: float = 30.0
    # Implicit ALS (spark.ml): confidence = 1 + alpha * interaction weight.
    als_rank: int = 64
    als_reg_param: float = 0.1
    als_alpha: float = 10.0
    als_max_iter: int = 10
    # Checkpoint the factors every this many iterations. Each checkpoint writes both
    # factor RDDs to the lake, so one cut of the lineage per default fit (10 iterations)
    # costs less than two; the results do not depend on it. Spark counts iterations from
    # 1, so the default fit checkpoints after its last one: that is not wasted. Without
    # it the final factors carry every iteration's lineage, and a later task using them
    # overflowed its stack (StackOverflowError in the e2e test shop's recommend, quick
    # JIT compiler; 66826e3 dropped that checkpoint and was reverted).
    als_checkpoint_interval: int = 10
    # ALS candidates per customer handed to the ranker.
    als_candidates: int = 50
    # Item-to-item EASE: the most bought articles it covers (an n x n matrix is inverted
    # on the driver), its L2 penalty, and its candidates per customer.
    itemitem_max_articles: int = 4000
    itemitem_l2: float = 500.0
    itemitem_candidates: int = 50
    seed: int = 42
    # Content: hashed text features, the articles content scoring considers.
    content_text_features: int = 256
    content_pool_size: int = 20000
    content_candidates: int = 20
    similar_top_n: int = 12
    similar_same_index_group: bool = True
    # Complete the look: basket = one customer's purchases within basket_days.
    basket_days: int = 3
    max_basket_articles: int = 40
    complement_min_support: int = 2
    complement_shrinkage: float = 5.0
    complement_top_n: int = 12
    # Same rules as the dbt marts, for cuts the recommender makes itself.
    interaction_half_life_days: float = 30.0
    new_article_days: int = 28
    sellable_days: int = 90
    # Candidates per customer from each source.
    recent_articles: int = 5
    popular_candidates: int = 24
    trending_candidates: int = 12
    # Below this repeat share the shop's customers do not repeat and already bought
    # articles are left out of the lists. Measured on the ranker's validation window
    # (share of its purchases re-buying an article bought before it); without one, on
    # the history (share of purchase-days re-buying an article).
    min_repeat_rate: float = 0.01
    # Business rule: at most this many articles of one product type in a list.
    max_per_product_type: int = 6
    # Ranker: validation window (days at the end of the training data) and training.
    ranker_val_days: int = 7
    # Random splits: the share of each customer's purchases that labels the ranker. A
    # small share keeps the models behind the features close to the final ones (on the
    # MovieLens validation split 0.1 beat 0.25: benchmarks/results.md).
    ranker_val_fraction: float = 0.1
    ranker_max_customers: int = 50000
    ranker_min_positives: int = 20
    ranker_negatives_per_positive: float = 20.0
    ranker_reg_param: float = 0.001
    ranker_max_iter: int = 30
    # The nightly run (with its holdout) reuses a ranker kept in the lake when a run of
    # the last ranker_max_age_days trained it on labels before this run's holdout
    # (spark_jobs.recommend.ranker_store); 0 retrains every night.
    ranker_max_age_days: int = 7
    # Linear weights used when there is too little data to train the ranker.
    fallback_weights: tuple = (
        ("f_rep_w", 2.0),
        ("f_rep_days", 1.0),
        ("f_als", 1.0),
        ("f_itemitem", 1.0),
        ("f_pop", 1.0),
        ("f_pop_global", 0.5),
        ("f_similar", 0.5),
        ("f_complement", 0.3),
        ("f_content", 0.3),
        ("f_trend", 0.2),
    )

    def replace(self, **changes) -> RecsConfig:
        known = {f.name for f in fields(self)}
        unknown = set(changes) - known
        if unknown:
            raise ValueError(
                f"unknown recommender settings {sorted(unknown)}; known: {sorted(known)}"
            )
        return RecsConfig(**{**asdict(self), **changes})
