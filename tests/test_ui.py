"""The chat page in a real browser (Debian's headless Chromium driven by Playwright)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from qa.api import Chat, warm_up
from qa.settings import PROJECT_ROOT, Settings
from qa.types import Answer, Citation, Source
from qa.ui import EXAMPLES, answer_html, build_app, launch_options, sources_html

from conftest import SEEDS, FakeLLM, local_model_settings

sync_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
EXPORTS_Q = "How much were Russian exports to China worth in 2021?"
EXPORTS_REPLY = "Russian exports to China were worth $79.3 billion in 2021 [1]."
FINAL = "#qa-chat .qa-answer, #qa-chat .qa-refusal, #qa-chat .qa-error"
REAL_WAIT_MS = 240_000  # a 1.5B model on two CPU cores: tens of seconds per answer

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(demo) -> str:
    port = _free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_options())
    return f"http://127.0.0.1:{port}/"


@pytest.fixture(scope="module")
def browser() -> Iterator:
    if not CHROMIUM.exists():
        if os.environ.get("CI"):  # `make test` installs it: in CI a missing browser is a failure
            pytest.fail("Debian's chromium is not at /usr/bin/chromium; `make test` installs it")
        pytest.skip("needs Debian's chromium at /usr/bin/chromium")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update"])
        yield b
        b.close()


class _Exploding:
    """The real retriever, except that "explode" in a question raises a non-QA error."""

    def __init__(self, inner) -> None:
        self.inner = inner

    def retrieve(self, question: str):
        if "explode" in question:
            raise RuntimeError("boom\nsecond line of a traceback-ish message")
        return self.inner.retrieve(question)


@pytest.fixture(scope="module")
def fake_app(session_home, seeds_retriever) -> Iterator[tuple[str, FakeLLM]]:
    """The app over the real seeds retriever, with the scripted model: fast, no weights."""
    settings = Settings.from_env(env={}, articles_dir=SEEDS, home=session_home)
    fake = FakeLLM()
    retriever = _Exploding(seeds_retriever)
    demo = build_app(settings, chat_factory=lambda: Chat(settings, llm=fake, retriever=retriever))
    yield _serve(demo), fake
    demo.close()


@pytest.fixture
def page(browser, fake_app) -> Iterator:
    """A fresh browser session that records every request it makes."""
    url, fake = fake_app
    fake.replies.clear()
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(url)
    page.wait_for_selector(".qa-status:not(.qa-status-loading)")
    yield page
    context.close()


def ask(page, question: str) -> None:
    box = page.locator("#qa-question textarea")
    box.fill(question)
    box.press("Enter")


def wait_final(page, n: int, timeout: float = 30_000) -> None:
    """Until the chat shows `n` finished replies and the question box is usable again."""
    page.wait_for_function(
        "([sel, n]) => document.querySelectorAll(sel).length >= n", arg=[FINAL, n],
        timeout=timeout)
    sync_api.expect(page.locator("#qa-question textarea")).to_be_editable(timeout=timeout)


def off_host(urls: list[str]) -> list[str]:
    return [u for u in urls
            if urlparse(u).scheme in ("http", "https", "ws", "wss")
            and urlparse(u).hostname != "127.0.0.1"]


def test_status_examples_and_no_outside_requests(page) -> None:
    sync_api.expect(page.locator(".qa-status")).to_contain_text("fake · fake-model")
    for q in EXAMPLES:
        sync_api.expect(page.get_by_text(q, exact=True)).to_be_visible()
    sync_api.expect(page.locator(".qa-sources")).to_be_visible()
    assert off_host(page.requests) == []


def test_answer_links_each_marker_to_its_highlighted_quote(page, fake_app) -> None:
    _, fake = fake_app
    fake.enqueue(EXPORTS_REPLY + " The moon is made of green cheese [2].", EXPORTS_REPLY)
    page.set_viewport_size({"width": 1280, "height": 450})
    ask(page, EXPORTS_Q)
    wait_final(page, 1)
    first = page.locator("#qa-chat .qa-answer").first
    sync_api.expect(first).not_to_contain_text("cheese")  # the draft gave way to the verified text
    marker = first.locator("a.qa-cite")
    sync_api.expect(marker).to_have_text("[1]")
    quote = page.locator(".qa-sources .qa-source mark.qa-quote").first
    sync_api.expect(quote).to_contain_text("79.3")
    card = page.locator(".qa-source").first
    sync_api.expect(card).to_contain_text("001_d09e4f1b547c6a50.txt")
    sync_api.expect(card).to_contain_text("Foreign Minister Lavrov")

    ask(page, EXPORTS_Q)  # the newer answer's sources go on top, pushing the first one down
    wait_final(page, 2)
    target = page.locator(marker.get_attribute("href"))
    sync_api.expect(target).to_have_class("qa-quote")
    page.evaluate("window.scrollTo(0, 0)")
    sync_api.expect(target).not_to_be_in_viewport()
    marker.click()
    assert page.evaluate("location.hash") == marker.get_attribute("href")
    sync_api.expect(target).to_be_in_viewport()
    assert off_host(page.requests) == []


def test_example_click_asks_it(page, fake_app) -> None:
    _, fake = fake_app
    fake.enqueue(EXPORTS_REPLY)
    page.get_by_text(EXAMPLES[0], exact=True).click()
    wait_final(page, 1)
    sync_api.expect(page.locator("#qa-chat [data-testid='user']")).to_have_count(1)
    sync_api.expect(page.locator("mark.qa-quote")).to_contain_text("79.3")


def test_refusal_looks_different(page, fake_app) -> None:
    _, fake = fake_app
    fake.enqueue("Borscht is made with beetroot [1].")  # backed by no passage: dropped
    ask(page, "What did Lavrov say about the price of beetroot in Moscow?")
    wait_final(page, 1)
    refusal = page.locator("#qa-chat .qa-refusal")
    sync_api.expect(refusal).to_contain_text("The articles do not say.")
    sync_api.expect(page.locator("#qa-chat a.qa-cite")).to_have_count(0)


def test_errors_are_one_line_and_the_page_keeps_working(page, fake_app) -> None:
    _, fake = fake_app
    ask(page, "   ")
    wait_final(page, 1)
    errors = page.locator("#qa-chat .qa-error")
    sync_api.expect(errors.nth(0)).to_contain_text("the question is empty")
    ask(page, "why " * 300)
    wait_final(page, 2)
    sync_api.expect(errors.nth(1)).to_contain_text("the limit is 1000")
    ask(page, "Please explode now")
    wait_final(page, 3)
    sync_api.expect(errors.nth(2)).to_contain_text("RuntimeError: boom")
    for text in errors.all_inner_texts():
        assert "\n" not in text.strip() and "Traceback" not in text
    fake.enqueue(EXPORTS_REPLY)
    ask(page, EXPORTS_Q)
    wait_final(page, 4)
    sync_api.expect(page.locator("#qa-chat .qa-answer")).to_contain_text("79.3")


def test_new_chat_clears_history_chat_and_panel(page, fake_app) -> None:
    _, fake = fake_app
    follow_up = "And how much of that was oil and gas?"
    fake.enqueue(EXPORTS_REPLY,
                 "How much of Russian exports to China in 2021 was oil and gas?",
                 "Oil and gas accounted for 56 percent of Russian exports to China [1].")
    ask(page, EXPORTS_Q)
    wait_final(page, 1)
    before = len(fake.prompts)
    ask(page, follow_up)
    wait_final(page, 2)
    assert any(EXPORTS_Q in str(p) for p in fake.prompts[before:])  # rewritten with the history
    sync_api.expect(page.locator("#qa-chat .qa-answer").nth(1)).to_contain_text("56 percent")
    sync_api.expect(page.locator(".qa-source")).to_have_count(2)

    page.locator("#qa-new-chat").click()
    sync_api.expect(page.locator("#qa-chat [data-testid='user']")).to_have_count(0)
    sync_api.expect(page.locator(".qa-source")).to_have_count(0)
    sync_api.expect(page.get_by_text(EXAMPLES[0], exact=True)).to_be_visible()
    before = len(fake.prompts)
    ask(page, follow_up)
    wait_final(page, 1)
    assert not any(EXPORTS_Q in str(p) for p in fake.prompts[before:])  # no history left
    sync_api.expect(page.locator("#qa-chat [data-testid='user']")).to_have_count(1)


def test_quotes_are_marked_inside_their_passage_and_escaped() -> None:
    """Overlapping quotes share one <mark>, each citation keeps an anchor, `<` stays text."""
    text = "Exports hit $79.3 billion <in 2021>, of which oil and gas was 56 percent."
    src = Source(2, "a.txt", "Title", "Pub", "2022-03-20", text, 100, 100 + len(text), 1.0)
    c1 = Citation(1, "a.txt", "Title", text[:25], 100, 125, source=2)
    c2 = Citation(2, "a.txt", "Title", text[13:34], 113, 134, source=2)
    answer = Answer("q?", "Exports hit $79.3 billion [1]. In 2021 [2].", [c1, c2], [src])
    panel = sources_html(answer, turn=3)
    assert panel.count("<mark") == 1
    assert 'id="qa-cite-3-1"' in panel and 'id="qa-cite-3-2"' in panel
    assert "$79.3" in panel and "&lt;in 2021</mark>&gt;" in panel
    assert "Pub · 2022-03-20 · " in panel
    chat = answer_html(answer, turn=3)
    assert chat.count('class="qa-cite"') == 2 and 'href="#qa-cite-3-2"' in chat


# --- the real embedded model ---------------------------------------------------------------


@pytest.fixture(scope="module")
def real_app(session_home) -> Iterator[str]:
    settings = local_model_settings(session_home)
    warm_up(settings)
    demo = build_app(settings)
    yield _serve(demo)
    demo.close()


@pytest.fixture
def real_page(browser, real_app) -> Iterator:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.requests = []
    page.on("request", lambda r: page.requests.append(r.url))
    page.goto(real_app)
    page.wait_for_selector(".qa-status:not(.qa-status-loading)")
    yield page
    context.close()


@pytest.mark.slow
def test_real_model_answer_with_highlighted_quote(real_page) -> None:
    page = real_page
    sync_api.expect(page.locator(".qa-status")).to_contain_text("local · qwen2.5-coder-1.5b")
    t0 = time.perf_counter()
    ask(page, EXPORTS_Q)
    # the passages being read show before the model speaks
    page.wait_for_selector(".qa-sources .qa-reading", timeout=REAL_WAIT_MS)
    first = time.perf_counter() - t0
    wait_final(page, 1, timeout=REAL_WAIT_MS)
    total = time.perf_counter() - t0
    print(f"\nsources visible after {first:.1f} s, checked answer after {total:.1f} s")
    marker = page.locator("#qa-chat a.qa-cite").first
    sync_api.expect(marker).to_be_visible()
    quote = page.locator(".qa-sources mark.qa-quote", has_text="79.3")
    sync_api.expect(quote).to_be_visible()
    marker.click()
    sync_api.expect(page.locator("mark.qa-quote:target")).to_be_in_viewport()
    page.screenshot(path=str(PROJECT_ROOT / "docs" / "chat.png"), full_page=True)  # README
    assert off_host(page.requests) == []


@pytest.mark.slow
def test_real_model_refuses_what_no_article_covers(real_page) -> None:
    ask(real_page, "What is the recipe for borscht?")
    wait_final(real_page, 1, timeout=REAL_WAIT_MS)
    sync_api.expect(real_page.locator("#qa-chat .qa-refusal")).to_be_visible()


@pytest.mark.slow
def test_real_model_sessions_never_cross(browser, real_app) -> None:
    questions = [EXPORTS_Q, EXAMPLES[1]]
    contexts = [browser.new_context() for _ in questions]
    pages = [c.new_page() for c in contexts]
    try:
        for p in pages:
            p.goto(real_app)
            p.wait_for_selector(".qa-status:not(.qa-status-loading)")
        t0 = time.perf_counter()
        for p, q in zip(pages, questions, strict=True):
            ask(p, q)
        for i, p in enumerate(pages, 1):
            wait_final(p, 1, timeout=REAL_WAIT_MS)
            print(f"\nsession {i}: full answer after {time.perf_counter() - t0:.1f} s")
        for p, q in zip(pages, questions, strict=True):
            users = p.locator("#qa-chat [data-testid='user']")
            sync_api.expect(users).to_have_count(1)
            sync_api.expect(users).to_have_text(q)
            sync_api.expect(p.locator(".qa-turn-q")).to_have_count(1)
            sync_api.expect(p.locator(".qa-turn-q")).to_contain_text(q)
    finally:
        for c in contexts:
            c.close()


@pytest.mark.slow
def test_qa_chat_serves_after_loading_and_shows_an_unreachable_endpoint(browser, tmp_path) -> None:
    """`qa chat` end to end: progress lines first, then the page; a dead endpoint is one line."""
    dead, port = _free_port(), _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("QA_", "OPENAI_"))}
    env |= {"QA_HOME": str(tmp_path), "QA_BACKEND": "openai",
            "QA_LLM_BASE_URL": f"http://127.0.0.1:{dead}/v1"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from qa.cli import main; main()", "--articles", str(SEEDS),
         "chat", "--port", str(port)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True).start()
    try:
        deadline = time.monotonic() + 180
        while not any(x.startswith("Open http://") for x in lines):
            assert proc.poll() is None and time.monotonic() < deadline, "".join(lines)
            time.sleep(0.2)
        said = [x.strip() for x in lines]
        assert said.index("Loading model…") < said.index("Opening index…")
        context = browser.new_context()
        page = context.new_page()
        page.goto(f"http://127.0.0.1:{port}/")
        sync_api.expect(page.locator(".qa-status")).to_contain_text(f"openai · gpt-4o-mini @ "
                                                                     f"http://127.0.0.1:{dead}")
        ask(page, EXPORTS_Q)
        wait_final(page, 1, timeout=60_000)
        sync_api.expect(page.locator("#qa-chat .qa-error")).to_contain_text(
            "cannot reach the LLM endpoint")
        context.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
