"""The Milvus Lite index with real embeddings: reuse, rebuild, atomic builds, faults."""

import io
import logging
import os
import re
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
    return {r["id"]: (r["text"], tuple(r["embedding"]), r["_node_content"]) for r in rows}


def assert_same_rows(a: dict[str, tuple], b: dict[str, tuple]) -> None:
    """The same passages, metadata and vectors. Vectors match to rounding only: embedded in
    bfloat16, a text's vector varies in the fourth decimal with the texts batched beside it."""
    assert {k: (t, n) for k, (t, _, n) in a.items()} == {k: (t, n) for k, (t, _, n) in b.items()}
    for k, (_, u, _) in a.items():
        v = b[k][1]
        cos = sum(x * y for x, y in zip(u, v, strict=True)) / (
            sum(x * x for x in u) * sum(y * y for y in v)) ** 0.5
        assert cos > 0.9999, k


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
    assert_same_rows(stored(fresh), stored(updated))
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


class FailsAfter:
    """The real embedder, failing (a power cut) once it has embedded `batches` batches."""

    def __init__(self, batches: int) -> None:
        self.real, self.left, self.embedded = qa.index.embedder(), batches, 0

    def get_text_embedding_batch(self, texts):
        if not self.left:
            raise RuntimeError("power cut")
        self.left -= 1
        self.embedded += len(texts)
        return self.real.get_text_embedding_batch(texts)


def test_an_interrupted_build_resumes_where_it_stopped(lite, monkeypatch, tmp_path):
    cut = FailsAfter(batches=1)
    monkeypatch.setattr(qa.index, "embedder", lambda: cut)
    with pytest.raises(RuntimeError, match="power cut"):
        open_index(lite)
    assert cut.embedded == qa.index.BATCH
    monkeypatch.undo()
    counting = CountingEmbedder()
    monkeypatch.setattr(qa.index, "embedder", lambda: counting)
    messages: list[str] = []
    done = open_index(lite, progress=True, echo=messages.append)
    assert done.built and counting.embedded == done.passages - cut.embedded > 0
    assert f"Resuming an interrupted build: {cut.embedded} passages were stored already" \
        in messages
    assert collections(done) == [done.collection]
    fresh = open_index(Settings.from_env(env={}, articles_dir=lite.articles_dir,
                                         home=tmp_path / "fresh"))
    assert_same_rows(stored(fresh), stored(done))


def test_a_build_leaves_no_half_built_collection_of_its_folder(lite, monkeypatch):
    monkeypatch.setattr(qa.index, "embedder", lambda: FailsAfter(batches=1))
    with pytest.raises(RuntimeError):
        open_index(lite)
    monkeypatch.undo()
    with (lite.articles_dir / ARTICLE).open("a", encoding="utf-8") as f:
        f.write("\nCorrection: the call took place on Thursday.\n")  # that build is stale now
    done = open_index(lite)
    assert done.built and collections(done) == [done.collection]


def test_an_unusually_large_article_is_named_with_its_size_and_time(lite, monkeypatch):
    monkeypatch.setattr(qa.index, "LARGE_ARTICLE", 30)
    text = "".join(f"Paragraph {i}: the grain talks went on for another day in Beijing, with "
                   f"{i} delegations present and no agreement on prices.\n\n" for i in range(90))
    (lite.articles_dir / "book.txt").write_text(text, encoding="utf-8")
    messages: list[str] = []
    open_index(lite, echo=messages.append)
    large = [m for m in messages if "unusually large" in m]
    assert len(large) == 1
    assert re.fullmatch(rf"qa: book\.txt is unusually large \({len(text):,} characters, \d+ "
                        r"passages\): embedding it takes about \d+ seconds", large[0])


def test_a_link_to_a_file_outside_the_folder_is_skipped_with_a_line(tmp_path):
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "a.txt").write_text("Lavrov met Wang Yi in Beijing on Tuesday.\n", encoding="utf-8")
    secret = tmp_path / "secret.txt"
    secret.write_text("The launch codes are 0000.\n", encoding="utf-8")
    (folder / "codes.txt").symlink_to(secret)
    settings = Settings.from_env(env={}, articles_dir=folder, home=tmp_path / "home")
    messages: list[str] = []
    idx = open_index(settings, echo=messages.append)
    assert messages == [f"qa: skipped codes.txt: a link to {secret}, outside the articles folder"]
    assert {text for text, _, _ in stored(idx).values()} == {
        "Lavrov met Wang Yi in Beijing on Tuesday."}


def tree(path) -> dict[str, bytes]:
    """Every file under path (or path itself), with its bytes."""
    if path.is_file():
        return {".": path.read_bytes()}
    return {str(p.relative_to(path)): p.read_bytes() for p in sorted(path.rglob("*"))
            if p.is_file()}


OTHER_DB = """
import sys
from pymilvus import MilvusClient
c = MilvusClient(sys.argv[1])
c.create_collection("books", dimension=4)
c.insert("books", [{"id": 1, "vector": [0.1, 0.2, 0.3, 0.4]}])
c.flush("books")
"""


@pytest.mark.parametrize(("kind", "says"), [
    ("folder", "neither a Milvus server address"),
    ("folder.db", "holds files that qa did not make (notes.txt)"),
    ("file", "neither a Milvus server address"),
    ("file.db", "is a file, not a qa index folder"),
    ("other program's .db", "holds files that qa did not make"),
])
def test_a_uri_at_something_qa_did_not_make_is_left_untouched(tmp_path, articles, kind, says):
    from click.testing import CliRunner

    from qa.cli import cli

    target = tmp_path / {"folder": "Documents", "folder.db": "mine.db", "file": "notes.txt",
                         "file.db": "notes.db", "other program's .db": "books.db"}[kind]
    if kind.startswith("folder"):
        target.mkdir()
        (target / "notes.txt").write_text("my notes\n")
    elif kind.startswith("file"):
        target.write_bytes(b"SQLite format 3\0" + bytes(100))
    else:
        subprocess.run([sys.executable, "-c", OTHER_DB, str(target)], check=True, timeout=120,
                       capture_output=True)
    before, siblings = tree(target), sorted(os.listdir(tmp_path))
    result = CliRunner().invoke(cli, ["--articles", str(articles), "index"], catch_exceptions=False,
                                env={"QA_MILVUS_URI": str(target),
                                     "QA_HOME": str(tmp_path / "home")})
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and says in lines[0], lines
    assert tree(target) == before
    assert sorted(os.listdir(tmp_path)) == siblings  # nothing moved aside

