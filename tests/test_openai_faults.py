"""The openai backend against servers that misbehave, each started here on 127.0.0.1: every
fault is one line that says what the server did, never a traceback or an empty answer."""

import contextlib
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest
from click.testing import CliRunner

from qa import BackendError
from qa.cli import cli
from qa.llm import OpenAILLM

from conftest import SEEDS

QUESTION = "How much were Russian exports to China worth in 2021?"
SSE_HEAD = (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            b"Connection: close\r\n\r\n")


def event(data: dict | str) -> bytes:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False)
    return b"data: " + text.encode() + b"\n\n"


def chunk(text: str | None, finish: str | None = None) -> dict:
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "m",
            "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": finish}]}


def http(status: str, ctype: str, body: bytes) -> bytes:
    return (f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\n"
            f"Connection: close\r\n\r\n").encode() + body


def error_body(message: str, code: str) -> bytes:
    return json.dumps({"error": {"message": message, "type": "invalid_request_error",
                                 "code": code}}).encode()


class Server:
    """Answers each request on a raw socket with `behave(conn, stop)`, after reading it whole
    (a request left unread would turn the close into a reset)."""

    def __init__(self, behave: Callable[[socket.socket, threading.Event], None]) -> None:
        self.behave = behave
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            data = b""
            while b"\r\n\r\n" not in data:
                data += conn.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                           if line.lower().startswith(b"content-length:")), 0)
            while len(body) < length:
                body += conn.recv(65536)
            with contextlib.suppress(OSError):  # the client hung up first
                self.behave(conn, self.stop)

    def close(self) -> None:
        self.stop.set()
        self.sock.close()


def sends(*payload: bytes):
    def behave(conn, stop):
        for p in payload:
            conn.sendall(p)
    return behave


def stalls(conn, stop):
    conn.sendall(SSE_HEAD + event(chunk("Russian")))
    stop.wait(30)


def drops_mid_stream(conn, stop):
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    first = event(chunk("Russian exports"))
    conn.sendall(b"%x\r\n%s\r\n" % (len(first), first))


def hangs_up(conn, stop):
    pass  # reads the request, closes without a word


# name: (server behaviour, the one line it gives, whether it is a fault of this request only)
CASES = {
    "not UTF-8": (
        sends(SSE_HEAD, event(chunk("caf\u00e9", "stop")).decode().encode("latin-1")),
        "{url} sent bytes that are not UTF-8 text (b'ent\": \"caf\\xe9\"}}, \"fini'); "
        "is it an OpenAI-compatible endpoint?", False),
    "not an event stream": (
        sends(SSE_HEAD, b"data: <html>Bad gateway</html>\n\n"),
        "{url} sent an event that is not JSON ('<html>Bad gateway</html>'); "
        "is it an OpenAI-compatible endpoint?", False),
    "a chunk without choices": (
        sends(SSE_HEAD, event({"id": "c1", "object": "chat.completion.chunk"}),
              event("[DONE]")),
        "{url} sent a chunk of the wrong shape: no 'choices' list in "
        '{{"id":"c1","object":"chat.completion.chunk"}}', False),
    "a choice without a delta": (
        sends(SSE_HEAD, event({"id": "c1", "choices": [{"index": 0, "text": "hi"}]})),
        "{url} sent a chunk of the wrong shape: choices[0] holds no text delta in "
        '{{"id":"c1","choices":[{{"index":0,"text":"hi"}}]}}', False),
    "an error event": (
        sends(SSE_HEAD, event(chunk("Russian")), event({"error": {"message": "out of memory"}})),
        "{url} stopped the answer with an error: out of memory", True),
    "a web page": (
        sends(http("200 OK", "text/html", b"<html><body>Welcome</body></html>")),
        "{url} ended its reply without a single answer chunk (it sent text/html, not an "
        "OpenAI event stream; check QA_LLM_BASE_URL)", False),
    "headers then silence": (
        stalls,
        "{url} went silent in the middle of its reply: nothing came for 1 s (QA_LLM_TIMEOUT)",
        True),
    "a connection dropped mid-stream": (
        drops_mid_stream,
        "{url} dropped the connection in the middle of the answer (peer closed connection "
        "without sending complete message body (incomplete chunked read))", True),
    "an unframed stream cut short": (
        sends(SSE_HEAD, event(chunk("Russian exports were"))),
        "{url} ended the stream before the answer was finished (no finish_reason: the "
        "connection may have dropped)", True),
    "a hang-up before any answer": (
        hangs_up,
        "{url} accepted the connection, then closed it without answering (Server "
        "disconnected without sending a response.)", True),
    "a wrong path": (
        sends(http("404 Not Found", "text/html", b"<h1>Not Found</h1>")),
        "{url} has no chat completions endpoint (HTTP 404; check QA_LLM_BASE_URL, which "
        "usually ends in /v1)", False),
    "a wrong model": (
        sends(http("404 Not Found", "application/json",
                   error_body("The model `m` does not exist.", "model_not_found"))),
        "{url} has no model 'm' (check QA_LLM_MODEL)", False),
    "a wrong key": (
        sends(http("401 Unauthorized", "application/json",
                   error_body("Incorrect API key provided", "invalid_api_key"))),
        "{url} rejected the API key (check OPENAI_API_KEY)", False),
}


@pytest.fixture(params=list(CASES))
def case(request) -> Iterator[tuple[Server, str, bool]]:
    behave, message, this_request_only = CASES[request.param]
    server = Server(behave)
    yield server, message.format(url=server.url), this_request_only
    server.close()


def test_each_fault_is_one_line_that_says_what_the_server_did(case):
    server, message, this_request_only = case
    llm = OpenAILLM(model="m", api_key=None, base_url=server.url, timeout_s=1)
    started = time.monotonic()
    with pytest.raises(BackendError) as e:
        llm.complete([{"role": "user", "content": "Hi"}], max_tokens=8)
    assert str(e.value) == message
    assert e.value.this_request_only is this_request_only
    assert time.monotonic() - started < 10  # the silent server holds on for 30 s


def test_each_fault_through_qa_ask(case, seeds_retriever):
    """With the index built (its progress is not an error), stderr holds the one line."""
    server, message, _ = case
    result = CliRunner().invoke(
        cli, ["--articles", str(SEEDS), "ask", QUESTION], catch_exceptions=False,
        env={"QA_LLM_BASE_URL": server.url, "QA_LLM_MODEL": "m", "QA_LLM_TIMEOUT": "1"})
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [f"Error: {message}"]


def test_a_well_behaved_stream_still_answers():
    """The checks above let a normal stream through: text, finish_reason, usage, [DONE]."""
    usage = {"id": "c1", "object": "chat.completion.chunk", "choices": [],
             "usage": {"prompt_tokens": 12, "completion_tokens": 2, "total_tokens": 14}}
    server = Server(sends(SSE_HEAD, event(chunk("Hello")), event(chunk(" there")),
                          event(chunk(None, "stop")), event(usage), event("[DONE]")))
    try:
        llm = OpenAILLM(model="m", api_key=None, base_url=server.url, timeout_s=5)
        assert llm.complete([{"role": "user", "content": "Hi"}], max_tokens=8) == "Hello there"
        assert (llm.last_usage.prompt_tokens, llm.last_usage.completion_tokens) == (12, 2)
    finally:
        server.close()
