"""One index, many processes: `qa serve-index` and QA_MILVUS_URI, against a real Milvus server
(Milvus Lite's) that the tests start on 127.0.0.1."""

import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import pytest

import qa.index
from qa.errors import IndexBuildError
from qa.index import open_index
from qa.settings import Settings

from conftest import SEEDS


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def uri_settings(tmp_path, uri: str, articles=SEEDS) -> Settings:
    return Settings.from_env(env={}, articles_dir=articles, home=tmp_path / "home",
                             milvus_uri=uri)


def failure(settings) -> tuple[str, float]:
    t = time.perf_counter()
    with pytest.raises(IndexBuildError) as e:
        open_index(settings)
    return str(e.value), time.perf_counter() - t


def test_nothing_listening_is_one_clear_line_at_once(tmp_path):
    port = free_port()
    said, took = failure(uri_settings(tmp_path, f"http://127.0.0.1:{port}"))
    assert said.startswith(f"nothing answers at 127.0.0.1:{port}") and "\n" not in said
    assert "qa serve-index" in said and took < 3


@pytest.fixture
def web_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_a_port_that_speaks_http_but_not_milvus_is_one_clear_line(tmp_path, web_server):
    said, took = failure(uri_settings(tmp_path, f"http://127.0.0.1:{web_server}"))
    assert said.startswith(f"127.0.0.1:{web_server} answers but not as a Milvus server")
    assert "\n" not in said and took < 3


def test_a_server_that_never_answers_is_given_up_on_in_bounded_time(tmp_path, monkeypatch):
    monkeypatch.setattr(qa.index, "CONNECT_TIMEOUT_S", 1.0)
    with socket.socket() as silent:  # accepts connections, says nothing
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        port = silent.getsockname()[1]
        said, took = failure(uri_settings(tmp_path, f"http://127.0.0.1:{port}"))
    assert f"127.0.0.1:{port} answers but not as a Milvus server" in said and took < 4


def serve(data_dir, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", "from qa.cli import main; main()", "serve-index",
         "--data-dir", str(data_dir), "--port", str(port)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines = [proc.stdout.readline(), proc.stdout.readline()]
    assert lines[1].strip() == f"export QA_MILVUS_URI=http://127.0.0.1:{port}", (
        lines, proc.stderr.read() if proc.poll() is not None else "")
    return proc


class CountingEmbedder:
    def __init__(self) -> None:
        self.real, self.embedded = qa.index.embedder(), 0

    def get_text_embedding_batch(self, texts):
        self.embedded += len(texts)
        return self.real.get_text_embedding_batch(texts)


ASK = """
import json, os, sys, time
import qa.index
from qa.retrieve import HybridRetriever
from qa.settings import Settings

real = qa.index.embedder
release = sys.argv[2]


class Held:  # embeds once the test lets it, so that the other process finds the build going
    def get_text_embedding_batch(self, texts):
        while not os.path.exists(release):
            time.sleep(0.05)
        return real().get_text_embedding_batch(texts)


qa.index.embedder = lambda: Held()
r = HybridRetriever.open(Settings.from_env())
print(json.dumps([s.article for s in r.retrieve(sys.argv[1])]))
"""


def wait_for(check, what: str, timeout: float = 180) -> None:
    t = time.perf_counter()
    while not check():
        assert time.perf_counter() - t < timeout, what
        time.sleep(0.05)


@pytest.mark.slow
def test_serve_index_shares_one_index_among_processes(tmp_path, articles, monkeypatch):
    from qa.retrieve import HybridRetriever

    data_dir, port = tmp_path / "served.db", free_port()
    server = serve(data_dir, port)
    try:
        uri = f"http://127.0.0.1:{port}"
        s = uri_settings(tmp_path, uri, articles)
        first = open_index(s)
        assert first.built and first.passages > 40
        # BM25 through the server: a rare name finds its passage
        hits = HybridRetriever.open(s)._search("Lavrov Wang Yi India partnership",
                                              "sparse_embedding", 5)
        assert hits and any("India" in h["entity"]["text"] for h in hits)
        # an incremental rebuild embeds only the changed article, then swaps collections
        path = articles / "000_d2369f6f31bc3c4a.txt"
        path.write_text(path.read_text(encoding="utf-8") + "\nA late addition.\n",
                        encoding="utf-8")
        counting = CountingEmbedder()
        monkeypatch.setattr(qa.index, "embedder", lambda: counting)
        second = open_index(s)
        monkeypatch.undo()
        assert second.built and second.collection != first.collection
        assert 0 < counting.embedded < second.passages / 4
        names = second.client.list_collections()
        assert second.collection in names and not any(n.endswith("_building") for n in names)
        # two processes at once: a build of new articles, and a second process that finds the
        # build under way and waits for it instead of writing beside it
        (articles / "late.txt").write_text("Grain talks\n\nRussia and China agreed to expand "
                                           "grain trade to 12 million tonnes.\n")
        env = {**os.environ, "QA_MILVUS_URI": uri, "QA_ARTICLES": str(articles),
               "QA_HOME": str(tmp_path / "home")}
        q = "How much grain trade did Russia and China agree to?"
        release = tmp_path / "release"

        def ask(err):
            return subprocess.Popen([sys.executable, "-c", ASK, q, str(release)], env=env,
                                    text=True, stdout=subprocess.PIPE, stderr=err)

        building = qa.index.collection_name(s) + "_building"
        with (tmp_path / "one.err").open("w") as err_one, \
                (tmp_path / "two.err").open("w") as err_two:
            one = ask(err_one)
            two = None
            try:
                wait_for(lambda: second.client.has_collection(building) or
                         one.poll() is not None, "the first process to start its build")
                two = ask(err_two)
                wait_for(lambda: "waiting" in (tmp_path / "two.err").read_text() or
                         two.poll() is not None, "the second process to find the build")
            finally:
                release.touch()
                out_one = one.communicate(timeout=300)[0]
                out_two = two.communicate(timeout=300)[0] if two else ""
        said = (tmp_path / "one.err").read_text() + (tmp_path / "two.err").read_text()
        assert one.returncode == 0 and two.returncode == 0, said
        assert out_one == out_two and "late.txt" in out_one
        assert "qa: another qa process is building this index; waiting for it" in said
        third = open_index(s)
        assert not third.built and third.passages == second.passages + 1
    finally:
        server.terminate()  # as Ctrl+C or a service manager would stop it
        out, err = server.communicate(timeout=30)
    assert server.returncode == 0 and "Stopped." in out and "Traceback" not in err
    assert (data_dir / "qa-index.txt").is_file() and not (data_dir / "qa-served-at.txt").exists()


def test_serve_index_on_a_port_in_use_is_one_line(tmp_path):
    from click.testing import CliRunner

    from qa.cli import cli

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = CliRunner().invoke(cli, ["serve-index", "--data-dir", str(tmp_path / "s.db"),
                                          "--port", str(port)], catch_exceptions=False)
    assert result.exit_code == 1
    assert result.stderr.splitlines() == [
        f"Error: cannot serve on 127.0.0.1:{port}: Address already in use; choose another "
        "--port"]
