"""Column names, output names and the reasons shown to customers, in one place.

Every module of the recommender takes its column names from here, so a rename in the
lake contract (docs/ARCHITECTURE.md) is a one-line change.
"""

from __future__ import annotations

# -- lake input columns (docs/ARCHITECTURE.md) ----------------------------------
CUSTOMER_ID = "customer_id"
ARTICLE_ID = "article_id"
SEGMENT = "segment"
AGE_BAND = "age_band"
REGION = "region"
CHANNEL = "main_sales_channel_id"
PURCHASE_DATE = "purchase_date"
QUANTITY = "quantity"
PRICE = "price"
IS_SELLABLE = "is_sellable"
PROD_NAME = "prod_name"
PRODUCT_TYPE = "product_type_name"
PRODUCT_GROUP = "product_group_name"
INDEX_GROUP = "index_group_name"
DETAIL_DESC = "detail_desc"
WEIGHT = "weight"
PURCHASES = "purchases"

# Categorical article attributes one-hot encoded into the content vector.
CATEGORICAL_ATTRIBUTES = (
    "product_type_name",
    "product_group_name",
    "colour_group_name",
    "graphical_appearance_name",
    "department_name",
    "garment_group_name",
    "index_group_name",
)

# -- output columns ---------------------------------------------------------------
RANK = "rank"
SCORE = "score"
REASON = "reason"
SIMILAR_ARTICLE_ID = "similar_article_id"
COMPLEMENT_ARTICLE_ID = "complement_article_id"
SUPPORT = "support"

RECOMMENDATION_COLUMNS = (CUSTOMER_ID, RANK, ARTICLE_ID, SCORE, REASON)
SIMILAR_ARTICLES_COLUMNS = (ARTICLE_ID, RANK, SIMILAR_ARTICLE_ID, SCORE)
OUTFIT_COMPLEMENTS_COLUMNS = (ARTICLE_ID, RANK, COMPLEMENT_ARTICLE_ID, SCORE, SUPPORT)
# Lake outputs carry no run_date (the path holds it; the loader adds the column).
MODEL_METRICS_COLUMNS = (
    "model",
    "k",
    "precision_at_k",
    "recall_at_k",
    "map_at_k",
    "ndcg_at_k",
    "catalog_coverage",
    "novelty",
    "diversity",
)

# Output names under lake/run_date=D/outputs/.
OUT_RECOMMENDATIONS = "recommendations"
OUT_SIMILAR_ARTICLES = "similar_articles"
OUT_OUTFIT_COMPLEMENTS = "outfit_complements"
OUT_MODEL_METRICS = "model_metrics"
# Private (never published): the best baseline's lists for the quality gate.
OUT_BASELINE_RECOMMENDATIONS = "baseline_recommendations"

# -- reasons shown to customers ---------------------------------------------------
REASON_REPURCHASE = "you bought this before"
REASON_POPULAR_SEGMENT = "popular with customers like you"
REASON_POPULAR_GLOBAL = "popular in the shop right now"
REASON_TRENDING = "trending now"
