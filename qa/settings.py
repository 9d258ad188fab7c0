"""One settings object, read from the environment in one place and passed down."""

from __future__ import annotations

import contextvars
import dataclasses
import difflib
import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def shipped(name: str) -> Path:
    """A folder kept at the top of the source tree (prompts, seeds, evals): there in a
    checkout or an editable install, under qa/_data/ in an installed wheel."""
    packaged = Path(__file__).resolve().parent / "_data" / name
    return packaged if packaged.is_dir() else PROJECT_ROOT / name


PROMPTS_DIR = shipped("prompts")
DEFAULT_ARTICLES = shipped("seeds")

Backend = Literal["auto", "local", "openai"]


# The largest context any embedded model was trained for is 32768 tokens; a GGUF from
# QA_MODEL_PATH may support more, but past this the KV cache alone takes several GB.
MAX_N_CTX = 131072

# What an error calls each field while `from_env` builds Settings: the environment variable a
# value came from, else the field name (a Python dict or a flag). A context variable, not a
# field, so that Settings stays a plain value and `replace` errors name the field.
_labels: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("labels",
                                                                                default=None)


def _cache_dir() -> Path:
    return Path(os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")) / "qa"


def _default_home() -> Path:
    return _cache_dir()


def _default_models_dir() -> Path:
    return _cache_dir() / "models"


@dataclass(frozen=True)
class Settings:
    """Every knob of qa. Build with `Settings.from_env(**overrides)`; fields document themselves."""

    articles_dir: Path = field(
        default=DEFAULT_ARTICLES, metadata={"env": "QA_ARTICLES", "doc": "Folder of articles."}
    )
    home: Path = field(
        default_factory=_default_home,
        metadata={"env": "QA_HOME", "doc": "Where the local index lives."},
    )
    models_dir: Path = field(
        default_factory=_default_models_dir,
        metadata={
            "env": "QA_MODELS_DIR",
            "doc": "Where model files are joined and checked, shared by every QA_HOME "
            "(default ~/.cache/qa/models).",
        },
    )
    milvus_uri: str | None = field(
        default=None,
        metadata={
            "env": "QA_MILVUS_URI",
            "doc": "Milvus server/cluster URI (http://host:19530) or a Milvus Lite .db path. "
            "Unset: a Milvus Lite file under QA_HOME/index.",
        },
    )
    milvus_token: str | None = field(
        default=None, metadata={"env": "QA_MILVUS_TOKEN", "doc": "Milvus token (user:password)."}
    )
    backend: Backend = field(
        default="auto",
        metadata={
            "env": "QA_BACKEND",
            "doc": "local, openai, or auto (openai when a key or base URL is set, else local).",
        },
    )
    local_model: str = field(
        default="qwen2.5-coder-1.5b",
        metadata={"env": "QA_LOCAL_MODEL", "doc": "Embedded model name (see `qa doctor`)."},
    )
    model_path: Path | None = field(
        default=None,
        metadata={"env": "QA_MODEL_PATH", "doc": "A GGUF file to use instead of a named model."},
    )
    openai_api_key: str | None = field(
        default=None, metadata={"env": "OPENAI_API_KEY", "doc": "Key for the openai backend."}
    )
    llm_base_url: str | None = field(
        default=None,
        metadata={"env": "QA_LLM_BASE_URL", "doc": "OpenAI-compatible endpoint (…/v1)."},
    )
    llm_model: str = field(
        default="gpt-4o-mini",
        metadata={"env": "QA_LLM_MODEL", "doc": "Model name for the openai backend."},
    )
    llm_timeout_s: float = field(
        default=60.0,
        metadata={"env": "QA_LLM_TIMEOUT",
                  "doc": "Seconds the LLM endpoint may keep us waiting: to answer, or for the "
                  "next part of a streamed answer."},
    )
    n_ctx: int = field(
        default=2048, metadata={"env": "QA_N_CTX", "doc": "Context window of the local model."}
    )
    prompt_cache_mb: int = field(
        default=0,
        metadata={"env": "QA_PROMPT_CACHE_MB",
                  "doc": "Memory the local model keeps to reuse prompt prefixes (0: off)."},
    )
    n_threads: int = field(
        default_factory=lambda: os.cpu_count() or 2,
        metadata={"env": "QA_THREADS", "doc": "CPU threads for the local model."},
    )
    chunk_tokens: int = field(
        default=80, metadata={"env": "QA_CHUNK_TOKENS", "doc": "Passage size in tokens."}
    )
    top_k: int = field(
        default=8,
        metadata={"env": "QA_TOP_K", "doc": "Passages whose best sentences go in the prompt."},
    )
    candidate_k: int = field(
        default=30, metadata={"env": "QA_CANDIDATE_K", "doc": "Passages fetched per retriever."}
    )
    source_tokens: int = field(
        default=360,
        metadata={"env": "QA_SOURCE_TOKENS", "doc": "Token budget for the numbered sources."},
    )
    max_answer_tokens: int = field(
        default=96, metadata={"env": "QA_MAX_ANSWER_TOKENS", "doc": "Most tokens in an answer."}
    )
    max_question_chars: int = field(
        default=1000, metadata={"env": "QA_MAX_QUESTION_CHARS", "doc": "Longest question."}
    )
    temperature: float = field(
        default=0.0, metadata={"env": "QA_TEMPERATURE", "doc": "Sampling temperature."}
    )

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None, **overrides: Any) -> Settings:
        """Settings from environment variables, then keyword overrides (flags) on top."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        labels: dict[str, str] = {}
        for f in dataclasses.fields(cls):
            name = f.metadata.get("env")
            raw = env.get(name) if name else None
            if raw is not None and raw.strip() != "":
                values[f.name] = _convert(f, raw.strip(), name)
                labels[f.name] = name
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for k, v in overrides.items():
            if k not in fields:
                close = difflib.get_close_matches(k, fields, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"unknown setting {k!r}{hint}")
            if v is not None:
                values[k] = _convert(fields[k], v.strip(), k) if isinstance(v, str) else v
                labels.pop(k, None)
        for k in ("articles_dir", "home", "models_dir", "model_path"):
            if values.get(k) is not None:
                values[k] = Path(values[k]).expanduser()
        token = _labels.set(labels)
        try:
            return cls(**values)
        finally:
            _labels.reset(token)

    def __post_init__(self) -> None:
        labels = _labels.get() or {}

        def called(name: str) -> str:
            return labels.get(name, name)

        if self.backend not in ("auto", "local", "openai"):
            raise ConfigError(f"{called('backend')} must be auto, local or openai, "
                              f"not {self.backend!r}")
        from .weights import MODELS

        if self.local_model not in MODELS:
            raise ConfigError(f"unknown model {self.local_model!r} in {called('local_model')}; "
                              f"choose one of: {', '.join(MODELS)}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind = _number_kind(f)
            if kind and (isinstance(value, bool)
                         or not isinstance(value, int if kind is int else int | float)):
                what = "a whole number" if kind is int else "a number"
                raise ConfigError(f"{called(f.name)} must be {what}, not {value!r}")
            if kind is float and not math.isfinite(value):
                raise ConfigError(f"{called(f.name)} must be a finite number, not {value!r}")
        for name in ("n_ctx", "n_threads", "chunk_tokens", "top_k", "candidate_k",
                     "source_tokens", "max_answer_tokens", "max_question_chars"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{called(name)} must be a positive number, "
                                  f"not {getattr(self, name)}")
        if self.n_ctx < 512:
            raise ConfigError(f"{called('n_ctx')} must be at least 512 tokens (the instructions "
                              f"alone take about 250), not {self.n_ctx}")
        if self.n_ctx > MAX_N_CTX:
            raise ConfigError(f"{called('n_ctx')} must be at most {MAX_N_CTX} tokens, "
                              f"not {self.n_ctx}")
        trained = MODELS[self.local_model].context_length
        if self.resolved_backend == "local" and self.model_path is None and self.n_ctx > trained:
            raise ConfigError(f"{called('n_ctx')} must be at most {trained} tokens for "
                              f"{self.local_model}, the context it was trained for, "
                              f"not {self.n_ctx}")
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"{called('temperature')} must be between 0 and 2, "
                              f"not {self.temperature}")
        if self.prompt_cache_mb < 0:
            raise ConfigError(f"{called('prompt_cache_mb')} must be 0 or more, "
                              f"not {self.prompt_cache_mb}")
        if self.llm_timeout_s <= 0:
            raise ConfigError(f"{called('llm_timeout_s')} must be a positive number of "
                              f"seconds, not {self.llm_timeout_s:g}")

    @property
    def resolved_backend(self) -> Literal["local", "openai"]:
        if self.backend != "auto":
            return self.backend
        return "openai" if (self.openai_api_key or self.llm_base_url) else "local"

    def replace(self, **changes: Any) -> Settings:
        return dataclasses.replace(self, **changes)


def _number_kind(f: dataclasses.Field) -> type | None:
    kind = f.type if isinstance(f.type, str) else getattr(f.type, "__name__", "")
    return int if kind.startswith("int") else float if kind.startswith("float") else None


def _convert(f: dataclasses.Field, raw: str, label: str) -> Any:
    kind = _number_kind(f)
    try:
        return kind(raw) if kind else raw
    except ValueError:
        try:
            float(raw)
        except ValueError:
            raise ConfigError(f"{label} must be a number, not {raw!r}") from None
        raise ConfigError(f"{label} must be a whole number, not {raw!r}") from None


def get_settings(settings: Settings | dict | None = None) -> Settings:
    """Normalise what callers pass: None (environment), a dict of overrides, or Settings."""
    if settings is None:
        return Settings.from_env()
    if isinstance(settings, dict):
        return Settings.from_env(**settings)
    if isinstance(settings, Settings):
        return settings
    raise ConfigError(f"settings must be a Settings, a dict or None, not {type(settings).__name__}")
