"""A non-editable install (`pip install .`) carries the prompts, seeds and question set and works from any folder."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.slow
CHECK = """
import bot, sys
from pathlib import Path
from bot.core.prompting import Templates
from bot.resources import seed_questions, seeds_dir
assert Path(bot.__file__).is_relative_to(sys.argv[1]), bot.__file__
Templates.load()
assert seeds_dir().is_relative_to(sys.argv[1]) and any(seeds_dir().glob("*.txt")) and seed_questions().is_file()
print("ok")
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """newsbot installed with `pip install --target` from a copy of the sources (the build leaves the checkout clean)."""
    pytest.importorskip("wheel", reason="building without isolation needs the wheel package (pip install -e '.[test]')")
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for name in ("bot", "retrieval", "prompts", "seeds"):
        shutil.copytree(ROOT / name, src / name, ignore=shutil.ignore_patterns("__pycache__"))
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
                          "--target", str(tmp / "site"), str(src)], capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    return tmp / "site"


def _env(site: Path, data: Path) -> dict:
    """Only the installed copy on the path: not this checkout."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH" and not k.startswith("NEWSBOT_")}
    return {**env, "PYTHONPATH": str(site), "NEWSBOT_DATA_DIR": str(data)}


def test_the_install_holds_the_data_files(installed):
    assert sorted(p.name for p in (installed / "prompts").glob("*.txt")) == sorted(p.name for p in (ROOT / "prompts").glob("*.txt"))
    assert sorted(p.name for p in (installed / "seeds").glob("*.txt")) == sorted(p.name for p in (ROOT / "seeds").glob("*.txt"))
    assert (installed / "retrieval" / "quality" / "sets" / "seed_questions.jsonl").is_file()


def test_prompts_and_seeds_are_found_from_another_folder(installed, tmp_path):
    run = subprocess.run([sys.executable, "-c", CHECK, str(installed)], cwd=tmp_path, env=_env(installed, tmp_path / "data"),
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0 and run.stdout == "ok\n", run.stderr


def test_ingest_from_another_folder_indexes_the_installed_seeds(installed, tmp_path):
    run = subprocess.run([sys.executable, "-m", "bot", "ingest", "--json"], cwd=tmp_path, env=_env(installed, tmp_path / "data"),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    assert report["documents"] > 0 and report["chunks"] == report["added"] > 0 and not report["skipped"]
