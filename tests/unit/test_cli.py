"""The command line: documented commands, one-line failures, non-zero exits."""

from __future__ import annotations

import subprocess
import sys

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
