"""The wheel works outside the source tree: package-dir mapping, package data, console script."""

from __future__ import annotations

import os
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
    help_text = subprocess.run(
        [bin_dir / "vitrina", "--help"],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "import" in help_text and "completeness" in help_text
    checked = subprocess.run(
        [bin_dir / "python", "-c", CHECK],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    imported = subprocess.run(
        [bin_dir / "vitrina", "--db", str(run / "shop.db"), "import", str(example_dir)],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert imported.returncode == 0, imported.stderr
    shown = subprocess.run(
        [
            bin_dir / "vitrina",
            "--db",
            str(run / "shop.db"),
            "show",
            "KT-K10",
            "-c",
            "ecommerce",
            "-l",
            "ru_RU",
            "--json",
        ],
        cwd=run,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Электрический чайник" in shown
