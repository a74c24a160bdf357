"""Fixtures of the reliability suite, and the summary table it prints at the end."""

from __future__ import annotations

import pandas as pd
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


def pytest_terminal_summary(terminalreporter):
    if LEDGER.empty():
        return
    write = terminalreporter.write_line
    terminalreporter.section("reliability summary")
    levels = pd.Series([level for _, level, _ in LEDGER.bad_inputs]).value_counts().to_dict()
    write(
        f"bad input kinds tried: {len(LEDGER.bad_inputs)} ({', '.join(f'{n} {k}' for k, n in sorted(levels.items()))})"
    )
    for kind, level, outcome in LEDGER.bad_inputs:
        write(f"  {kind:<44} {level:<11} {outcome}")
    write(f"faults injected (SIGKILL): {len(LEDGER.faults)}")
    for f in LEDGER.faults:
        write(
            f"  {f['backend']:<9} killed during {f['point']:<8} published kept previous run: {f['kept']!s:<5} "
            f"rerun equals clean run: {f['equal']!s:<5} rows lost: {f['rows_lost']}"
        )
    lost = sum(int(f["rows_lost"]) for f in LEDGER.faults)
    write(f"rows lost: {lost}")
    write(f"concurrent reader queries: {LEDGER.reader_queries}, mixed reads: {LEDGER.mixed_reads}")
    for what, result in LEDGER.checks:
        write(f"  {what}: {result}")
