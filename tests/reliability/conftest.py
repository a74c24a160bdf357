"""Fixtures of the reliability suite; its summary table is printed by tests/conftest.py."""

from __future__ import annotations

import pytest
from harness import LEDGER

from shopguide.generate import generate_shop

# The tiny shop's history ends here; the suite's runs are for the days just before.
SHOP_END = "2024-03-31"


@pytest.fixture(scope="session")
def tiny_shop(tmp_path_factory):
    """A small generated shop (H&M shape, Parquet): 200 customers, 80 articles, 60 days."""
    out = tmp_path_factory.mktemp("tiny_shop")
    generate_shop(out, customers=200, articles=80, days=60, end_date=SHOP_END, seed=3)
    return out


def pytest_sessionfinish(session):
    """Under pytest-xdist each worker hands its ledger to the controller (tests/conftest.py
    prints the summary)."""
    if hasattr(session.config, "workeroutput"):
        session.config.workeroutput["shopguide_ledger"] = LEDGER.to_json()
