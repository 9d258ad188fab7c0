"""Eval sets answered by the embedded 1.5B model, held to floors that guard against
regressions: the seed set (evals/v1.jsonl) and a BBC tuning set over the 25 articles it was
written from. Each floor sits at least two questions below what this version measured
(docs/experiments.md has the figures); the targets live in the issues, not here. Never lower
a floor to make a change pass; one moves down only for a trade measured over every set and
written down there.
"""

import shutil
from pathlib import Path

import pytest

from qa.evaluate import load_eval_set, main
from qa.settings import PROJECT_ROOT

from conftest import corpus_of, local_model_settings

pytestmark = pytest.mark.slow

EVALS = PROJECT_ROOT / "evals"

# set: (answerable right, refused or corrected, false refusals at most, citation recall,
#       citation precision), as counts of that set's questions except the two citation shares.
FLOORS = {
    # measured 28 of 42, 18 of 19, 8, 0.82, 0.88. Lowered from (27, …, 8) when the second
    # look was dropped: over all twenty sets it answered 16 questions wrongly for 7 rightly,
    # 3 of the 7 on v1 (docs/experiments.md).
    "v1": (26, 16, 10, 0.70, 0.80),
    "bbc-2": (30, 10, 5, 0.85, 0.90),  # measured 32 of 36, 12 of 14, 3, 0.94, 1.00
}


def shares(name: str, floors: tuple[int, int, int, float, float]) -> dict[str, float]:
    items = load_eval_set(EVALS / f"{name}.jsonl")
    answerable = sum(i.answerable for i in items)
    to_refuse = len(items) - answerable
    right, refused, false_refusals, recall, precision = floors
    return {"min_correct": right / answerable, "min_refusal": refused / to_refuse,
            "max_false_refusal": false_refusals / answerable,
            "min_citation_recall": recall, "min_citation_precision": precision}


def articles_of(name: str, into: Path) -> Path:
    """The articles the set was written from, copied out of their corpus into `into`."""
    corpus = corpus_of(f"{name}.jsonl")
    listing = EVALS / f"{name}.articles.txt"
    if not listing.exists():
        return corpus
    for rel in listing.read_text(encoding="utf-8").split():
        (into / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(corpus / rel, into / rel)
    return into


@pytest.mark.parametrize("name", list(FLOORS))
def test_eval_set_holds_its_floors(name, session_home, tmp_path):
    settings = local_model_settings(session_home)
    if name != "v1":
        settings = settings.replace(articles_dir=articles_of(name, tmp_path / "articles"),
                                    home=tmp_path / "home")
    lines: list[str] = []
    code = main(settings, eval_path=EVALS / f"{name}.jsonl",
                out_dir=PROJECT_ROOT / "test-artifacts" / f"eval-{name}", compare=None,
                limit=None, echo=lines.append, progress=False, **shares(name, FLOORS[name]))
    print("\n".join(lines))
    assert code == 0, "\n".join(line for line in lines if line.startswith("FAIL"))
