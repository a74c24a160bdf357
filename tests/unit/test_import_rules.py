"""The import rule: imports go one way (shopguide -> spark_jobs), no sibling cycles, and
the DAG files use only the orchestrator's public entry points.

The first two parts are import-linter contracts in ``pyproject.toml``; the tests run
``lint-imports`` on the real tree and on a copy with one violating import, so a rule
that stopped checking anything would fail here.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")

# What a DAG file may import from the project: the orchestrator's public modules.
DAG_ENTRY_POINTS = frozenset(
    {
        "shopguide.orchestration",
        "shopguide.notifiers",
        "shopguide.pipeline",
        "shopguide.run",
        "shopguide.steps",
        "shopguide.schema",
        "shopguide.settings",
        "shopguide.export",
    }
)


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"],
        cwd=root,
        env={"PYTHONPATH": str(root), "PATH": str(Path(sys.executable).parent)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _copy_tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    for name in ("shopguide", "spark_jobs"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    return root


def test_the_tree_keeps_the_import_contracts():
    result = _lint(REPO)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "spark_jobs never imports shopguide KEPT" in result.stdout
    assert "no import cycles between sibling modules KEPT" in result.stdout


def test_a_spark_job_importing_shopguide_breaks_the_contract(tmp_path):
    root = _copy_tree(tmp_path)
    job = root / "spark_jobs" / "common.py"
    job.write_text(
        job.read_text() + "\n\ndef _late():\n    from shopguide.settings import load_settings\n"
    )
    result = _lint(root)
    assert result.returncode != 0
    assert "spark_jobs never imports shopguide BROKEN" in result.stdout


def test_a_cycle_between_siblings_breaks_the_contract(tmp_path):
    root = _copy_tree(tmp_path)
    (root / "shopguide" / "settings.py").write_text(
        (root / "shopguide" / "settings.py").read_text() + "\nimport shopguide.warehouse\n"
    )
    result = _lint(root)
    assert result.returncode != 0
    assert "no import cycles between sibling modules BROKEN" in result.stdout


def dag_import_violations(source: str) -> list[str]:
    """Imports of a DAG file that reach past the orchestrator's public entry points."""
    bad = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module:
            modules = [node.module]
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            names = []
        else:
            continue
        for module in modules:
            top = module.split(".")[0]
            if top == "spark_jobs":
                bad.append(module)
            elif top == "shopguide" and module not in DAG_ENTRY_POINTS:
                bad.append(module)
            elif top == "shopguide":
                bad += [f"{module}.{n}" for n in names if n.startswith("_")]
    return bad


@pytest.mark.parametrize("path", sorted((REPO / "dags").glob("*.py")), ids=lambda p: p.name)
def test_dag_files_import_only_public_entry_points(path):
    assert dag_import_violations(path.read_text()) == []


def test_the_dag_rule_catches_internal_imports():
    source = (
        "from shopguide.pipeline import run_task\n"
        "from shopguide.warehouse import open_warehouse\n"
        "from shopguide.pipeline import _one_line\n"
        "import spark_jobs.common\n"
    )
    assert dag_import_violations(source) == [
        "shopguide.warehouse",
        "shopguide.pipeline._one_line",
        "spark_jobs.common",
    ]
