"""Ranking metrics against hand-computed cases."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from shopguide.evaluation import catalog_coverage, diversity, novelty, ranking_metrics


def _frame(rows, columns):
    return pd.DataFrame(rows, columns=columns)


TRUTH = _frame(
    [("u1", "a"), ("u1", "b"), ("u1", "c"), ("u1", "f"), ("u1", "a"), ("u2", "x"), ("u3", "q")],
    ["customer_id", "article_id"],
)
# Deliberately not sorted: the metric sorts by score itself.
PREDICTIONS = _frame(
    [
        ("u1", "e", 0.6),
        ("u1", "b", 0.7),
        ("u1", "a", 0.9),
        ("u1", "d", 0.8),
        ("u2", "y", 0.5),
        ("u2", "x", 0.4),
        ("u4", "z", 1.0),  # not in truth: not averaged over
    ],
    ["customer_id", "article_id", "score"],
)


def test_ranking_metrics_hand_computed():
    m = ranking_metrics(TRUTH, PREDICTIONS, k=3)
    # Users in both: u1, u2.
    # u1: top-3 = a, d, b; relevant {a, b, c, f} (the repeated a counts once).
    #   hits at ranks 1 and 3 -> precision 2/3, recall 2/4,
    #   AP sum = 1/1 + 2/3 = 5/3; map@3 = (5/3)/min(4,3) = 5/9; map = (5/3)/4 = 5/12
    #   DCG = 1/log2(2) + 1/log2(4) = 1.5; IDCG = 1 + 1/log2(3) + 1/log2(4)
    # u2: top-3 = y, x; relevant {x}: hit at rank 2 -> precision 1/3, recall 1,
    #   AP = 1/2 -> map@3 = 0.5, map = 0.5; nDCG = (1/log2(3)) / 1
    idcg_u1 = 1 + 1 / math.log2(3) + 0.5
    assert m["users"] == 2
    assert m["precision_at_k"] == pytest.approx((2 / 3 + 1 / 3) / 2)
    assert m["recall_at_k"] == pytest.approx((0.5 + 1.0) / 2)
    assert m["map_at_k"] == pytest.approx((5 / 9 + 0.5) / 2)
    assert m["map"] == pytest.approx((5 / 12 + 0.5) / 2)
    assert m["ndcg_at_k"] == pytest.approx((1.5 / idcg_u1 + 1 / math.log2(3)) / 2)


def test_map_at_k_divides_by_min_relevant_k():
    truth = _frame([("u", a) for a in "abcde"], ["customer_id", "article_id"])
    preds = _frame(
        [("u", "a", 2.0), ("u", "b", 1.0), ("u", "z", 0.5)], ["customer_id", "article_id", "score"]
    )
    m = ranking_metrics(truth, preds, k=2)
    # Both of the first 2 hit: AP sum = 1/1 + 2/2 = 2 -> map@2 = 2/min(5,2) = 1.0, map = 2/5.
    assert m["map_at_k"] == pytest.approx(1.0)
    assert m["map"] == pytest.approx(0.4)
    assert m["precision_at_k"] == pytest.approx(1.0)
    assert m["recall_at_k"] == pytest.approx(0.4)
    assert m["ndcg_at_k"] == pytest.approx(1.0)


def test_no_common_users_gives_zeros():
    m = ranking_metrics(TRUTH[TRUTH.customer_id == "u3"], PREDICTIONS, k=3)
    assert m["users"] == 0 and m["map_at_k"] == 0.0


def test_bad_input_names_the_columns():
    with pytest.raises(ValueError, match="score"):
        ranking_metrics(TRUTH, PREDICTIONS.drop(columns="score"), k=3)
    with pytest.raises(ValueError, match="k must be"):
        ranking_metrics(TRUTH, PREDICTIONS, k=0)


def test_coverage_novelty_diversity_hand_computed():
    preds = _frame(
        [("u1", "a", 3.0), ("u1", "b", 2.0), ("u1", "c", 1.0), ("u2", "a", 1.0), ("u2", "d", 0.5)],
        ["customer_id", "article_id", "score"],
    )
    # Distinct recommended a, b, c, d out of a 10-article catalogue.
    assert catalog_coverage(preds, 10, k=3) == pytest.approx(0.4)
    # k=2 keeps a, b (u1) and a, d (u2): 3 distinct.
    assert catalog_coverage(preds, 10, k=2) == pytest.approx(0.3)
    train = _frame(
        [("x1", "a"), ("x2", "a"), ("x3", "b"), ("x4", "c")], ["customer_id", "article_id"]
    )
    # 4 training customers: a bought by 2 -> -log2(2/4) = 1; b, c by 1 -> 2; d by nobody
    # -> counted as 1 buyer -> 2. Slots: a, b, c, a, d -> (1 + 2 + 2 + 1 + 2) / 5 = 1.6
    assert novelty(preds, train, k=3) == pytest.approx(1.6)
    cats = pd.Series({"a": "T-shirt", "b": "T-shirt", "c": "Skirt", "d": "Skirt"})
    # u1: T, T, S -> 3 pairs, 1 same -> 2/3; u2: T, S -> 1 pair, 0 same -> 1. Mean 5/6.
    assert diversity(preds, cats, k=3) == pytest.approx(5 / 6)


def test_random_per_user_split_is_stratified_and_seeded():
    from shopguide.evaluation import split_random_per_user

    tx = _frame(
        [("u1", f"a{i}") for i in range(8)] + [("u2", f"b{i}") for i in range(4)] + [(None, "z")],
        ["customer_id", "article_id"],
    )
    train, test = split_random_per_user(tx, 0.25, seed=42)
    # u1: round(8 * 0.75) = 6 train, 2 test; u2: 3 train, 1 test; anonymous rows dropped.
    assert train.groupby("customer_id").size().to_dict() == {"u1": 6, "u2": 3}
    assert test.groupby("customer_id").size().to_dict() == {"u1": 2, "u2": 1}
    assert set(map(tuple, train.values)).isdisjoint(map(tuple, test.values))
    again, _ = split_random_per_user(tx, 0.25, seed=42)
    assert again.equals(train)
    with pytest.raises(ValueError, match="test-fraction"):
        split_random_per_user(tx, 1.5, seed=42)
