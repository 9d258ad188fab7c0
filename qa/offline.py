"""Keep every library offline: no hub downloads, no tiktoken fetch, no analytics."""

import os
from importlib.util import find_spec
from pathlib import Path


def _static_dir() -> Path | None:
    spec = find_spec("llama_index.core")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "_static"


def apply() -> None:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    # Milvus Lite's in-process gRPC logs keepalive chatter ("too_many_pings") to the terminal.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    static = _static_dir()
    if static is not None:
        # llama-index-core ships cl100k_base and o200k_base; tiktoken would download them.
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(static / "tiktoken_cache"))
        # ...and NLTK's stopwords and punkt, which LlamaIndex would otherwise try to download.
        os.environ.setdefault("NLTK_DATA", str(static / "nltk_cache"))
