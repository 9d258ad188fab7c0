"""The openai backend against a real OpenAI-compatible server (llama_cpp.server) on 127.0.0.1."""

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from qa import Answer, BackendError, Retrieved, ask, ask_stream
from qa.settings import Settings
from qa.weights import model_file

from conftest import SEEDS

pytestmark = pytest.mark.slow
KEY = "test-key-123"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(session_home):
    gguf = model_file("qwen2.5-coder-1.5b", session_home / "models")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "2048", "--api_key", KEY, "--model_alias", "qwen-1.5b"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            req = urllib.request.Request(f"{url}/models",
                                         headers={"Authorization": f"Bearer {KEY}"})
            urllib.request.urlopen(req, timeout=2)
            break
        except OSError:
            if proc.poll() is not None:
                pytest.fail("llama_cpp.server exited at start")
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail("llama_cpp.server did not start in 120 s")
    yield url
    proc.terminate()
    proc.wait(timeout=30)


def settings_for(url: str, home, key: str = KEY) -> Settings:
    return Settings.from_env(env={"OPENAI_API_KEY": key, "QA_LLM_BASE_URL": url,
                                  "QA_LLM_MODEL": "qwen-1.5b"}, articles_dir=SEEDS, home=home)


def test_answer_through_the_openai_client(server, session_home):
    s = settings_for(server, session_home)
    assert s.resolved_backend == "openai"
    a = ask("How much were Russian exports to China worth in 2021?", settings=s)
    assert a.backend == "openai" and a.model == "qwen-1.5b"
    assert not a.refused, a.raw_text
    assert "79.3" in a.text
    assert a.citation(1).article == "001_d09e4f1b547c6a50.txt"
    assert a.usage.prompt_tokens > 100


def test_streams_sources_first_then_checked_sentences(server, session_home):
    items = list(ask_stream("How much were Russian exports to China worth in 2021?",
                            settings=settings_for(server, session_home)))
    assert isinstance(items[0], Retrieved) and items[0].sources
    answer = items[-1]
    assert isinstance(answer, Answer) and not answer.refused, answer.raw_text
    chunks = [i for i in items if isinstance(i, str)]
    assert chunks and "".join(chunks).strip() == answer.text
    assert "$79.3 billion" in answer.text


def test_rejected_key_is_a_clear_error(server, session_home):
    with pytest.raises(BackendError, match="rejected the API key"):
        ask("How much were Russian exports to China worth in 2021?",
            settings=settings_for(server, session_home, key="wrong-key"))
