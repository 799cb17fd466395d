"""The wheel works outside the source tree: package-dir mapping, package data, console script."""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

CHECK = """
import importlib.util, importlib.resources, pathlib, sys
import pim, pim.channels, pim.templates, pim.locales
assert importlib.util.find_spec("channels") is None, "a top-level 'channels' is installed"
site = pathlib.Path(pim.__file__).parent.parent
assert not (site / "channels").exists() and not (site / "templates").exists()
assert "site-packages" in pim.__file__, pim.__file__
assert importlib.resources.files("pim.templates").is_dir()
assert importlib.resources.files("pim.locales").is_dir()
assert importlib.resources.files("pim").joinpath("py.typed").is_file()
print("ok", pim.__version__)
"""


@pytest.mark.slow
def test_wheel_installs_and_runs_in_a_fresh_venv(tmp_path: Path, example_dir: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("vitrina-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    subprocess.run(
        [bin_dir / "python", "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
    )
    env = {k: v for k, v in os.environ.items() if k not in ("VITRINA_DB", "PYTHONPATH")}
    run = tmp_path / "elsewhere"
    run.mkdir()

    def in_venv(program: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [bin_dir / program, *args],
            cwd=run,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )

    help_text = in_venv("vitrina", "--help").stdout
    assert "import" in help_text and "completeness" in help_text
    checked = in_venv("python", "-c", CHECK)
    assert checked.returncode == 0, checked.stderr
    db = ["--db", str(run / "shop.db")]
    imported = in_venv("vitrina", *db, "import", str(example_dir))
    assert imported.returncode == 0, imported.stderr
    shown = in_venv("vitrina", *db, "show", "KT-K10", "-c", "ecommerce", "-l", "ru_RU", "--json")
    assert "Электрический чайник" in shown.stdout

    # The plug-in path: a separately installed package adds a channel.
    plugin = tmp_path / "plugin"
    shutil.copytree(
        ROOT / "examples" / "plugin", plugin, ignore=shutil.ignore_patterns("*.egg-info", "build")
    )
    installed = in_venv("python", "-m", "pip", "install", "--quiet", str(plugin))
    assert installed.returncode == 0, installed.stderr
    listed = in_venv("vitrina", "channels").stdout
    assert "pricelist" in listed and "web" in listed and "pricelist.delimiter" in listed
    published = in_venv(
        "vitrina",
        *db,
        "publish",
        "--out",
        str(run / "out"),
        "-c",
        "web",
        "-c",
        "pricelist",
        "-o",
        "pricelist.only_available=true",
        "--jobs",
        "2",
    )
    assert published.returncode == 0, published.stderr
    manifest = json.loads((run / "out" / "manifest.json").read_text())
    paths = {a["path"] for a in manifest["artifacts"]}
    assert "pricelist/ru_RU/pricelist.csv" in paths and "web/ru_RU/index.json" in paths
    assert any(
        s["reason"] == "out of stock" for s in manifest["skipped"] if s["channel"] == "pricelist"
    )
    with (run / "out/pricelist/ru_RU/pricelist.csv").open(encoding="utf-8-sig") as fh:
        rows = list(csv.DictReader(fh, delimiter=";"))
    kettle = next(r for r in rows if r["sku"] == "KT-K10")
    assert kettle["name"] == "Электрический чайник 1.0 л"
    assert "utm_source=pricelist" in kettle["url"] and "utm_medium=reseller" in kettle["url"]
