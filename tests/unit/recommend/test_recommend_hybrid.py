"""The hybrid recommender end to end on a tiny synthetic shop (two taste groups)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest

from spark_jobs.recommend.config import RecsConfig
from spark_jobs.recommend.timing import STEP_LOG

RUN_DATE = "2024-03-31"


def tiny_shop(seed: int = 7):
    """40 customers in two taste groups (ladies' dresses+bags vs men's shirts+shoes),
    32 articles, 28 days of purchases; c_new never bought; article L_new never sold."""
    rng = np.random.default_rng(seed)
    arts = []
    for i in range(8):
        arts.append(
            (
                f"Ld{i}",
                f"Summer dress {i}",
                "Dress",
                "Garment Full body",
                "Ladieswear",
                "Black" if i % 2 else "Red",
                "floral cotton dress",
            )
        )
        arts.append(
            (
                f"Lb{i}",
                f"Leather bag {i}",
                "Bag",
                "Accessories",
                "Ladieswear",
                "Brown",
                "leather shoulder bag",
            )
        )
        arts.append(
            (
                f"Ms{i}",
                f"Oxford shirt {i}",
                "Shirt",
                "Garment Upper body",
                "Menswear",
                "Blue",
                "cotton oxford shirt",
            )
        )
        arts.append(
            (
                f"Mf{i}",
                f"Runner shoe {i}",
                "Sneakers",
                "Shoes",
                "Menswear",
                "White",
                "running shoe mesh",
            )
        )
    arts.append(
        (
            "L_new",
            "Summer dress new",
            "Dress",
            "Garment Full body",
            "Ladieswear",
            "Red",
            "floral cotton dress",
        )
    )
    articles = pd.DataFrame(
        arts,
        columns=[
            "article_id",
            "prod_name",
            "product_type_name",
            "product_group_name",
            "index_group_name",
            "colour_group_name",
            "detail_desc",
        ],
    )
    for c in ("graphical_appearance_name", "department_name", "garment_group_name"):
        articles[c] = "x"
    articles["is_sellable"] = True
    articles["units_28d"] = 1
    # Listed with the first load; the never-sold dress two days before the run date.
    articles["first_seen_date"] = dt.date(2024, 3, 4)
    articles.loc[articles.article_id == "L_new", "first_seen_date"] = dt.date(2024, 3, 29)
    rows = []
    start = dt.date(2024, 3, 4)
    for c in range(40):
        lady = c < 20
        pref = ["Ld", "Lb"] if lady else ["Ms", "Mf"]
        for _ in range(rng.integers(3, 7)):
            day = start + dt.timedelta(days=int(rng.integers(0, 28)))
            a = f"{pref[int(rng.integers(0, 2))]}{int(rng.integers(0, 8))}"
            rows.append((day, f"c{c}", a, 10.0, 2, 1))
            if rng.random() < 0.5:  # complete the look in the same basket
                rows.append((day, f"c{c}", f"{pref[1]}{int(rng.integers(0, 8))}", 5.0, 2, 1))
    transactions = pd.DataFrame(
        rows,
        columns=[
            "purchase_date",
            "customer_id",
            "article_id",
            "price",
            "sales_channel_id",
            "quantity",
        ],
    )
    custs = [
        (
            f"c{c}",
            "20-29" if c < 20 else "30-39",
            ("20-29|Ladieswear" if c < 20 else "30-39|Menswear"),
        )
        for c in range(40)
    ]
    custs.append(("c_new", "20-29", "20-29|any"))
    customers = pd.DataFrame(custs, columns=["customer_id", "age_band", "segment"])
    customers["region"] = "north"
    return customers, articles, transactions


CONFIG = RecsConfig(
    top_k=4,
    min_group_buyers=5,
    als_rank=4,
    als_max_iter=5,
    als_candidates=10,
    content_text_features=32,
    similar_top_n=3,
    complement_top_n=3,
    ranker_min_positives=3,
    max_per_product_type=3,
)


@pytest.fixture(scope="module")
def frames(spark):
    customers, articles, transactions = tiny_shop()
    return (
        spark.createDataFrame(customers),
        spark.createDataFrame(articles),
        spark.createDataFrame(transactions),
    )


def test_hybrid_lists_every_customer_with_rules_and_reasons(spark, frames, tmp_path):
    from spark_jobs.recommend.candidates.als import set_checkpoint_dir
    from spark_jobs.recommend.lists import recommend_as_of
    from spark_jobs.recommend.ranker import fallback_ranker

    set_checkpoint_dir(spark, str(tmp_path / "ckpt"))
    customers, articles, transactions = frames
    # Fixed-weight ranker: one model fit instead of two keeps this test quick; the
    # learned ranker is covered by the slow end-to-end test below.
    result = recommend_as_of(
        customers, articles, transactions, RUN_DATE, CONFIG, ranker=fallback_ranker(CONFIG)
    )
    read = {
        "recommendations": result.hybrid,
        "similar_articles": result.similar_articles,
        "outfit_complements": result.outfit_complements,
    }.__getitem__
    recs = read("recommendations").toPandas()
    assert set(recs.customer_id) == {f"c{c}" for c in range(40)} | {"c_new"}
    assert (recs.groupby("customer_id").size() == 4).all()
    assert recs.groupby("customer_id")["rank"].apply(lambda r: sorted(r) == [1, 2, 3, 4]).all()
    arts = articles.toPandas().set_index("article_id")
    # At most 3 of a product type per list.
    assert (
        recs.assign(t=recs.article_id.map(arts.product_type_name))
        .groupby(["customer_id", "t"])
        .size()
        .max()
        <= 3
    )
    # Taste groups stay apart: ladies get ladies' articles.
    ladies = recs[recs.customer_id.isin([f"c{c}" for c in range(20)])]
    assert ladies.article_id.str.startswith("L").mean() > 0.9
    assert (recs.reason.str.len() > 0).all()
    sim = read("similar_articles").toPandas()
    # Similar articles stay within the index group and never list the article itself.
    assert (
        sim.article_id.map(arts.index_group_name)
        == sim.similar_article_id.map(arts.index_group_name)
    ).all()
    assert (sim.article_id != sim.similar_article_id).all()
    # The never-sold dress reaches the similar list of other dresses (content cold start).
    assert sim[sim.article_id == "L_new"].similar_article_id.str.startswith("Ld").all()
    comp = read("outfit_complements").toPandas()
    pg = arts.product_group_name
    assert (comp.article_id.map(pg) != comp.complement_article_id.map(pg)).all()
    assert (
        comp[comp.article_id.str.startswith("Ld")].complement_article_id.str.startswith("Lb").all()
    )


@pytest.mark.slow
def test_main_writes_all_outputs(spark, frames, tmp_path, monkeypatch):
    from spark_jobs.common import input_path, output_path
    from spark_jobs.recommend import job

    customers, articles, transactions = frames
    lake = str(tmp_path / "lake")
    for name, df in {
        "customers": customers,
        "articles": articles,
        "transactions": transactions,
    }.items():
        df.write.parquet(input_path(lake, RUN_DATE, name))
    tiny = dataclasses.make_dataclass(
        "TinyConfig",
        [
            (f.name, f.type, dataclasses.field(default=getattr(CONFIG, f.name)))
            for f in dataclasses.fields(CONFIG)
        ],
        bases=(RecsConfig,),
        frozen=True,
    )
    monkeypatch.setattr(job, "RecsConfig", tiny)
    STEP_LOG.append(("an earlier run's step", 1.0))
    job.main(["--lake", lake, "--run-date", RUN_DATE, "--top-k", "4", "--evaluate"])
    steps = [step for step, _ in STEP_LOG]
    # the step log holds this run's steps only, the holdout last
    assert "an earlier run's step" not in steps
    assert f"{RUN_DATE} ALS fit" in steps
    assert any(step.startswith(f"{RUN_DATE} holdout of") for step in steps)
    assert steps[-1].startswith(f"{RUN_DATE} baseline lists")
    read = lambda n: spark.read.parquet(output_path(lake, RUN_DATE, n))  # noqa: E731
    assert read("recommendations").columns == [
        "customer_id",
        "rank",
        "article_id",
        "score",
        "reason",
    ]
    assert read("recommendations").select("customer_id").distinct().count() == 41
    assert read("similar_articles").columns == ["article_id", "rank", "similar_article_id", "score"]
    assert read("outfit_complements").columns == [
        "article_id",
        "rank",
        "complement_article_id",
        "score",
        "support",
    ]
    metrics = read("model_metrics").toPandas()
    assert sorted(metrics.model) == ["als", "hybrid", "popularity", "repurchase"]
    assert ((metrics.map_at_k >= 0) & (metrics.map_at_k <= 1)).all()
    # The best single model's lists, for the same customers, say which model they are.
    best = metrics[metrics.model != "hybrid"].sort_values("map_at_k").model.iloc[-1]
    baseline = read("baseline_recommendations").toPandas()
    assert list(baseline.columns) == [*read("recommendations").columns, "model"]
    assert baseline.customer_id.nunique() == 41
    assert set(baseline.model) <= {best, "popularity"} and best in set(baseline.model)


def test_validation_repeat_share_counts_rebuys_of_customers_with_history(spark):
    from spark_jobs.recommend.ranker import validation_repeat_share

    schema = "purchase_date date, customer_id string, article_id string"
    d1, d2 = dt.date(2024, 3, 1), dt.date(2024, 3, 8)
    fit = spark.createDataFrame(
        [(d1, "c1", "a1"), (d1, "c1", "a2"), (d1, "c2", "a3"), (d1, None, "a4")], schema
    )
    label = spark.createDataFrame(
        [
            (d2, "c1", "a1"),  # re-buy
            (d2, "c1", "a1"),  # same pair twice: counted once
            (d2, "c1", "a5"),  # new article
            (d2, "c2", "a4"),  # only an anonymous sale of a4 before: not a re-buy
            (d2, "c3", "a1"),  # no history: not counted
        ],
        schema,
    )
    assert validation_repeat_share(fit, label) == pytest.approx(1 / 3)
    assert validation_repeat_share(fit, label.where("customer_id = 'c3'")) is None


def test_repeats_follow_the_validation_window_not_the_history(spark):
    from types import SimpleNamespace

    from spark_jobs.recommend.ranker import Ranker

    config = RecsConfig(min_repeat_rate=0.01)
    rare_in_history = SimpleNamespace(repeat_rate=0.005)
    common_in_history = SimpleNamespace(repeat_rate=0.2)
    assert Ranker(None, {}, repeat_share=0.05).allows_repeats(rare_in_history, config)
    assert not Ranker(None, {}, repeat_share=0.0).allows_repeats(common_in_history, config)
    # No validation window: the history decides.
    assert not Ranker(None, {}).allows_repeats(rare_in_history, config)
    assert Ranker(None, {}).allows_repeats(common_in_history, config)


def test_bought_articles_stay_candidates_unless_dropped(spark, frames, tmp_path):
    from spark_jobs.recommend.candidates.als import set_checkpoint_dir
    from spark_jobs.recommend.features import candidate_features
    from spark_jobs.recommend.state import build_state

    set_checkpoint_dir(spark, str(tmp_path / "ckpt"))
    customers, articles, transactions = frames
    config = dataclasses.replace(CONFIG, als_max_iter=2)
    state = build_state(customers, articles, transactions, RUN_DATE, config)
    try:
        who = customers.where("customer_id in ('c0', 'c25')")
        bought = {
            (r.customer_id, r.article_id)
            for r in transactions.join(who, "customer_id", "left_semi").collect()
        }
        feats = candidate_features(state, who, config, exclude_seen=False)
        # Every source's candidates are shuffled once, into buckets of whole customers:
        # the first shuffle below the bucket pass (the plan prints the candidates' side
        # first) is that repartition, and nothing else repartitions them.
        plan = feats._jdf.queryExecution().executedPlan().toString()
        shuffles = [
            line.split("Exchange ", 1)[1]
            for line in plan.splitlines()
            if "Exchange " in line and "BroadcastExchange" not in line
        ]
        # (one bucket for these two customers: a repartition to a single partition)
        first = shuffles[0]
        assert "REPARTITION_BY_NUM" in first, plan
        assert first.startswith(("hashpartitioning(_bucket", "SinglePartition")), plan
        assert sum("REPARTITION_BY_NUM" in shuffle for shuffle in shuffles) == 1, plan
        kept = feats.toPandas()
        pairs = set(zip(kept.customer_id, kept.article_id, strict=True))
        assert bought <= pairs
        assert (kept[kept.is_repurchase == 1].f_rep_n > 0).all()
        # The ALS score of every candidate, filled in the bucket pass.
        users = state.als.customers.toPandas().set_index("customer_id")["vector"]
        items = state.als.articles.toPandas().set_index("article_id")["vector"]
        want = [
            float(np.dot(np.asarray(users[c], float), np.asarray(items[a], float)))
            if c in users.index and a in items.index
            else 0.0
            for c, a in zip(kept.customer_id, kept.article_id, strict=True)
        ]
        np.testing.assert_allclose(kept.f_als, want, rtol=1e-9, atol=1e-12)
        assert (kept.f_als != 0).any()
        dropped = candidate_features(state, who, config, False, drop_bought=True).toPandas()
        assert not bought & set(zip(dropped.customer_id, dropped.article_id, strict=True))
        assert len(dropped) > 0
    finally:
        state.release()


def test_customer_profiles_are_normalized_weighted_means_across_buckets(spark):
    from spark_jobs.recommend.candidates.content import customer_profiles

    rng = np.random.default_rng(11)
    vecs = rng.normal(size=(6, 4)).astype(np.float32)
    vectors = spark.createDataFrame(
        [(f"a{i}", vecs[i].tolist()) for i in range(6)], "article_id string, vector array<float>"
    )
    bought = [
        (f"c{c}", f"a{a}", float(rng.random() + 0.1)) for c in range(30) for a in range(c % 6 + 1)
    ]
    bought.append(("ghost", "a404", 1.0))  # an article without a vector: no profile
    weighted = spark.createDataFrame(bought, "customer_id string, article_id string, w double")
    # Several customers per bucket and several buckets.
    got = customer_profiles(weighted, vectors, rows_per_bucket=7).toPandas()
    assert sorted(got["customer_id"]) == sorted({c for c, _, _ in bought if c != "ghost"})
    for row in got.itertuples():
        mine = [(int(a[1:]), w) for c, a, w in bought if c == row.customer_id]
        mean = sum(w * vecs[a] for a, w in mine) / sum(w for _, w in mine)
        np.testing.assert_allclose(row.vector, mean / np.linalg.norm(mean), rtol=1e-5, atol=1e-6)


def test_customer_buckets_keep_given_buckets_and_need_rows_otherwise(spark):
    from spark_jobs.recommend.buckets import BUCKET, customer_bucket, customer_buckets

    rows = [(f"c{c}", a) for c in range(20) for a in range(c % 4 + 1)]
    df = spark.createDataFrame(rows, "customer_id string, a long")

    def per_bucket(pdf):
        # One output row per customer: how many of its rows this call saw.
        return pdf.groupby("customer_id", as_index=False).agg(n=("a", "size"))

    schema = "customer_id string, n long"
    with pytest.raises(ValueError, match="rows is required"):
        customer_buckets(df, per_bucket, schema)
    expected = {f"c{c}": c % 4 + 1 for c in range(20)}
    for frame, rows_arg in ((df, 7), (df.withColumn(BUCKET, customer_bucket(3)), None)):
        got = customer_buckets(frame, per_bucket, schema, rows=rows_arg, rows_per_bucket=2)
        pdf = got.toPandas()
        # Whole customers per call: each customer once, with all of its rows.
        assert dict(zip(pdf["customer_id"], pdf["n"], strict=True)) == expected
        assert len(pdf) == 20


def test_positions_match_a_window_row_number():
    from spark_jobs.recommend.features import positions

    rng = np.random.default_rng(2)
    groups = rng.integers(0, 7, 300)
    value = rng.integers(0, 5, 300).astype(float)  # many ties
    tie = rng.permutation(300)
    got = positions(groups, value, tie)
    frame = pd.DataFrame({"g": groups, "v": value, "t": tie})
    frame = frame.sort_values(["g", "v", "t"], ascending=[True, False, True])
    frame["want"] = frame.groupby("g").cumcount()
    np.testing.assert_array_equal(got, frame.sort_index()["want"].to_numpy())


def test_ranked_lists_apply_score_type_cap_and_top_k_and_explain(spark):
    """The bucketed pass against a plain pandas reference of the same rules."""
    from pyspark.sql import functions as F

    from spark_jobs.recommend.features import FEATURES, SOURCES
    from spark_jobs.recommend.lists import ranked_lists
    from spark_jobs.recommend.ranker import Ranker

    rng = np.random.default_rng(4)
    n_articles = 60
    articles = spark.createDataFrame(
        pd.DataFrame(
            {
                "article_id": [f"a{a:02d}" for a in range(n_articles)],
                "prod_name": [f"Name {a}" for a in range(n_articles)],
                "product_type_name": [f"t{a % 4}" for a in range(n_articles)],
            }
        )
    ).withColumn("_h", F.xxhash64("article_id"))
    hashes = dict(articles.select("article_id", "_h").toPandas().itertuples(index=False))
    articles = articles.drop("_h")
    rows = []
    for c in range(40):
        for a in rng.choice(n_articles, size=25, replace=False):
            feats = dict(zip(FEATURES, rng.random(len(FEATURES)).round(2), strict=True))
            for s in SOURCES:  # about three sources per candidate
                feats[f"is_{s}"] = float(rng.random() < 0.35)
            src = f"a{rng.integers(n_articles):02d}"
            rows.append(
                {
                    "customer_id": f"c{c:02d}",
                    "article_id": f"a{a:02d}",
                    "r_similar": hashes[src],
                    "r_complement": hashes[src],
                    "r_popular": int(rng.random() < 0.5),
                    "_src": src,
                    **feats,
                }
            )
    base = pd.DataFrame(rows).drop(
        columns=["f_als_rank", "f_itemitem_rank", "f_pop_rank", "f_rep_rank"]
    )
    weights = {f: float(w) for f, w in zip(FEATURES, rng.normal(size=len(FEATURES)), strict=True)}
    config = RecsConfig().replace(top_k=5, max_per_product_type=2)
    got = ranked_lists(
        spark.createDataFrame(base.drop(columns="_src")),
        Ranker(model=None, weights=weights),
        articles,
        config,
        rows=13,  # several buckets
        als=None,  # f_als as given
    ).toPandas()

    ref = base.copy()
    for name, col in (
        ("f_als_rank", "f_als"),
        ("f_itemitem_rank", "f_itemitem"),
        ("f_pop_rank", "f_pop_global"),
        ("f_rep_rank", "f_rep_w"),
    ):
        ordered = ref.sort_values(["customer_id", col, "article_id"], ascending=[True, False, True])
        ref[name] = 1.0 / np.log2(ordered.groupby("customer_id").cumcount() + 2.0)
    ref["f_rep_rank"] *= ref["is_repurchase"]
    ref["f_itemitem_rank"] *= ref["is_itemitem"]
    ref["score"] = sum(ref[f] * w for f, w in weights.items())
    ref["product_type_name"] = "t" + (ref["article_id"].str[1:].astype(int) % 4).astype(str)
    ref = ref.sort_values(["customer_id", "score", "article_id"], ascending=[True, False, True])
    ref = ref[ref.groupby(["customer_id", "product_type_name"]).cumcount() < 2]
    ref["rank"] = ref.groupby("customer_id").cumcount() + 1
    ref = ref[ref["rank"] <= 5].copy()

    def explain(row) -> str:
        for s in SOURCES:
            if row[f"is_{s}"] > 0:
                return {
                    "repurchase": "you bought this before",
                    "complement": f"completes the look with Name {int(row['_src'][1:])}",
                    "similar": f"similar to Name {int(row['_src'][1:])}",
                    "itemitem": "bought together with what you bought",
                    "als": "customers with your taste bought this",
                    "content": "matches your style",
                    "trending": "trending now",
                    "popular": "popular in the shop right now"
                    if row["r_popular"] == 1
                    else "popular with customers like you",
                }[s]
        return "popular with customers like you"

    ref["reason"] = ref.apply(explain, axis=1)
    key = ["customer_id", "rank"]
    got = got.sort_values(key).reset_index(drop=True)
    ref = ref.sort_values(key).reset_index(drop=True)
    assert len(got) == 40 * 5
    assert ref["reason"].nunique() >= 8  # every kind of reason was exercised
    pd.testing.assert_frame_equal(
        got[["customer_id", "rank", "article_id", "reason"]],
        ref[["customer_id", "rank", "article_id", "reason"]],
        check_dtype=False,
    )
    np.testing.assert_allclose(got["score"], ref["score"], rtol=1e-9)


def test_stable_uniform_draws_do_not_depend_on_row_order_or_partitions(spark):
    from pyspark.sql import functions as F

    from spark_jobs.recommend.buckets import stable_uniform

    rows = [(f"c{i % 97}", f"a{i}") for i in range(4000)]
    df = spark.createDataFrame(rows, "customer_id string, article_id string")
    draw = stable_uniform(42, "customer_id", "article_id").alias("u")
    one = df.coalesce(1).select("customer_id", "article_id", draw).toPandas()
    # The same rows reversed and spread over 7 partitions get the same draws.
    other = (
        df.orderBy(F.col("article_id").desc())
        .repartition(7)
        .select("customer_id", "article_id", draw)
        .toPandas()
    )
    merged = one.merge(other, on=["customer_id", "article_id"])
    assert len(merged) == len(rows) and (merged["u_x"] == merged["u_y"]).all()
    # Uniform on [0, 1), and another seed draws other values.
    assert one["u"].between(0, 1, inclusive="left").all()
    assert abs((one["u"] < 0.3).mean() - 0.3) < 0.03
    reseeded = df.select(stable_uniform(7, "customer_id", "article_id").alias("u")).toPandas()
    assert (reseeded["u"].to_numpy() != one["u"].to_numpy()).mean() > 0.99


def test_outfit_complements_score_co_purchases_by_shrunk_lift_by_hand(spark):
    from spark_jobs.recommend.candidates.complements import outfit_complements

    articles = spark.createDataFrame(
        [
            ("A", "Upper body", "Ladies", 3.0),
            ("B", "Lower body", "Ladies", 2.0),
            ("C", "Upper body", "Ladies", 1.0),
        ],
        "article_id string, product_group_name string, index_group_name string, units_28d double",
    )
    tx = spark.createDataFrame(
        [
            ("c1", "A", dt.date(2020, 1, 10)),
            ("c1", "B", dt.date(2020, 1, 10)),
            ("c2", "A", dt.date(2020, 1, 9)),  # one day earlier: the same 3-day basket
            ("c2", "B", dt.date(2020, 1, 9)),
            ("c3", "A", dt.date(2020, 1, 10)),  # A with C: same product group, no pair
            ("c3", "C", dt.date(2020, 1, 10)),
            ("c3", "B", dt.date(2020, 1, 1)),  # a basket of one article: left out
            (None, "B", dt.date(2020, 1, 10)),  # no customer: no basket
        ],
        "customer_id string, article_id string, purchase_date date",
    )
    config = RecsConfig().replace(basket_days=3, complement_min_support=2, complement_shrinkage=5.0)
    got = outfit_complements(tx, articles, articles, "2020-01-10", config)
    try:
        rows = {(r.article_id, r.complement_article_id): r for r in got.collect()}
    finally:
        got.unpersist()
    # Baskets: c1|0 {A, B}, c2|0 {A, B}, c3|0 {A, C}: N = 3, n_A = 3, n_B = 2.
    # (A, B) bought together twice: 2 * 3 / ((3 + 5) * (2 + 5)).
    for pair in (("A", "B"), ("B", "A")):
        assert rows[pair].support == 2
        assert rows[pair].score == pytest.approx(6 / 56)
        assert rows[pair].rank == 1
    # (B, C) was never bought together: the content rule fills it in, below any co-purchase.
    assert rows[("B", "C")].support == 0
    assert 0 < rows[("B", "C")].score <= 0.01
    assert rows[("B", "C")].rank == 2
    # Never the same product group.
    assert ("A", "C") not in rows and ("C", "A") not in rows
    assert rows[("C", "B")].support == 0


def test_timed_steps_name_their_spark_jobs(spark):
    from spark_jobs.recommend.timing import timed

    context = spark.sparkContext
    description = "spark.job.description"
    STEP_LOG.clear()
    with timed("outer step"):
        assert context.getLocalProperty(description) == "outer step"
        with timed("inner step"):
            assert context.getLocalProperty(description) == "inner step"
        # back to the enclosing step once the inner one ends
        assert context.getLocalProperty(description) == "outer step"
    assert context.getLocalProperty(description) is None
    assert [step for step, _ in STEP_LOG] == ["inner step", "outer step"]
