"""The synthetic shop: shape, determinism and the patterns the models should learn."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from shopguide.generate import build_shop, generate_shop
from shopguide.sources import read_source

HM_ARTICLE_COLUMNS = [
    "article_id", "product_code", "prod_name", "product_type_no", "product_type_name",
    "product_group_name", "graphical_appearance_no", "graphical_appearance_name",
    "colour_group_code", "colour_group_name", "perceived_colour_value_id",
    "perceived_colour_value_name", "perceived_colour_master_id", "perceived_colour_master_name",
    "department_no", "department_name", "index_code", "index_name", "index_group_no",
    "index_group_name", "section_no", "section_name", "garment_group_no", "garment_group_name",
    "detail_desc",
]  # fmt: skip
HM_CUSTOMER_COLUMNS = [
    "customer_id",
    "FN",
    "Active",
    "club_member_status",
    "fashion_news_frequency",
    "age",
    "postal_code",
]
HM_TRANSACTION_COLUMNS = ["t_dat", "customer_id", "article_id", "price", "sales_channel_id"]
REAL_CATALOGUE = Path("/work/shared/data/hm/articles.parquet")

SMALL = dict(customers=600, articles=300, days=365, end_date="2024-06-30", seed=3)


@pytest.fixture(scope="module")
def shop():
    return build_shop(**SMALL)


@pytest.fixture(scope="module")
def sales(shop):
    """Transactions joined to their articles, with t_dat as a date."""
    tx = shop.transactions.assign(t_dat=pd.to_datetime(shop.transactions["t_dat"]))
    return tx.merge(shop.articles, on="article_id", how="left", validate="many_to_one")


def test_files_have_the_hm_schema_and_read_back(tmp_path):
    paths = generate_shop(tmp_path, customers=200, articles=120, days=60, seed=1)
    assert set(paths) == {"articles", "customers", "transactions"}
    articles = pd.read_parquet(paths["articles"])
    customers = pd.read_parquet(paths["customers"])
    tx = pd.read_parquet(paths["transactions"])
    assert list(articles.columns) == HM_ARTICLE_COLUMNS
    assert list(customers.columns) == HM_CUSTOMER_COLUMNS
    assert list(tx.columns) == HM_TRANSACTION_COLUMNS
    assert articles["article_id"].str.fullmatch(r"\d{10}").all()
    assert articles["article_id"].is_unique and customers["customer_id"].is_unique
    assert (articles["article_id"].str[1:7].astype(int) == articles["product_code"]).all()
    assert tx["t_dat"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert tx["t_dat"].min() >= "2024-05-02" and tx["t_dat"].max() <= "2024-06-30"
    assert set(tx["sales_channel_id"]) <= {1, 2} and (tx["price"] > 0).all()
    assert (
        articles[["prod_name", "product_type_name", "product_group_name", "detail_desc"]]
        .notna()
        .all()
        .all()
    )

    data = read_source("generated", tmp_path)
    assert len(data.transactions) == len(tx)
    assert data.transactions["article_id"].isin(data.articles["article_id"]).all()
    assert data.transactions["customer_id"].isin(data.customers["customer_id"]).all()
    assert len(data.customers) == 200  # every buyer is in the customers file
    assert not data.notes


def test_same_seed_gives_identical_files_and_another_seed_differs(tmp_path):
    args = dict(customers=150, articles=80, days=60, seed=11)
    first = generate_shop(tmp_path / "a", **args)
    second = generate_shop(tmp_path / "b", **args)
    for entity in first:
        assert Path(first[entity]).read_bytes() == Path(second[entity]).read_bytes(), entity
    other = build_shop(**{**args, "seed": 12})
    assert not pd.read_parquet(first["transactions"]).equals(other.transactions)


def test_row_counts(shop):
    assert len(shop.customers) == SMALL["customers"]
    assert len(shop.articles) == SMALL["articles"]
    per_customer = len(shop.transactions) / SMALL["customers"]
    assert 8 < per_customer < 40
    assert shop.transactions["t_dat"].nunique() >= 360  # open nearly every day


def test_weekends_sell_more(sales):
    daily = sales.groupby("t_dat").size()
    weekend = daily.index.dayofweek >= 5
    assert daily[weekend].mean() > 1.2 * daily[~weekend].mean()


def test_yearly_seasonality_by_product_type(sales):
    month = sales["t_dat"].dt.month
    summer, winter = month.isin([6, 7, 8]), month.isin([12, 1, 2])
    summer_types = sales["product_type_name"].isin(
        ["Shorts", "Swimwear bottom", "Bikini top", "Sandals", "Dress"]
    )
    winter_types = sales["product_type_name"].isin(
        ["Sweater", "Coat", "Boots", "Scarf", "Hat/beanie", "Hoodie"]
    )
    assert summer_types[summer].mean() > 1.5 * summer_types[winter].mean()
    assert winter_types[winter].mean() > 1.5 * winter_types[summer].mean()


def test_new_articles_and_customers_arrive_and_nothing_sells_early(shop, sales):
    start = sales["t_dat"].min()
    launched_in_period = shop.article_launch >= start
    assert 0.25 < launched_in_period.mean() < 0.55
    first_sale = sales.groupby("article_id")["t_dat"].min()
    assert (first_sale >= shop.article_launch.reindex(first_sale.index)).all()
    last_sale = sales.groupby("article_id")["t_dat"].max()
    retire = shop.article_retire.reindex(last_sale.index)
    retired_in_period = shop.article_retire.between(start, sales["t_dat"].max())
    assert retired_in_period.sum() > 10  # the range changes: some articles are retired
    assert (retire.isna() | (last_sale < retire)).all()
    assert (
        first_sale[launched_in_period.reindex(first_sale.index)].size > 20
    )  # new articles do sell

    signed_up_in_period = shop.customer_signup >= start
    assert 0.25 < signed_up_in_period.mean() < 0.45
    first_purchase = sales.groupby("customer_id")["t_dat"].min()
    assert (first_purchase >= shop.customer_signup.reindex(first_purchase.index)).all()
    late = shop.customer_signup[
        signed_up_in_period & (shop.customer_signup > start + pd.Timedelta(days=180))
    ]
    assert first_purchase.reindex(late.index).dropna().min() > start + pd.Timedelta(days=180)


def test_opt_in_share(shop):
    c = shop.customers
    opted_in = c["fashion_news_frequency"].isin(["Regularly", "Monthly"]) & (
        c["club_member_status"] == "ACTIVE"
    )
    assert 0.30 < opted_in.mean() < 0.45
    # Opted-out customers exist in several forms (no news, or news but not an active member).
    assert {"NONE", "Regularly"} <= set(c.loc[~opted_in, "fashion_news_frequency"].dropna())
    assert c["age"].between(16, 90).sum() > 0.95 * len(c)


def test_repeat_purchases(sales):
    days_per_pair = sales.groupby(["customer_id", "article_id"])["t_dat"].nunique()
    assert (days_per_pair > 1).mean() > 0.05
    # Basics are what gets re-bought.
    repeated = days_per_pair[days_per_pair > 1].reset_index()
    types = repeated.merge(
        sales[["article_id", "product_type_name"]].drop_duplicates(), on="article_id"
    )
    basics = {
        "T-shirt",
        "Vest top",
        "Socks",
        "Underwear bottom",
        "Bra",
        "Leggings/Tights",
        "Underwear Tights",
    }
    assert types["product_type_name"].isin(basics).mean() > 0.5


def test_baskets_complete_the_look(sales):
    baskets = sales.groupby(["customer_id", "t_dat"])
    size = baskets.size()
    groups = baskets["product_group_name"].nunique()
    assert (size > 1).mean() > 0.4
    assert (groups[size > 1] > 1).mean() > 0.5

    cols = ["customer_id", "t_dat", "perceived_colour_master_name"]
    tops = sales.loc[sales["product_group_name"] == "Garment Upper body", cols]
    bottoms = sales.loc[sales["product_group_name"] == "Garment Lower body", cols]
    pairs = tops.merge(bottoms, on=["customer_id", "t_dat"], suffixes=("_top", "_bottom"))
    assert len(pairs) > 100
    same = (
        pairs["perceived_colour_master_name_top"] == pairs["perceived_colour_master_name_bottom"]
    ).mean()
    rng = np.random.default_rng(0)
    random_same = (
        rng.choice(tops["perceived_colour_master_name"].to_numpy(), 5000)
        == rng.choice(bottoms["perceived_colour_master_name"].to_numpy(), 5000)
    ).mean()
    assert same > 1.4 * random_same


def test_customers_have_a_taste(shop, sales):
    # Segments shop mostly in their index groups: a learnable signal.
    per_group = sales.groupby(["customer_id", "index_group_name"]).size()
    top_share = per_group.groupby(level=0).max() / per_group.groupby(level=0).sum()
    buyers = sales.groupby("customer_id").size()
    assert top_share[buyers >= 5].mean() > 0.6
    segment = shop.customer_segment.reindex(sales["customer_id"]).to_numpy()
    menswear = sales.loc[segment == "Menswear basics", "index_group_name"]
    assert (menswear.isin(["Menswear", "Sport"])).mean() > 0.8


def test_prices_and_channels(sales):
    assert sales["sales_channel_id"].value_counts(normalize=True).between(0.2, 0.8).all()
    by_type = sales.groupby("product_type_name")["price"].median()
    assert by_type["Coat"] > by_type["T-shirt"] > by_type["Socks"]
    # Discounts: the same article sells at more than one price.
    assert (sales.groupby("article_id")["price"].nunique() > 1).mean() > 0.2


def test_catalogue_reuses_a_real_catalogue_subset(tmp_path):
    catalogue = build_shop(customers=10, articles=400, days=30, seed=99).articles
    catalogue.loc[0, "index_group_name"] = "Furniture"  # not clothing: never picked
    path = tmp_path / "articles.parquet"
    catalogue.to_parquet(path, index=False)

    shop = build_shop(customers=200, articles=150, days=90, seed=5, catalogue=str(path))
    assert len(shop.articles) == 150
    assert list(shop.articles.columns) == list(catalogue.columns)
    merged = shop.articles.merge(catalogue, on="article_id", suffixes=("", "_cat"))
    assert len(merged) == 150  # every article comes from the catalogue, unchanged
    assert (merged["detail_desc"] == merged["detail_desc_cat"]).all()
    assert catalogue.loc[0, "article_id"] not in set(shop.articles["article_id"])
    assert shop.transactions["article_id"].isin(shop.articles["article_id"]).all()
    assert len(shop.transactions) > 500

    with pytest.raises(ValueError, match="has 399 usable articles"):
        build_shop(customers=10, articles=1000, days=30, catalogue=str(path))
    with pytest.raises(ValueError, match="does not exist"):
        build_shop(customers=10, articles=10, days=30, catalogue=str(tmp_path / "none.parquet"))


@pytest.mark.skipif(not REAL_CATALOGUE.exists(), reason="shared H&M catalogue not present")
def test_real_hm_catalogue():
    shop = build_shop(customers=300, articles=500, days=120, seed=2, catalogue=str(REAL_CATALOGUE))
    assert len(shop.articles) == 500
    assert shop.articles["article_id"].str.fullmatch(r"\d{10}").all()
    assert shop.transactions["article_id"].isin(shop.articles["article_id"]).all()
    assert shop.articles["product_group_name"].nunique() >= 5


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customers": 0}, "customers=0"),
        ({"articles": 1.5}, "articles=1.5"),
        ({"days": 3}, "days=3"),
        ({"end_date": "30/06/2024x"}, "end_date"),
    ],
)
def test_bad_arguments_say_what_is_wrong(change, message):
    with pytest.raises(ValueError, match=message):
        build_shop(**{**SMALL, **change})
