"""LLM backends behind one interface: a backend streams text; everything else builds on that."""

from __future__ import annotations

import json
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def _weights_as_mapped() -> Iterator[None]:
    """Load the weights as the file holds them, memory-mapped, not repacked into a copy.
    llama.cpp's CPU backend repacks quantised weights into anonymous memory (about 600 MB for
    the 1.5B model) for faster token generation; on 2 cores that made reading the prompt,
    most of an answer's time, 30% slower (docs/experiments.md). `Llama()` has no argument
    for `llama_model_params.use_extra_bufts`, so its defaults are wrapped while it loads;
    loads are serialised by get_llm's lock."""
    import llama_cpp.llama as module

    default = module.llama_cpp.llama_model_default_params

    def params():
        p = default()
        p.use_extra_bufts = False
        return p

    module.llama_cpp.llama_model_default_params = params
    try:
        yield
    finally:
        module.llama_cpp.llama_model_default_params = default


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
            with _weights_as_mapped():
                self._llama = Llama(model_path=str(model_path), n_ctx=n_ctx,
                                    n_threads=n_threads, n_batch=256, verbose=False)
        except (ValueError, RuntimeError, OSError) as e:
            raise ModelError(f"cannot load model {model_path}: {e}") from None
        # Off by default: every prompt shares one system prompt, and llama.cpp reuses the
        # longest evaluated prefix by itself, while each kept state costs about 15 MB. It
        # only pays when many questions retrieve the same passages.
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
        self._timeout_s = timeout_s
        # Local servers ignore the key, but the client insists on one.
        self._client = openai.OpenAI(api_key=api_key or "not-needed", base_url=base_url,
                                     timeout=timeout_s, max_retries=1)

    def describe(self) -> str:
        return f"openai · {self.model}" + (f" @ {self.base_url}" if self.base_url else "")

    def stream(self, messages: Messages, *, max_tokens: int, temperature: float = 0.0,
               stop: list[str] | None = None) -> Iterator[str]:
        import httpx
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
            with resp:
                kind = resp.response.headers.get("content-type", "no content type")
                chunks = 0
                finished = False
                for chunk in resp:
                    chunks += 1
                    if getattr(chunk, "usage", None):
                        usage = chunk.usage
                    text, done = _delta(chunk)
                    finished = finished or done
                    if text:
                        n += 1
                        yield text
            if not chunks:
                raise BackendError(f"{where} ended its reply without a single answer chunk "
                                   f"(it sent {_one_line(kind)}, not an OpenAI event stream; "
                                   "check QA_LLM_BASE_URL)")
            if not finished:  # a stream without framing reads a dropped connection as its end
                raise BackendError(f"{where} ended the stream before the answer was finished "
                                   "(no finish_reason: the connection may have dropped)",
                                   this_request_only=True)
        except openai.AuthenticationError:
            raise BackendError(f"{where} rejected the API key (check OPENAI_API_KEY)") from None
        except openai.NotFoundError as e:
            if "model" in str(e.message).lower() or e.code == "model_not_found":
                raise BackendError(f"{where} has no model {self.model!r} (check QA_LLM_MODEL)"
                                   ) from None
            raise BackendError(f"{where} has no chat completions endpoint (HTTP 404; check "
                               "QA_LLM_BASE_URL, which usually ends in /v1)") from None
        except openai.APITimeoutError:
            raise BackendError(f"{where} did not answer in time (QA_LLM_TIMEOUT)",
                               this_request_only=True) from None
        except openai.APIConnectionError as e:
            if e.__cause__ is None or isinstance(e.__cause__, httpx.ConnectError):
                why = f"{_one_line(e.__cause__)}; " if e.__cause__ else ""
                raise BackendError(f"cannot reach the LLM endpoint {where} "
                                   f"({why}is the server running? check QA_LLM_BASE_URL)"
                                   ) from None
            raise BackendError(f"{where} accepted the connection, then closed it without "
                               f"answering ({_one_line(e.__cause__)})",
                               this_request_only=True) from None
        except openai.APIStatusError as e:
            raise BackendError(f"{where} answered HTTP {e.status_code}: "
                               f"{_one_line(e.message)}",
                               this_request_only=e.status_code not in (401, 403, 404)) from None
        except openai.APIError as e:  # an error event inside the stream
            raise BackendError(f"{where} stopped the answer with an error: "
                               f"{_one_line(e.message)}", this_request_only=True) from None
        # The client wraps faults of the request, not of the stream it hands back: those
        # surface from httpx, the SSE decoder and json while the answer is read.
        except httpx.TimeoutException:
            raise BackendError(f"{where} went silent in the middle of its reply: nothing came "
                               f"for {self._timeout_s:g} s (QA_LLM_TIMEOUT)",
                               this_request_only=True) from None
        except httpx.HTTPError as e:
            raise BackendError(f"{where} dropped the connection in the middle of the answer "
                               f"({_one_line(e)})", this_request_only=True) from None
        except UnicodeDecodeError as e:
            raise BackendError(f"{where} sent bytes that are not UTF-8 text "
                               f"({e.object[max(e.start - 10, 0):e.start + 10]!r}); "
                               "is it an OpenAI-compatible endpoint?") from None
        except json.JSONDecodeError as e:
            raise BackendError(f"{where} sent an event that is not JSON "
                               f"({_one_line(e.doc)[:60]!r}); is it an OpenAI-compatible "
                               "endpoint?") from None
        except _Malformed as e:
            raise BackendError(f"{where} sent a chunk of the wrong shape: {e}") from None
        self.last_usage = (Usage(usage.prompt_tokens, usage.completion_tokens) if usage
                           else Usage(0, n))


class _Malformed(Exception):
    pass


def _delta(chunk) -> tuple[str | None, bool]:
    """The text a streamed chunk adds, and whether it ends the answer; _Malformed when it is
    not shaped like a chunk. The client builds chunks without validating them, so a wrong
    shape would otherwise fail later, in our code."""
    choices = getattr(chunk, "choices", None)
    if isinstance(choices, list) and not choices:
        return None, False  # the closing chunk that carries only the usage
    choice = choices[0] if isinstance(choices, list) else None
    delta = getattr(choice, "delta", None)
    content = getattr(delta, "content", None)
    finished = getattr(choice, "finish_reason", None) is not None
    if (delta is None and not finished) or not (content is None or isinstance(content, str)):
        shown = _one_line(chunk.to_json(indent=None, warnings=False))[:80]
        what = ("choices[0] holds no text delta" if isinstance(choices, list)
                else "no 'choices' list")
        raise _Malformed(f"{what} in {shown}")
    return content, finished


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
        key = ("local", settings.local_model, str(settings.models_dir), str(settings.model_path),
               settings.n_ctx, settings.n_threads, settings.prompt_cache_mb)
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
        path, name = model_file(settings.local_model, settings.models_dir), settings.local_model
    try:
        llm = LocalLLM(path, name=name, n_ctx=settings.n_ctx, n_threads=settings.n_threads,
                       prompt_cache_mb=settings.prompt_cache_mb)
    except ModelError as e:
        if settings.n_ctx <= Settings.n_ctx:
            raise
        raise ModelError(f"{e} (a context of {settings.n_ctx} tokens, set by n_ctx or "
                         "QA_N_CTX: a smaller one needs less memory)") from None
    llm.load_s = time.perf_counter() - t
    return llm
