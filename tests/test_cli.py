"""The command line as a user runs it: exit codes, messages, JSON for scripts."""

from __future__ import annotations

import csv
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import jsonschema
import pytest
from helpers import PRODUCT_HEADER, product_row, write_csv
from typer.testing import CliRunner

from pim.cli import app
from pim.config import load_config
from pim.manifest import manifest_schema
from pim.publishing import channel_options, publish_lock
from pim.registry import channel_names, load_channel

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
    assert code == 0 and len(rows) == 6  # en, de, pl, bg, ru, he
    assert all(r["total"] == 60 for r in rows)
    assert any(["VC-V5", ["description"]] in r["incomplete"] for r in rows)


def test_export(db: list[str], tmp_path: Path) -> None:
    code, _out, _ = vitrina(*db, "export", str(tmp_path / "exp"), "--format", "jsonl")
    assert code == 0 and (tmp_path / "exp" / "products.jsonl").is_file()


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        (
            "[publish]\njobs = 0\n",
            "vitrina.toml: publish.jobs: Input should be greater than or equal to 1",
        ),
        (
            "[theme]\nprimary_color = 'blue'\n",
            "vitrina.toml: theme.primary_color: expected a colour like #1d3557 (got 'blue')",
        ),
        (
            "[publish]\nlanding_url = '{base_url}/{slug}/'\n",
            "vitrina.toml: publish.landing_url: the pattern must contain {sku}",
        ),
        (
            "[publish]\nlanding_url = '{base_url}/{lang}/{sku}'\n",
            "vitrina.toml: publish.landing_url: bad pattern",
        ),
        (
            "[campaigns.x]\nstart = 2026-12-01\nend = 2026-11-01\n",
            "vitrina.toml: campaigns.x.end: ends before it starts",
        ),
        ("[channels.web]\nindnt = true\n", "vitrina.toml: channels.web.indnt: unknown option"),
        (
            "[channels.web]\nindent = 'sideways'\n",
            "vitrina.toml: channels.web.indent: Input should be a valid boolean",
        ),
        ("[publish\n", "vitrina.toml: config: not valid TOML"),
    ],
)
def test_config_errors_name_file_and_key(
    db: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, toml: str, message: str
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vitrina.toml").write_text(toml)
    code, _, err = vitrina(*db, "publish", "-c", "web", "-l", "de_DE")
    assert code == 2 and message in " ".join(err.split()), err
    assert not (tmp_path / "out").exists()


def test_init_and_config_errors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VITRINA_DB", raising=False)
    code, _out, _ = vitrina("init")
    assert code == 0 and (tmp_path / "vitrina.toml").is_file()
    assert (tmp_path / "vitrina.db").is_file()
    (tmp_path / "vitrina.toml").write_text("[catalogue]\ndb = 3\n")
    code, _, err = vitrina("summary")
    assert code == 2 and "catalogue.db: Input should be a valid string" in err
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
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    jsonschema.validate(manifest, manifest_schema())
    published = {(a["channel"], a["locale"]) for a in manifest["artifacts"]}
    for name in channel_names():
        for locale in manifest["channels"][name]["locales"]:
            assert (name, locale) in published
    assert "Open first:" in out and "Done in" in out
    assert "web/en_US/index.html" in out.replace("\n", "")
    code, out, _ = vitrina("audit", str(tmp_path / "out"))
    assert code == 0 and "every channel agrees" in out, out


CONFIG = """\
[publish]
out = "site"
base_url = "https://cfg.example"

[channels.web]
indent = true

[campaigns.winter]
start = 2026-11-20
end = 2027-01-06
code = "WINTER26"
"""


def test_publish_reads_config_options_and_campaign(
    db: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "vitrina.toml").write_text(CONFIG)
    args = ["-c", "web", "-l", "de_DE", "-j", "1", "--at", "2026-12-01T10:00+01:00"]
    code, out, err = vitrina(
        *db, "publish", *args, "-o", "web.indent=false", "--campaign", "winter", "--json"
    )
    assert code == 0, err
    manifest = json.loads(out)
    jsonschema.validate(manifest, manifest_schema())
    assert manifest["channels"]["web"]["options"]["indent"] is False
    assert manifest["channels"]["web"]["locales"] == ["de_DE"]
    assert manifest["context"]["moment"] == "2026-12-01T10:00:00+01:00"
    text = (tmp_path / "site/web/de_DE/products/KT-K10.json").read_text()
    assert text.count("\n") == 1, "indent=false from the command line wins over the file"
    doc = json.loads(text)
    assert doc["url"].startswith("https://cfg.example/de_DE/p/")
    assert parse_qs(urlsplit(doc["link"]).query) == {
        "utm_source": ["shopfront"],
        "utm_medium": ["web"],
        "utm_campaign": ["winter"],
        "code": ["WINTER26"],
    }
    code, out, _ = vitrina(*db, "publish", *args)
    assert code == 0 and "web" in out and "de_DE" in out
    assert "Open first: " in out and "site/web/de_DE/index.html" in out.replace("\n", "")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-o", "web"], "--option: expected CHANNEL.OPTION=VALUE, got 'web'"),
        (["-o", "web.nope=1"], "--option web.nope: unknown option"),
        (["-o", "web.indent=sideways"], "--option web.indent: Input should be a valid boolean"),
        (["-o", "wbe.indent=false"], "channels.wbe: options for a channel that is not installed"),
        (["--campaign", "summer"], "campaigns.summer: no such campaign"),
        (["--at", "yesterday"], "--at: expected a date or date-time"),
        (["-c", "nope"], "unknown channel 'nope'; installed: "),
        (["-l", "xx_XX"], "'xx_XX' is not a locale of catalogue channel 'ecommerce'"),
    ],
)
def test_publish_errors_name_the_option(
    db: list[str], tmp_path: Path, args: list[str], message: str
) -> None:
    target = tmp_path / "out"
    code, _, err = vitrina(*db, "publish", "-c", "web", "--out", str(target), *args)
    assert code == 2 and message in err.replace("\n", ""), err
    assert not target.exists()


def test_channels_lists_options() -> None:
    code, out, _ = vitrina("channels")
    assert code == 0 and "web.indent: bool = False" in out
    assert "web.image_sizes: tuple[str, ...] = (" in out
    code, out, _ = vitrina("channels", "--json")
    web = next(c for c in json.loads(out) if c["name"] == "web")
    assert web["per_product"] is True
    assert web["options"]["include_incomplete"] == {"type": "bool", "default": False}


def cli_process(*args: str, cwd: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pim.cli", *args],
        cwd=cwd,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def test_concurrent_publishes_into_one_folder(db: list[str], tmp_path: Path) -> None:
    target = tmp_path / "out"
    publish_args = [*db, "--quiet", "publish", "-c", "web", "--out", str(target), "-j", "1"]
    with publish_lock(target):
        refused = cli_process(*publish_args, cwd=tmp_path)
        _, stderr = refused.communicate(timeout=120)
        assert refused.returncode == 3
        assert f"another publication into {target} is running" in " ".join(stderr.split())
    both = [cli_process(*publish_args, "--wait", "300", cwd=tmp_path) for _ in range(2)]
    for process in both:
        _, stderr = process.communicate(timeout=300)
        assert process.returncode == 0, stderr
    manifest = json.loads((target / "manifest.json").read_text())
    for artifact in manifest["artifacts"]:
        data = (target / artifact["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == artifact["sha256"]
    assert not list(tmp_path.glob(".out.staging-*"))


def test_the_starter_configuration_is_valid_with_its_examples_enabled(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, _ = vitrina("init")
    assert code == 0
    text = (tmp_path / "vitrina.toml").read_text()
    uncommented = "\n".join(
        line[2:] if line.startswith("# ") and ("=" in line or line.startswith("# [")) else line
        for line in text.splitlines()
    )
    (tmp_path / "vitrina.toml").write_text(uncommented)
    code, _out, err = vitrina("--db", str(tmp_path / "x.db"), "summary", "--json")
    assert code == 0, err
    config = load_config(tmp_path / "vitrina.toml")
    assert set(config.channel_options) == {"web", "pdf", "feeds", "kiosk"}
    assert "winter" in config.campaigns
    for name, values in config.channel_options.items():
        channel_options(load_channel(name), values)  # raises ConfigError if invalid


def test_translations_status(db: list[str], example_dir: Path) -> None:
    code, out, err = vitrina(*db, "translations", "status", "--json")
    assert code == 0, err
    status = {s["locale"]: s for s in json.loads(out)}
    assert set(status) == {"en_US", "de_DE", "pl_PL", "bg_BG", "ru_RU", "he_IL"}
    assert status["he_IL"]["ui_language"] == "he" and status["he_IL"]["ui_missing"] == []
    untranslated = []
    for name in ("products.csv", "product_models.csv"):
        with (example_dir / name).open(encoding="utf-8") as fh:
            for r in csv.DictReader(fh, delimiter=";"):
                if r["name-en_US"] and not r["name-bg_BG"]:
                    untranslated.append(r.get("sku") or r["code"])
    gaps = {g["attribute"]: g for g in status["bg_BG"]["attributes"]}
    assert gaps["name"]["missing"] == len(untranslated) > 0
    assert set(gaps["name"]["skus"]) <= set(untranslated)
    assert not status["en_US"]["attributes"] and status["en_US"]["complete"]
    code, out, _ = vitrina(*db, "translations", "status", "--locale", "bg_BG")
    assert code == 0 and "bg_BG: name missing for" in out and "de_DE" not in out
    code, _, err = vitrina(*db, "translations", "status", "--locale", "xx_XX")
    assert code != 0 and "unknown locale 'xx_XX'" in err


def test_interface_strings_missing_per_language(monkeypatch: pytest.MonkeyPatch) -> None:
    from pim import translation_status as ts
    from pim.structure import Structure

    messages = ts.interface_messages()
    monkeypatch.setattr(ts, "interface_messages", lambda: [*messages, "A string nobody translated"])
    structure = Structure.model_validate({"locales": {"en_US": {}}})
    by_locale = {s.locale: s for s in ts.translation_status(structure, [], ["de_AT", "fr_FR"])}
    assert by_locale["de_AT"].ui_language == "de"
    assert by_locale["de_AT"].ui_missing == ["A string nobody translated"]
    assert by_locale["fr_FR"].ui_language is None
    assert len(by_locale["fr_FR"].ui_missing) == len(messages) + 1


def test_errors_quote_catalogue_text_as_it_is(db: list[str]) -> None:
    """Square brackets in a SKU are not console markup: the message shows them."""
    code, _, err = vitrina(*db, "show", "A[b]x[/b]", "-c", "ecommerce", "-l", "de_DE")
    assert code != 0 and "'A[b]x[/b]'" in err


def test_publish_at_a_future_moment_leaves_the_live_output(
    db: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, _, err = vitrina(
        *db, "--quiet", "publish", "-c", "web", "-l", "de_DE", "--at", "2026-12-01T09:00+00:00"
    )
    assert code == 0, err
    live = (tmp_path / "out" / "manifest.json").read_bytes()
    # KT-K17's winter sale ends on 2027-01-06: the week after, the web shows its full price
    code, _, err = vitrina(
        *db, "publish", "-c", "web", "-l", "de_DE", "--at", "2027-01-10T09:00+01:00"
    )
    assert code == 0, err
    assert "out-at-20270110T0800Z" in err and "stays as it is" in err
    assert (tmp_path / "out" / "manifest.json").read_bytes() == live
    later = tmp_path / "out-at-20270110T0800Z" / "web" / "de_DE" / "products" / "KT-K17.json"
    now = tmp_path / "out" / "web" / "de_DE" / "products" / "KT-K17.json"
    assert json.loads(now.read_text())["sale"] is not None
    assert json.loads(later.read_text())["sale"] is None
    assert json.loads(later.read_text())["current_price"]["formatted"] == "59,99\xa0€"
    # asked for explicitly, the future publication goes where --out says
    code, _, err = vitrina(
        *db, "--quiet", "publish", "-c", "web", "-l", "de_DE", "--at", "2027-01-10", "--out", "out"
    )
    assert code == 0, err
    assert (tmp_path / "out" / "manifest.json").read_bytes() != live
