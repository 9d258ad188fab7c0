"""The Milvus Lite index with real embeddings: reuse, rebuild, atomic builds, faults."""

import io
import logging
import os
import subprocess
import sys
import time

import pytest

import qa.index
from qa.errors import ArticlesError, IndexLockedError
from qa.index import open_index
from qa.settings import Settings

ARTICLE = "000_d2369f6f31bc3c4a.txt"
GRAIN = "Grain talks\n\nRussia and China agreed to expand grain trade to 12 million tonnes.\n"


@pytest.fixture
def lite(articles, tmp_path) -> Settings:
    return Settings.from_env(env={}, articles_dir=articles, home=tmp_path / "home")


def collections(idx) -> list[str]:
    return sorted(idx.client.list_collections())


def test_built_once_then_reused(lite):
    first = open_index(lite)
    assert first.built and first.passages >= 40
    again = open_index(lite)
    assert not again.built
    assert again.collection == first.collection
    assert again.passages == first.passages


def test_changed_article_rebuilds_and_drops_the_stale_index(lite):
    old = open_index(lite)
    with (lite.articles_dir / ARTICLE).open("a", encoding="utf-8") as f:
        f.write("\nCorrection: the call took place on Thursday.\n")
    new = open_index(lite)
    assert new.built and new.collection != old.collection
    assert collections(new) == [new.collection]


class CountingEmbedder:
    """The real embedder, counting the passages it is asked to embed."""

    def __init__(self) -> None:
        self.real, self.embedded = qa.index.embedder(), 0

    def get_text_embedding_batch(self, texts):
        self.embedded += len(texts)
        return self.real.get_text_embedding_batch(texts)


def stored(idx) -> dict[str, tuple]:
    rows = idx.client.query(idx.collection, filter="", limit=10_000,
                            output_fields=["id", "text", "embedding", "_node_content"])
    return {r["id"]: (r["text"], [round(x, 5) for x in r["embedding"]], r["_node_content"])
            for r in rows}


def test_a_changed_folder_embeds_only_the_articles_that_changed(lite, monkeypatch, tmp_path,
                                                                 milvus_logs):
    open_index(lite)
    with (lite.articles_dir / ARTICLE).open("a", encoding="utf-8") as f:
        f.write("\nCorrection: the call took place on Thursday.\n")
    (lite.articles_dir / "late.txt").write_text(GRAIN)
    counting = CountingEmbedder()
    monkeypatch.setattr(qa.index, "embedder", lambda: counting)
    messages: list[str] = []
    updated = open_index(lite, progress=True, echo=messages.append)
    assert updated.built and collections(updated) == [updated.collection]
    changed = [k for k, v in stored(updated).items()
               if k.startswith((ARTICLE, "late.txt"))]
    assert counting.embedded == len(changed) < updated.passages / 4
    assert messages[1].startswith(f"Reused {updated.passages - counting.embedded} passages "
                                  "of 4 unchanged articles; 2 new or changed to embed")
    assert not milvus_logs
    # the same rows, vectors and metadata as a build from nothing
    fresh = open_index(Settings.from_env(env={}, articles_dir=lite.articles_dir,
                                         home=tmp_path / "fresh"))
    assert fresh.passages == updated.passages
    assert stored(fresh) == stored(updated)
    rest = {k for k in stored(updated) if not k.startswith("late.txt")}
    (lite.articles_dir / "late.txt").unlink()
    counting.embedded = 0
    removed = open_index(lite)
    assert removed.built and counting.embedded == 0 and set(stored(removed)) == rest


def test_other_passage_settings_reuse_nothing(lite, monkeypatch):
    open_index(lite)
    counting = CountingEmbedder()
    monkeypatch.setattr(qa.index, "embedder", lambda: counting)
    smaller = open_index(lite.replace(chunk_tokens=64))
    assert smaller.built and counting.embedded == smaller.passages


def test_a_previous_index_that_fails_to_copy_only_costs_time(lite, monkeypatch):
    open_index(lite)
    (lite.articles_dir / "late.txt").write_text(GRAIN)

    def broken(client, building, *args):
        client.insert(building, [{"id": "half", "doc_id": "half", "text": "half a copy",
                                  "embedding": [0.0] * 384}])
        raise RuntimeError("segment not found\nstack trace")

    monkeypatch.setattr(qa.index, "_copy_unchanged", broken)
    messages: list[str] = []
    idx = open_index(lite, echo=messages.append)
    assert messages == ["qa: could not reuse the previous index (segment not found); "
                        "embedding every article"]
    rows = stored(idx)
    assert "half" not in rows and len(rows) == idx.passages > 40


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("stderr", [io.StringIO, Terminal])
def test_a_build_from_python_shows_its_progress_in_a_terminal(lite, monkeypatch, stderr):
    from qa.api import get_retriever

    err = stderr()
    monkeypatch.setattr(sys, "stderr", err)
    get_retriever(lite)
    said = err.getvalue()
    assert ("Indexing 5 articles" in said and "Embedding: 100%" in said) == err.isatty()


def test_two_folders_share_one_store_without_dropping_each_other(lite, tmp_path):
    seeds = open_index(lite)
    other_dir = tmp_path / "other"
    other_dir.mkdir()
    (other_dir / "wire.txt").write_text(GRAIN)
    other = open_index(Settings.from_env(env={}, articles_dir=other_dir, home=lite.home))
    assert other.built and other.collection != seeds.collection
    again = open_index(lite)
    assert not again.built and again.collection == seeds.collection
    assert again.client.has_collection(other.collection)


def test_interrupted_build_leaves_the_previous_index_usable(lite, monkeypatch):
    good = open_index(lite)
    path = lite.articles_dir / ARTICLE
    original = path.read_text(encoding="utf-8")
    path.write_text(original + "\nA late addition.\n", encoding="utf-8")

    class PowerCut:
        def get_text_embedding_batch(self, texts):
            raise KeyboardInterrupt

    monkeypatch.setattr(qa.index, "embedder", lambda: PowerCut())
    with pytest.raises(KeyboardInterrupt):
        open_index(lite)
    monkeypatch.undo()

    path.write_text(original, encoding="utf-8")
    back = open_index(lite)
    assert not back.built and back.collection == good.collection
    # and the half-written build is cleared by the next build of those articles
    path.write_text(original + "\nA late addition.\n", encoding="utf-8")
    done = open_index(lite)
    assert done.built
    assert not any(c.endswith("_building") for c in collections(done))


@pytest.fixture
def milvus_logs():
    """What pymilvus and Milvus Lite log at ERROR: a user sees it on stderr as tracebacks."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(logging.ERROR)
    loggers = [logging.getLogger(n) for n in ("pymilvus", "milvus_lite", "grpc")]
    for lg in loggers:
        lg.addHandler(handler)
    yield records
    for lg in loggers:
        lg.removeHandler(handler)


def test_corrupt_index_folder_is_moved_aside_and_rebuilt(lite, milvus_logs):
    folder = lite.home / "index" / "passages.db"
    (folder / "collections").mkdir(parents=True)
    (folder / "aliases.json").write_text("{not json")
    (folder / "databases").write_text("half-written")
    messages: list[str] = []
    idx = open_index(lite, echo=messages.append)
    assert idx.built and idx.passages > 0
    assert any("unreadable" in m and "rebuilding" in m for m in messages)
    assert list(folder.parent.glob("passages.db.corrupt-*"))
    assert not milvus_logs


def test_files_without_text_are_named_and_left_out(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Lavrov met Wang Yi in Beijing on Tuesday.\n", encoding="utf-8")
    (folder / "scan.txt").write_bytes(b"\0\1\2" * 50)
    settings = Settings.from_env(env={}, articles_dir=folder, home=tmp_path / "home")
    messages: list[str] = []
    idx = open_index(settings, echo=messages.append)
    assert idx.passages == 1
    assert messages == ["qa: skipped scan.txt: binary, not text"]
    (folder / "a.txt").write_text("")
    with pytest.raises(ArticlesError, match=r"no article in .* holds text \(skipped 2"):
        open_index(settings, echo=messages.append)


OPEN = """
from qa.index import open_index
from qa.settings import Settings
idx = open_index(Settings.from_env())
print(idx.built, idx.passages)
"""


def test_damaged_data_file_is_reported_in_one_line_and_rebuilt(lite):
    # In its own processes: this one's Milvus Lite server would keep serving what it loaded.
    env = {**os.environ, "QA_ARTICLES": str(lite.articles_dir), "QA_HOME": str(lite.home)}

    def run() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-c", OPEN], env=env, capture_output=True,
                              text=True, timeout=300, check=True)

    built, passages = run().stdout.split()
    assert built == "True"
    for data in (lite.home / "index").glob("passages.db/collections/*/partitions/*/data/*"):
        data.write_bytes(b"junk")
    again = run()
    assert again.stdout.split() == ["True", passages]
    said = [line for line in again.stderr.splitlines() if line.startswith("qa: ")]
    assert len(said) == 1 and "unreadable (Could not open Parquet" in said[0]
    assert "rebuilding" in said[0]
    assert "Traceback" not in again.stderr and "ERROR" not in again.stderr


HOLDER = """
import sys, time
from pymilvus import MilvusClient
MilvusClient(sys.argv[1])
print("holding", flush=True)
time.sleep(120)
"""


def test_second_process_gets_a_clear_message_not_a_hang(tmp_path, articles):
    s = Settings.from_env(env={}, articles_dir=articles, home=tmp_path / "other")
    path = s.home / "index" / "passages.db"
    path.parent.mkdir(parents=True)
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "holding"
        t = time.perf_counter()
        with pytest.raises(IndexLockedError, match="in use by another qa process"):
            open_index(s)
        assert time.perf_counter() - t < 5
    finally:
        holder.kill()
        holder.wait()
