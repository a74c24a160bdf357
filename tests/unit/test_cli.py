"""The command line: documented commands, one-line failures, non-zero exits."""

from __future__ import annotations

import subprocess
import sys
from datetime import date

import pytest

from shopguide.cli import build_parser, main


def test_help_documents_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("generate", "run", "export", "summary", "evaluate"):
        assert command in out


def test_run_needs_a_valid_date():
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--date", "2024-13-01"])


def run_cli(*args: str, env_home) -> subprocess.CompletedProcess:
    env = {"SHOPGUIDE_HOME": str(env_home), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, "-m", "shopguide.cli", *args], capture_output=True, text=True, env=env
    )


def test_failed_run_exits_non_zero_with_one_line(tmp_path):
    proc = run_cli(
        "run",
        "--date",
        "2024-06-30",
        "--source",
        "hm",
        "--path",
        str(tmp_path / "missing"),
        env_home=tmp_path,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("shopguide: error: ingest failed for 2024-06-30:")
    assert str(tmp_path / "missing") in lines[0]
    assert "Traceback" not in proc.stderr


def test_export_before_any_run_says_what_to_do(tmp_path):
    proc = run_cli("export", "email", "--out", str(tmp_path / "x.csv"), env_home=tmp_path)
    assert proc.returncode == 1
    assert "run the pipeline first" in proc.stderr


def test_fingerprint_hashes_each_published_partition_by_its_natural_key(tmp_path, capsys):
    """`shopguide fingerprint`: the same rows in any insertion order give the same hash, a
    changed value or another run date's rows do not (issue 15's before/after check)."""
    import argparse

    import pandas as pd

    from shopguide.cli import cmd_fingerprint
    from shopguide.pipeline import ensure_published_tables
    from shopguide.published import fingerprint
    from shopguide.warehouse import open_warehouse
    from support import make_settings

    settings = make_settings(tmp_path)
    ensure_published_tables(settings)
    wh = open_warehouse(settings)
    rows = pd.DataFrame(
        {
            "run_date": pd.to_datetime(["2024-03-31"] * 3).date,
            "customer_id": ["c1", "c1", "c2"],
            "rank": [1, 2, 1],
            "article_id": ["a1", "a2", "a1"],
            "score": [0.5, 0.25, 0.125],
            "reason": ["popular"] * 3,
        }
    )

    def load(frame) -> dict:
        with wh.transaction() as con:
            wh.execute_in(con, "DELETE FROM published.recommendations")
            wh.insert_frame(con, "published", "recommendations", frame)
        return fingerprint(wh, date(2024, 3, 31))

    first = load(rows)
    assert first["recommendations"][0] == 3
    assert load(rows.iloc[::-1]) == first  # insertion order does not matter
    changed = rows.assign(score=[0.5, 0.25, 0.126])
    assert load(changed)["recommendations"] != first["recommendations"]
    other_day = pd.concat(
        [rows, rows.assign(run_date=pd.to_datetime(["2024-03-30"] * 3).date)], ignore_index=True
    )
    assert load(other_day) == first  # only the run date's partition counts
    capsys.readouterr()
    assert cmd_fingerprint(argparse.Namespace(date="2024-03-31"), settings) == 0
    line = next(x for x in capsys.readouterr().out.splitlines() if x.startswith("recommendations "))
    assert line.split() == ["recommendations", "3", "rows", "sha256", first["recommendations"][1]]


@pytest.mark.parametrize(
    ("names", "last_spark_work", "released_after"),
    [
        (["export_inputs", "recommend", "forecast", "load_outputs", "publish"], True, "forecast"),
        (["recommend", "load_outputs"], True, "recommend"),
        (["load_outputs", "publish"], True, None),
        (["recommend", "forecast", "load_outputs"], False, None),  # a backfill's earlier days
    ],
)
def test_run_stops_its_spark_jvm_after_the_last_spark_task(
    monkeypatch, names, last_spark_work, released_after
):
    """The tasks after the last Spark task do not run beside the idle JVM's heap."""
    import shopguide.run
    import shopguide.spark
    from shopguide import cli

    events = []
    monkeypatch.setattr(shopguide.run, "run_task", lambda name, *a, **k: events.append(name) or {})
    monkeypatch.setattr(
        shopguide.spark, "release_local_jvm", lambda: events.append("RELEASE") or True
    )
    cli._run_tasks(None, date(2024, 6, 30), names, last_spark_work=last_spark_work)
    expected = list(names)
    if released_after:
        expected.insert(names.index(released_after) + 1, "RELEASE")
    assert events == expected
