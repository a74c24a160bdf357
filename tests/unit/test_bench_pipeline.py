"""benchmarks/bench_pipeline.py's bookkeeping: which commit a measurement is of, and whether
the sizes of a table were measured on one footing."""

from __future__ import annotations

import importlib
import subprocess
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.fixture()
def bench(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))
    return importlib.import_module("bench_pipeline")


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def test_commit_is_clean_while_only_the_benchmarks_own_outputs_changed(
    bench, tmp_path, monkeypatch
):
    """The benchmark writes pipeline_runs.json after each size (results.md and the capacity
    plan at the end): those writes must not mark the next size's code as modified."""
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "docs").mkdir()
    own = [
        tmp_path / "benchmarks" / "pipeline_runs.json",
        tmp_path / "benchmarks" / "results.md",
        tmp_path / "docs" / "CAPACITY.md",
    ]
    code = tmp_path / "code.py"
    for path in [*own, code]:
        path.write_text("x\n")
    _git(tmp_path, "init", "-q")
    _git(tmp_path, "add", "-A")
    _git(tmp_path, "commit", "-qm", "first")
    head = _git(tmp_path, "rev-parse", "--short", "HEAD").strip()
    monkeypatch.setattr(bench, "REPO", tmp_path)
    monkeypatch.setattr(bench, "RAW", own[0])
    monkeypatch.setattr(bench, "RESULTS", own[1])
    monkeypatch.setattr(bench, "CAPACITY", own[2])

    assert bench._commit() == head
    for path in own:  # the first entry's line of `git status --porcelain` starts with a space
        path.write_text("y\n")
    assert bench._commit() == head
    code.write_text("y\n")
    assert bench._commit() == head + "+"
    code.write_text("x\n")
    (tmp_path / "new.py").write_text("")  # an untracked file is a difference too
    assert bench._commit() == head + "+"


def _size(commit: str, cpu: str | None, measured: str) -> dict:
    return {"commit": commit, "cpu": cpu, "measured": measured}


def test_provenance_says_whether_sizes_share_commit_and_host(bench):
    one = {
        "demo": _size("abc1234", "Xeon", "2026-12-07 21:57 UTC"),
        "100k": _size("abc1234", "Xeon", "2026-12-07 23:50 UTC"),
    }
    text = bench.provenance(one, ["demo", "100k"])
    assert "abc1234" in text and "Xeon" in text
    assert "2026-12-07 21:57 UTC to 2026-12-07 23:50 UTC" in text
    assert "different" not in text

    mixed = {**one, "25k": _size("def5678", None, "2026-12-06 19:04 UTC")}
    text = bench.provenance(mixed, ["demo", "25k", "100k"])
    assert "different commits or on different hosts" in text
    assert "25k at def5678 on a host it did not record" in text
    # a size not measured is not listed
    assert "large" not in bench.provenance(mixed, ["large", "demo"])


def test_a_child_holding_its_parents_resident_set_is_not_counted_twice(bench, monkeypatch):
    """A child caught between the JVM's vfork and its exec (or just forked) reports the
    parent's resident set; /proc is read twice, so the two sizes may differ a little."""
    statuses = {
        10: {"PPid": "1", "VmRSS": "4770000 kB"},  # the JVM
        11: {"PPid": "10", "VmRSS": "4786000 kB"},  # before its exec: the JVM's pages
        12: {"PPid": "10", "VmRSS": "310000 kB"},  # the Python worker daemon
        13: {"PPid": "12", "VmRSS": "312000 kB"},  # a worker just forked from it
        14: {"PPid": "12", "VmRSS": "520000 kB"},  # a worker after its first task
        15: {"PPid": "10"},  # gone between the reads
    }
    monkeypatch.setattr(bench, "_status", lambda pid: statuses.get(pid, {}))
    assert bench.shares_parent_memory(11)
    assert not bench.shares_parent_memory(12)
    assert bench.shares_parent_memory(13)
    assert not bench.shares_parent_memory(14)
    assert not bench.shares_parent_memory(15)
    assert not bench.shares_parent_memory(10)  # a child of init: no parent to share with


def test_each_stage_step_log_is_read_and_tabled(bench):
    """A run's stderr holds both Spark jobs' step logs; each goes under its own key, and the
    section tables a stage only when every run logged the same steps (older records have
    no forecast log: no table, no error)."""
    stderr = "\n".join(
        [
            "[recommend] 2024-06-30 ALS fit: 9.5 s",
            "some other line: 3.0 s",
            "[forecast] per-article features: 10.2 s",
            "  [recommend] lists: 17.0 s  ",
            "[forecast] demand_forecast written: 0.9 s",
        ]
    )
    logs = bench.step_logs(stderr)
    assert logs == {
        "steps": [("2024-06-30 ALS fit", 9.5), ("lists", 17.0)],
        "forecast_steps": [("per-article features", 10.2), ("demand_forecast written", 0.9)],
    }
    runs = [
        logs,
        {**logs, "forecast_steps": [("per-article features", 12.2), logs["forecast_steps"][1]]},
    ]
    table = bench.step_table("forecast", "demo", [*runs, logs])
    assert table[0] == "Where `forecast` goes (demo shop, its step log, median of the runs):"
    assert "| per-article features | 10.2 |" in table
    assert bench.step_table("forecast", "demo", [{"steps": logs["steps"]}]) == []
    other = {**logs, "forecast_steps": [("per-article features", 1.0)]}
    assert bench.step_table("forecast", "demo", [logs, other]) == []
