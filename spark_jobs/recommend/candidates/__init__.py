"""Candidate sources of the recommender: ALS (``als``), item-to-item EASE (``itemitem``),
content similarity (``content``), outfit complements (``complements``), group
popularity (``popularity``), repurchase (``repurchase``); ``inputs``: the sellable
articles and recency-decayed purchases they read."""
