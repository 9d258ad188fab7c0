"""LLM backends behind one interface: a backend streams text; everything else builds on that."""

from __future__ import annotations

import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from pathlib import Path

from .errors import BackendError, ConfigError, ModelError
from .settings import Settings
from .types import Usage

Messages = list[dict[str, str]]


class LLM(ABC):
    """A chat model. Subclasses implement `stream`; `complete` and usage accounting come free."""

    backend: str = ""
    model: str = ""
    context_window: int = 2048

    def __init__(self) -> None:
        self.last_usage = Usage()

    @abstractmethod
    def stream(self, messages: Messages, *, max_tokens: int, temperature: float = 0.0,
               stop: list[str] | None = None) -> Iterator[str]:
        """Yield the reply in text chunks; set `self.last_usage` when done."""

    def complete(self, messages: Messages, **kw) -> str:
        return "".join(self.stream(messages, **kw))

    def ping(self) -> str:
        """A one-word reply, to show the backend answers (for `qa doctor`)."""
        return self.complete([{"role": "user", "content": "Reply with the word: ready"}],
                             max_tokens=4).strip()

    def describe(self) -> str:
        return f"{self.backend} · {self.model}"


def _state_cache(capacity_bytes: int):
    """llama-cpp-python's RAM prompt cache, minus the score matrix it copies into every state
    (n_batch x vocabulary floats, about 150 MB for Qwen2.5) and counts against no budget, so
    30 kept states cost GBs. Without logits_all llama-cpp-python never writes or reads those
    scores (the sampler reads the context's own logits), and load_state broadcasts whatever
    it is given, so one row stands in for them. The budget counts all a state holds."""
    from llama_cpp import LlamaRAMCache

    class StateCache(LlamaRAMCache):
        @property
        def cache_size(self) -> int:
            return sum(st.llama_state_size + st.scores.nbytes + st.input_ids.nbytes
                       for st in self.cache_state.values())

        def __setitem__(self, key, value) -> None:
            value.scores = value.scores[:1].copy()
            super().__setitem__(key, value)

    return StateCache(capacity_bytes=capacity_bytes)


class LocalLLM(LLM):
    """The embedded model, in-process through llama-cpp-python."""

    backend = "local"

    def __init__(self, model_path: Path, *, name: str, n_ctx: int, n_threads: int,
                 prompt_cache_mb: int = 0) -> None:
        super().__init__()
        try:
            from llama_cpp import Llama
        except ImportError as e:  # pragma: no cover - install problem
            raise ModelError(f"llama-cpp-python is not installed: {e}") from None
        self.model = name
        self.context_window = n_ctx
        try:
            self._llama = Llama(model_path=str(model_path), n_ctx=n_ctx, n_threads=n_threads,
                                n_batch=256, verbose=False)
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"cannot load model {model_path}: {e}") from None
        # Without it llama.cpp keeps only the last prompt: an extractive retry (another system
        # prompt) makes the next question pay for the answer prompt again, and questions that
        # retrieve the same passages cannot share them. Measured on the eval set: p50 5.3 s
        # with 512 MB, 6.2 s with 128 MB.
        if prompt_cache_mb:
            self._llama.set_cache(_state_cache(prompt_cache_mb << 20))
        # llama.cpp holds one KV cache; serialise requests from UI workers.
        self._lock = threading.Lock()

    def prompt_cache_bytes(self) -> int:
        """Memory the prompt cache holds now: every kept state with its arrays."""
        cache = self._llama.cache
        return cache.cache_size if cache is not None else 0

    def stream(self, messages: Messages, *, max_tokens: int, temperature: float = 0.0,
               stop: list[str] | None = None) -> Iterator[str]:
        with self._lock:
            prompt_tokens = 0
            completion_tokens = 0
            chunks = self._llama.create_chat_completion(
                messages=messages, max_tokens=max_tokens, temperature=temperature,
                stop=stop or [], stream=True, seed=0,
            )
            for chunk in chunks:
                delta = chunk["choices"][0].get("delta", {}).get("content")
                if delta:
                    completion_tokens += 1
                    yield delta
            # llama.cpp knows the exact prompt length it just evaluated.
            prompt_tokens = self._llama.n_tokens - completion_tokens
            self.last_usage = Usage(max(prompt_tokens, 0), completion_tokens)


class OpenAILLM(LLM):
    """OpenAI, or any OpenAI-compatible server (vLLM, llama.cpp's server, Ollama)."""

    backend = "openai"

    def __init__(self, *, model: str, api_key: str | None, base_url: str | None,
                 timeout_s: float, context_window: int = 8192) -> None:
        super().__init__()
        import openai

        if not api_key and not base_url:
            raise ConfigError("the openai backend needs OPENAI_API_KEY or QA_LLM_BASE_URL")
        self.model = model
        self.base_url = base_url
        self.context_window = context_window
        # Local servers ignore the key, but the client insists on one.
        self._client = openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url,
                                     timeout=timeout_s, max_retries=1)

    def describe(self) -> str:
        return f"openai · {self.model}" + (f" @ {self.base_url}" if self.base_url else "")

    def stream(self, messages: Messages, *, max_tokens: int, temperature: float = 0.0,
               stop: list[str] | None = None) -> Iterator[str]:
        import openai

        where = self.base_url or "api.openai.com"
        usage = None
        n = 0
        try:
            resp = self._client.chat.completions.create(
                model=self.model, messages=messages, max_tokens=max_tokens,
                temperature=temperature, stop=stop or None, stream=True,
                stream_options={"include_usage": True},
            )
            for chunk in resp:
                if getattr(chunk, "usage", None):
                    usage = chunk.usage
                if chunk.choices and chunk.choices[0].delta.content:
                    n += 1
                    yield chunk.choices[0].delta.content
        except openai.AuthenticationError:
            raise BackendError(f"{where} rejected the API key (check OPENAI_API_KEY)") from None
        except openai.NotFoundError:
            raise BackendError(f"{where} has no model {self.model!r} (check QA_LLM_MODEL)"
                               ) from None
        except openai.APITimeoutError:
            raise BackendError(f"{where} did not answer in time (QA_LLM_TIMEOUT)",
                               this_request_only=True) from None
        except openai.APIConnectionError:
            raise BackendError(f"cannot reach the LLM endpoint {where} "
                               "(is the server running? check QA_LLM_BASE_URL)") from None
        except openai.APIStatusError as e:
            raise BackendError(f"{where} answered HTTP {e.status_code}: "
                               f"{_one_line(e.message)}",
                               this_request_only=e.status_code not in (401, 403, 404)) from None
        self.last_usage = (Usage(usage.prompt_tokens, usage.completion_tokens) if usage
                           else Usage(0, n))


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:200]


_cache: dict[tuple, LLM] = {}
_cache_lock = threading.Lock()


def get_llm(settings: Settings) -> LLM:
    """The backend the settings select, built once per process and reused."""
    if settings.resolved_backend == "openai":
        key = ("openai", settings.llm_model, settings.openai_api_key, settings.llm_base_url,
               settings.llm_timeout_s)
    else:
        key = ("local", settings.local_model, str(settings.model_path), settings.n_ctx,
               settings.n_threads, settings.prompt_cache_mb)
    with _cache_lock:
        if key not in _cache:
            _cache[key] = _build(settings)
        return _cache[key]


def _build(settings: Settings) -> LLM:
    if settings.resolved_backend == "openai":
        return OpenAILLM(model=settings.llm_model, api_key=settings.openai_api_key,
                         base_url=settings.llm_base_url, timeout_s=settings.llm_timeout_s)
    from .weights import model_file

    t = time.perf_counter()
    if settings.model_path is not None:
        if not settings.model_path.is_file():
            raise ModelError(f"QA_MODEL_PATH {settings.model_path} is not a file")
        path, name = settings.model_path, settings.model_path.name
    else:
        path, name = model_file(settings.local_model, settings.home), settings.local_model
    llm = LocalLLM(path, name=name, n_ctx=settings.n_ctx, n_threads=settings.n_threads,
                   prompt_cache_mb=settings.prompt_cache_mb)
    llm.load_s = time.perf_counter() - t
    return llm
