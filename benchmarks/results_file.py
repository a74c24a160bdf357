"""Each benchmark owns one section of benchmarks/results.md, between its markers."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results.md"
HEADER = (
    "# Benchmarks\n\n"
    "Regenerate with `make bench` (one section: `python benchmarks/run.py pipeline|recs|als_peers|forecast`).\n"
    "Quality numbers come from the exact commands shown; speed numbers are wall-clock on a\n"
    "2-core, 24 GiB machine like CI's.\n"
)


def write_section(name: str, text: str, path: Path = RESULTS) -> None:
    """Replace (or append) the section ``name`` of ``path`` (results.md), leaving the
    others alone."""
    begin, end = f"<!-- {name}:begin -->", f"<!-- {name}:end -->"
    current = path.read_text() if path.exists() else HEADER
    block = f"{begin}\n{text.rstrip()}\n{end}"
    if begin in current and end in current:
        head, rest = current.split(begin, 1)
        current = head + block + rest.split(end, 1)[1]
    else:
        current = current.rstrip() + "\n\n" + block + "\n"
    path.write_text(current)
