"""A synthetic fashion shop in the H&M Kaggle shape, with patterns the models can learn.

``generate_shop(out_dir, ...)`` writes ``articles.parquet``, ``customers.parquet``
and ``transactions.parquet`` with the columns and types of the H&M Personalized
Fashion Recommendations files, so ``read_source("generated", out_dir)`` reads them
with the H&M reader. Everything is drawn from one seeded generator: the same
arguments give the same rows.

What is in the data:

- Customers belong to one of seven segments (young trend, classic, family, menswear
  basics, sporty, premium, young men), each with its taste: index groups, a colour
  palette, patterns, price sensitivity, store/online habit, visit rate and basket
  size. Each customer adds a personal favourite colour and price sensitivity.
  Ages follow the segment; about 37% are opted in to marketing (ACTIVE club members
  with fashion news Regularly/Monthly). About a third sign up during the period and
  buy nothing before their signup day; some stop buying (churn).
- Articles are products in colour variants, each designed for a segment: product
  group -> product type -> department, section and garment group; colours and
  graphical appearance; name and description composed from the type's vocabulary
  ("Slim-fit jeans in washed stretch denim with a high waist and a zip fly."); a
  latent taste vector near its segment's; a base price by type and index with
  noise. A third or more launch during the period in seasonal collections, with a
  novelty boost; non-basic articles are retired after a lifetime, with a markdown
  in their last weeks.
- Transactions: visit rates with a heavy tail; weekend peaks; a yearly curve
  (January and summer sales, Black Friday, Christmas run-up, closed on Christmas
  Day); summer and winter product types following the season; trending
  articles; baskets of several articles bought the same day where extra items
  "complete the look" (a top with trousers of a matching colour, a dress with
  shoes), basics re-bought over time (each customer's staples), some multi-unit
  rows; sales channel 1 (store) or 2 (online) per visit; prices with sale,
  markdown and promotion discounts. Prices are in shop currency (9.99, 29.99 ...),
  not scaled like the H&M export's.

``catalogue=path to an H&M articles.parquet`` reuses a random subset of the real
catalogue (its attributes and text) instead of the synthetic articles; the
behaviour model is the same.

Modules: ``vocabulary`` (indexes, product types, colours, patterns, segments),
``seasonality`` (shop traffic by day, seasonal demand), ``articles``, ``customers``,
``purchases`` (the transactions) and ``shop`` (``build_shop``, ``generate_shop``).
"""

from __future__ import annotations

from shopguide.generate.articles import SECTIONS
from shopguide.generate.shop import GeneratedShop, build_shop, generate_shop
from shopguide.generate.vocabulary import (
    ACCESSORY_FEATURES,
    ALL,
    BASKET_MAX,
    COLOURS,
    COMPLEMENTS,
    DOW_WEIGHTS,
    GROUP_LETTER,
    INDEX_GROUPS,
    INDEX_PRICE,
    INDEXES,
    JERSEY_FEATURES,
    KNIT_FEATURES,
    LATENT_DIM,
    LINGERIE_FEATURES,
    MIDSEASON,
    MODEL_NAMES,
    NEUTRALS,
    NEVER_DAY,
    OUTDOOR_FEATURES,
    PATTERNS,
    SEASONS,
    SEGMENTS,
    SHOE_FEATURES,
    SUMMER,
    SWIM_FEATURES,
    TROUSER_FEATURES,
    TYPES,
    WINTER,
    WOVEN_TOP_FEATURES,
    ProductType,
    Segment,
)

__all__ = [
    "ACCESSORY_FEATURES",
    "ALL",
    "BASKET_MAX",
    "COLOURS",
    "COMPLEMENTS",
    "DOW_WEIGHTS",
    "GROUP_LETTER",
    "GeneratedShop",
    "INDEXES",
    "INDEX_GROUPS",
    "INDEX_PRICE",
    "JERSEY_FEATURES",
    "KNIT_FEATURES",
    "LATENT_DIM",
    "LINGERIE_FEATURES",
    "MIDSEASON",
    "MODEL_NAMES",
    "NEUTRALS",
    "NEVER_DAY",
    "OUTDOOR_FEATURES",
    "PATTERNS",
    "ProductType",
    "SEASONS",
    "SECTIONS",
    "SEGMENTS",
    "SHOE_FEATURES",
    "SUMMER",
    "SWIM_FEATURES",
    "Segment",
    "TROUSER_FEATURES",
    "TYPES",
    "WINTER",
    "WOVEN_TOP_FEATURES",
    "build_shop",
    "generate_shop",
]
