"""The whole eval suite with the embedded 1.5B model, held to the project's floors:
correctness and refusal 0.85, false refusals at most 0.10, citation precision and recall
0.85. This version measures 36 of 42 answerable right (0.857) on evals/v1.jsonl (see the
README's Evaluation section): one answer lost fails the run. Never lower them to make a
change pass.
"""

import pytest

from qa.evaluate import main
from qa.settings import PROJECT_ROOT

from conftest import local_model_settings

pytestmark = pytest.mark.slow

FLOORS = {
    "min_correct": 0.85,
    "min_refusal": 0.85,
    "max_false_refusal": 0.10,
    "min_citation_precision": 0.85,
    "min_citation_recall": 0.85,
}


def test_eval_suite_holds_its_floors(session_home):
    lines: list[str] = []
    code = main(local_model_settings(session_home), eval_path=None,
                out_dir=PROJECT_ROOT / "test-artifacts" / "eval", compare=None, limit=None,
                echo=lines.append, **FLOORS)
    print("\n".join(lines))
    assert code == 0, "\n".join(line for line in lines if line.startswith("FAIL"))
