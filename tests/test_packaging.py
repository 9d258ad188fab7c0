"""A wheel built from the project carries the prompts, demo articles and eval sets, so a
pip-installed qa (not a checkout) works out of the box."""

import shutil
import subprocess
import sys
import zipfile

from qa.evaluate import load_eval_set
from qa.settings import PROJECT_ROOT

INSTALLED = """
import sys
from pathlib import Path
import qa
from qa.corpus import article_files
from qa.evaluate import DEFAULT_EVAL_PATH, load_eval_set
from qa.prompt import _PLACEHOLDERS, template
from qa.settings import DEFAULT_ARTICLES, PROMPTS_DIR

site = Path(sys.argv[1]).resolve()
assert Path(qa.__file__).resolve().is_relative_to(site), qa.__file__
for path in (PROMPTS_DIR, DEFAULT_ARTICLES, DEFAULT_EVAL_PATH):
    assert path.resolve().is_relative_to(site), path
print(len([template(name) for name in _PLACEHOLDERS]), len(article_files(DEFAULT_ARTICLES)),
      len(load_eval_set(DEFAULT_EVAL_PATH)))
"""


def test_an_installed_wheel_finds_its_prompts_articles_and_eval_set(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, src)
    for name in ("qa", "prompts", "seeds", "evals"):
        shutil.copytree(PROJECT_ROOT / name, src / name,
                        ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--no-index", "-q", "-w", str(tmp_path / "dist"), str(src)],
                   check=True, capture_output=True, timeout=300)
    site = tmp_path / "site"
    with zipfile.ZipFile(next((tmp_path / "dist").glob("qa-*.whl"))) as wheel:
        wheel.extractall(site)
    # run from elsewhere, with the unpacked wheel ahead of this checkout's editable install
    done = subprocess.run([sys.executable, "-c", INSTALLED, str(site)], cwd=tmp_path,
                          env={"PYTHONPATH": str(site), "PATH": "/usr/bin:/bin",
                               "HOME": str(tmp_path)},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    prompts = len(list((PROJECT_ROOT / "prompts").glob("*.txt")))
    seeds = len(list((PROJECT_ROOT / "seeds").glob("*.txt")))
    questions = len(load_eval_set(PROJECT_ROOT / "evals" / "v1.jsonl"))
    assert done.stdout.split() == [str(prompts), str(seeds), str(questions)]
