"""Keep every library offline (no hub downloads, no tiktoken fetch, no analytics), and set
the environment the libraries read when they load."""

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
    # torch's OpenMP threads spin while they wait for each other; on a machine busy with other
    # work, a spinning thread waits on one the kernel has set aside, and embedding on 2 cores
    # ran at a third of the speed (20 against 70 passages/s), one question's embedding at 520
    # against 19 ms. Sleeping instead costs a few microseconds per step. Read when OpenMP
    # loads, so it must be set before torch (or llama.cpp) is imported.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    # Milvus Lite's in-process gRPC logs keepalive chatter ("too_many_pings") to the terminal.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    static = _static_dir()
    if static is not None:
        # llama-index-core ships cl100k_base and o200k_base; tiktoken would download them.
        os.environ.setdefault("TIKTOKEN_CACHE_DIR", str(static / "tiktoken_cache"))
        # ...and NLTK's stopwords and punkt, which LlamaIndex would otherwise try to download.
        os.environ.setdefault("NLTK_DATA", str(static / "nltk_cache"))
