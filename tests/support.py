"""Helpers shared by the tests (importable as `support`: tests/ is on pytest's pythonpath)."""

from __future__ import annotations


def make_settings(tmp_path, warehouse_url: str | None = None, **overrides):
    """Settings rooted in tmp_path: a DuckDB file there unless a warehouse URL is given."""
    from shopguide.settings import load_settings

    home = tmp_path / "home"
    defaults = {
        "home": home,
        "warehouse_url": warehouse_url or f"duckdb://{home / 'warehouse.duckdb'}",
        "lake": str(home / "lake"),
        "reports_dir": home / "reports",
        "source_path": str(home / "data"),
    }
    return load_settings().with_(**{**defaults, **overrides})
