"""Shared fixtures. The one fake LLM lives here; every other test path uses real parts."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import qa  # noqa: F401  (sets the offline environment before anything else loads)
from qa.llm import LLM
from qa.settings import PROJECT_ROOT, Settings
from qa.types import Usage

SEEDS = PROJECT_ROOT / "seeds"
# The BBC corpus lives beside the project, never in it (its articles are the BBC's).
BBC = PROJECT_ROOT.parent / "shared" / "corpora" / "bbc"


def corpus_of(eval_set: str) -> Path:
    """The articles an eval set was written from: the BBC corpus for bbc-*.jsonl (skipping
    the test, with the reason printed, where it is absent), else the seeds."""
    if not eval_set.startswith("bbc-"):
        return SEEDS
    if not BBC.is_dir():
        pytest.skip(f"{eval_set} needs the BBC corpus at {BBC}, which is absent")
    return BBC
_ENV = ("OPENAI_API_KEY", "QA_LLM_BASE_URL", "QA_LLM_MODEL", "QA_BACKEND", "QA_HOME",
        "QA_ARTICLES", "QA_MILVUS_URI", "QA_LOCAL_MODEL", "QA_MODEL_PATH", "QA_MODELS_DIR")


class FakeLLM(LLM):
    """A scripted model: `enqueue(reply)`; records every prompt it receives."""

    backend = "fake"
    model = "fake-model"

    def __init__(self, *replies: str) -> None:
        super().__init__()
        self.replies: list[str] = list(replies)
        self.prompts: list[list[dict[str, str]]] = []

    def enqueue(self, *replies: str) -> FakeLLM:
        self.replies.extend(replies)
        return self

    def stream(self, messages, *, max_tokens, temperature=0.0, stop=None) -> Iterator[str]:
        self.prompts.append(messages)
        reply = self.replies.pop(0) if self.replies else qa.REFUSAL
        for word in reply.split(" "):
            yield word + " "
        self.last_usage = Usage(sum(len(m["content"].split()) for m in messages),
                                len(reply.split()))


@pytest.fixture(scope="session")
def session_home(tmp_path_factory) -> Path:
    """One QA_HOME for the run, its models/ the run's QA_MODELS_DIR: the joined model and the
    seeds index are built once."""
    return tmp_path_factory.mktemp("qa-home")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch, session_home):
    """No test sees the developer's keys, endpoints, index or model files."""
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("QA_HOME", str(session_home))
    monkeypatch.setenv("QA_MODELS_DIR", str(session_home / "models"))
    yield


@pytest.fixture
def fake_llm() -> FakeLLM:
    return FakeLLM()


@pytest.fixture
def settings(session_home) -> Settings:
    """Settings over the five seed articles, with the run's shared home."""
    return Settings.from_env(env={}, articles_dir=SEEDS, home=session_home,
                             models_dir=session_home / "models")


@pytest.fixture
def articles(tmp_path) -> Path:
    """A private, writable copy of the seed articles."""
    dst = tmp_path / "articles"
    shutil.copytree(SEEDS, dst)
    return dst


@pytest.fixture(scope="session")
def seeds_retriever(session_home):
    """The real hybrid retriever over the seeds (real embeddings, real Milvus Lite)."""
    from qa.api import get_retriever

    return get_retriever(Settings.from_env(env={}, articles_dir=SEEDS, home=session_home,
                                           models_dir=session_home / "models"))


def local_model_settings(home: Path, **kw) -> Settings:
    return Settings.from_env(env={}, articles_dir=SEEDS, home=home, models_dir=home / "models",
                             backend="local", **kw)


os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
