"""The command line as a user runs it: exit codes, messages, JSON for scripts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import PRODUCT_HEADER, product_row, write_csv
from typer.testing import CliRunner

from pim.cli import app

runner = CliRunner()


def vitrina(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def db(db_url: str, example_dir: Path, media_root: Path) -> list[str]:
    """Global options for a catalogue holding the example, on each backend."""
    options = ["--db", db_url, "--media", str(media_root)]
    code, _, err = vitrina(*options, "--quiet", "import", str(example_dir))
    assert code == 0, err
    return options


def test_help_lists_the_commands() -> None:
    code, out, _ = vitrina("--help")
    assert code == 0
    for command in ("init", "import", "export", "show", "completeness", "demo"):
        assert command in out


def test_console_script_runs() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pim.cli", "--help"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0 and "vitrina" in result.stdout.lower()


def test_import_reports_counts(db_url: str, example_dir: Path, media_root: Path) -> None:
    code, out, _ = vitrina("--db", db_url, "--media", str(media_root), "import", str(example_dir))
    assert code == 0
    assert "imported structure" in out and "60 new" in out


def test_bad_import_exits_2_naming_file_row_column(db: list[str], workdir: Path) -> None:
    path = write_csv(
        workdir / "bad.csv",
        PRODUCT_HEADER,
        product_row("B-1", price="9,99"),
        product_row("B-2", category="nowhere"),
    )
    code, _, err = vitrina(*db, "import", str(path))
    assert code == 2
    assert "bad.csv, row 2, column 'price-EUR'" in err
    assert "bad.csv, row 3, column 'categories': unknown category 'nowhere'" in err
    assert "2 problems; nothing was imported." in err
    assert "Traceback" not in err
    code, out, _ = vitrina(*db, "import", "--json", str(path))
    report = json.loads(out)
    assert code == 2 and not report["ok"]
    assert {(e["row"], e["column"]) for e in report["errors"]} == {
        (2, "price-EUR"),
        (3, "categories"),
    }


def test_dry_run(db: list[str], workdir: Path) -> None:
    path = write_csv(workdir / "new.csv", PRODUCT_HEADER, product_row("DRY-1"))
    code, out, _ = vitrina(*db, "import", "--dry-run", str(path))
    assert code == 0 and "would import 1 new" in out
    code, _, err = vitrina(*db, "show", "DRY-1", "-c", "ecommerce", "-l", "en_US")
    assert code == 1 and "no product with SKU 'DRY-1'" in err


def test_show_json_and_table(db: list[str]) -> None:
    code, out, _ = vitrina(
        *db,
        "show",
        "HP-ECHO-RED",
        "--channel",
        "ecommerce",
        "--locale",
        "pl_PL",
        "--at",
        "2026-12-01T10:00:00+01:00",
        "--json",
    )
    assert code == 0
    view = json.loads(out)
    assert view["price"]["currency"] == "PLN" and view["sale"]["price"]["formatted"].endswith("zł")
    assert view["group"] == "HP-ECHO"
    code, out, _ = vitrina(
        *db, "show", "HP-ECHO-RED", "-c", "ecommerce", "-l", "de_DE", "--audience", "technician"
    )
    assert code == 0 and "Impedanz" in out


def test_show_bad_moment_names_the_option(db: list[str]) -> None:
    code, _, err = vitrina(
        *db, "show", "KT-K10", "-c", "ecommerce", "-l", "en_US", "--at", "tomorrow"
    )
    assert code == 2 and "--at" in err


def test_completeness_json(db: list[str]) -> None:
    code, out, _ = vitrina(*db, "completeness", "--channel", "ecommerce", "--json")
    rows = json.loads(out)
    assert code == 0 and len(rows) == 5
    assert all(r["total"] == 60 for r in rows)
    assert any(["VC-V5", ["description"]] in r["incomplete"] for r in rows)


def test_export(db: list[str], tmp_path: Path) -> None:
    code, _out, _ = vitrina(*db, "export", str(tmp_path / "exp"), "--format", "jsonl")
    assert code == 0 and (tmp_path / "exp" / "products.jsonl").is_file()


def test_init_and_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VITRINA_DB", raising=False)
    code, _out, _ = vitrina("init")
    assert code == 0 and (tmp_path / "vitrina.toml").is_file()
    assert (tmp_path / "vitrina.db").is_file()
    (tmp_path / "vitrina.toml").write_text("[catalogue]\ndb = 3\n")
    code, _, err = vitrina("summary")
    assert code == 2 and "catalogue.db: expected a string" in err
    (tmp_path / "vitrina.toml").write_text("[catalogue]\ndatabase = 'x'\n")
    code, _, err = vitrina("summary")
    assert code == 2 and "catalogue.database: unknown key" in err


def test_unreachable_database_is_a_clear_error() -> None:
    code, _, err = vitrina("--db", "postgresql://nobody:x@127.0.0.1:1/none", "summary")
    assert code == 2 and "cannot open postgresql+psycopg://nobody:***@127.0.0.1:1/none" in err


def test_demo(tmp_path: Path, example_dir: Path) -> None:
    code, out, _ = vitrina("demo", "--source", str(example_dir), "--out", str(tmp_path / "out"))
    assert code == 0, out
    assert "Completeness" in out and (tmp_path / "out" / "catalogue.db").is_file()
