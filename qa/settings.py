"""One settings object, read from the environment in one place and passed down."""

from __future__ import annotations

import dataclasses
import difflib
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


def _default_home() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "qa"


@dataclass(frozen=True)
class Settings:
    """Every knob of qa. Build with `Settings.from_env(**overrides)`; fields document themselves."""

    articles_dir: Path = field(
        default=DEFAULT_ARTICLES, metadata={"env": "QA_ARTICLES", "doc": "Folder of articles."}
    )
    home: Path = field(
        default_factory=_default_home,
        metadata={"env": "QA_HOME", "doc": "Where joined model files and the local index live."},
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
        default=60.0, metadata={"env": "QA_LLM_TIMEOUT", "doc": "Seconds per LLM request."}
    )
    n_ctx: int = field(
        default=2048, metadata={"env": "QA_N_CTX", "doc": "Context window of the local model."}
    )
    prompt_cache_mb: int = field(
        default=512,
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
        for f in dataclasses.fields(cls):
            name = f.metadata.get("env")
            raw = env.get(name) if name else None
            if raw is not None and raw.strip() != "":
                values[f.name] = _convert(f, raw.strip())
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for k, v in overrides.items():
            if k not in fields:
                close = difflib.get_close_matches(k, fields, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"unknown setting {k!r}{hint}")
            if v is not None:
                values[k] = _convert(fields[k], v.strip(), k) if isinstance(v, str) else v
        for k in ("articles_dir", "home", "model_path"):
            if values.get(k) is not None:
                values[k] = Path(values[k]).expanduser()
        return cls(**values)

    def __post_init__(self) -> None:
        if self.backend not in ("auto", "local", "openai"):
            raise ConfigError(f"QA_BACKEND must be auto, local or openai, not {self.backend!r}")
        from .weights import MODELS

        if self.local_model not in MODELS:
            raise ConfigError(f"unknown local model {self.local_model!r}; choose one of: "
                              f"{', '.join(MODELS)}")
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            kind = _number_kind(f)
            if kind and (isinstance(value, bool)
                         or not isinstance(value, int if kind is int else int | float)):
                what = "a whole number" if kind is int else "a number"
                raise ConfigError(f"{f.name} must be {what}, not {value!r}")
        for name in ("n_ctx", "n_threads", "chunk_tokens", "top_k", "candidate_k",
                     "source_tokens", "max_answer_tokens", "max_question_chars"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be a positive number, not {getattr(self, name)}")
        if self.n_ctx < 512:
            raise ConfigError(f"n_ctx must be at least 512 tokens (the instructions alone take "
                              f"about 250), not {self.n_ctx}")
        if not 0 <= self.temperature <= 2:
            raise ConfigError(f"temperature must be between 0 and 2, not {self.temperature}")
        if self.prompt_cache_mb < 0:
            raise ConfigError(f"prompt_cache_mb must be 0 or more, not {self.prompt_cache_mb}")

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


def _convert(f: dataclasses.Field, raw: str, label: str | None = None) -> Any:
    kind = _number_kind(f)
    try:
        return kind(raw) if kind else raw
    except ValueError:
        label = label or f.metadata["env"]
        raise ConfigError(f"{label} must be a number, not {raw!r}") from None


def get_settings(settings: Settings | dict | None = None) -> Settings:
    """Normalise what callers pass: None (environment), a dict of overrides, or Settings."""
    if settings is None:
        return Settings.from_env()
    if isinstance(settings, dict):
        return Settings.from_env(**settings)
    if isinstance(settings, Settings):
        return settings
    raise ConfigError(f"settings must be a Settings, a dict or None, not {type(settings).__name__}")
