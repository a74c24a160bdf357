"""The README quotes `make bench`'s pipeline targets table: the quote must be the table
benchmarks/results.md holds now, not an older run's."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HEADER = "| figure | target | measured | |"


def targets_table(text: str) -> list[str]:
    """The rows of the first table with the targets header (header and rule included)."""
    lines = text.splitlines()
    start = lines.index(HEADER)
    rows = []
    for line in lines[start:]:
        if not line.startswith("|"):
            break
        rows.append(line)
    return rows


def test_readme_quotes_the_pipeline_targets_table_of_results_md():
    results = (REPO / "benchmarks" / "results.md").read_text()
    section = results[results.index("<!-- pipeline:begin -->") :]
    quoted = targets_table((REPO / "README.md").read_text())
    measured = targets_table(section)
    assert len(measured) > 2
    assert quoted == measured, "copy the targets table of benchmarks/results.md into README.md"
