"""The browser chat: streamed answers whose `[n]` markers link to highlighted quotes beside them."""

from __future__ import annotations

import html
import logging
import re
import socket
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from .api import Chat, get_retriever, warm_up
from .errors import ConfigError, QAError
from .llm import get_llm
from .prompt import REFUSAL
from .settings import Settings
from .types import Answer, Citation, Retrieved, Source

log = logging.getLogger(__name__)

CSS_PATH = Path(__file__).parent / "static" / "ui.css"

# Questions a newcomer can ask of the seed articles (Russia-China relations, 2021-2024).
EXAMPLES = [
    "How much were Russian exports to China worth in 2021?",
    "Which international issues did Lavrov and Wang Yi discuss?",
    "What is China's position on Western sanctions against Russia?",
    "What was the trade turnover between Russia and China at the end of 2023?",
    "Why did Wang Yi travel to Moscow in September 2023?",
]

_EMPTY_PANEL = ('<div class="qa-sources qa-empty">Sources appear here: each cited article, '
                "with the quoted words highlighted in their passage.</div>")
_THINKING = '<span class="qa-pending">Searching the articles…</span>'
_MARKER = re.compile(r"\[(\d+)\]")


def theme() -> gr.themes.Base:
    """System fonts only, so the page fetches no font files from anywhere."""
    return gr.themes.Default(font=[gr.themes.Font("system-ui"), "sans-serif"],
                             font_mono=[gr.themes.Font("ui-monospace"), "monospace"])


def launch_options() -> dict[str, Any]:
    """What `Blocks.launch` needs for this app's look and privacy (Gradio 6 takes them there)."""
    return {
        "theme": theme(),
        "css_paths": [CSS_PATH],
        "footer_links": [],
        "run_history": False,
        "enable_monitoring": False,
        "ssr_mode": False,
        "mcp_server": False,
        "pwa": False,
        "show_error": False,
    }


@dataclass
class _Session:
    """One browser tab: its conversation and the sources panel that goes with it."""

    chat: Chat
    turn: int = 0  # numbers answers, so each answer's citation anchors are unique on the page
    epoch: int = 0  # bumped by "New chat", so an answer still streaming stops drawing
    busy: bool = False
    pending: str | None = None
    messages: list[dict[str, str]] = field(default_factory=list)
    sections: list[str] = field(default_factory=list)  # newest first


_esc = html.escape


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:300]


def _anchor(turn: int, n: int) -> str:
    return f"qa-cite-{turn}-{n}"


def status_html(description: str | None, error: str | None = None) -> str:
    if error:
        return ('<div class="qa-status qa-status-error">'
                f'<span class="qa-error">{_esc(_one_line(error))}</span></div>')
    if description is None:
        return '<div class="qa-status qa-status-loading">Loading model…</div>'
    return f'<div class="qa-status">Answering with <b>{_esc(description)}</b></div>'


def error_html(message: str) -> str:
    return f'<div class="qa-error"><b>Error:</b> {_esc(_one_line(message))}</div>'


def draft_html(draft: str) -> str:
    return f'<span class="qa-draft">{_esc(draft)}</span><span class="qa-cursor">▍</span>'


def answer_html(answer: Answer, turn: int) -> str:
    """The verified text, each `[n]` a link to its quote in the sources panel."""
    if answer.refused:
        return (f'<div class="qa-refusal"><b>{_esc(REFUSAL)}</b> No passage in them backs '
                "an answer to this question.</div>")
    numbers = {c.number: c for c in answer.citations}

    def link(m: re.Match[str]) -> str:
        c = numbers.get(int(m.group(1)))
        if c is None:
            return m.group(0)
        return (f'<a class="qa-cite" href="#{_anchor(turn, c.number)}" '
                f'title="{_esc(c.title)}: “{_esc(c.quote)}”">[{c.number}]</a>')

    return f'<div class="qa-answer">{_MARKER.sub(link, _esc(answer.text))}</div>'


def _highlighted(source: Source, cites: list[Citation], turn: int) -> str:
    """The passage with each quote in a <mark>; overlapping quotes share one mark."""
    spans: list[tuple[int, int, list[int]]] = []
    for c in sorted(cites, key=lambda c: (c.start, c.end)):
        a = max(c.start - source.start, 0)
        b = min(c.end - source.start, len(source.text))
        if a >= b:
            continue
        if spans and a < spans[-1][1]:
            prev = spans[-1]
            spans[-1] = (prev[0], max(prev[1], b), prev[2] + [c.number])
        else:
            spans.append((a, b, [c.number]))
    out, pos = [], 0
    for a, b, nums in spans:
        ids = "".join(f'<span class="qa-anchor" id="{_anchor(turn, n)}"></span>' for n in nums[1:])
        label = " ".join(f"[{n}]" for n in nums)
        out.append(_esc(source.text[pos:a]))
        out.append(f'{ids}<mark class="qa-quote" id="{_anchor(turn, nums[0])}" '
                   f'title="cited as {label}">{_esc(source.text[a:b])}</mark>')
        pos = b
    out.append(_esc(source.text[pos:]))
    return "".join(out).strip()


def _meta(s: Source) -> str:
    parts = [_esc(x) for x in (s.publisher, s.date) if x]
    parts.append(f'<code class="qa-file">{_esc(s.article)}</code>')
    return " · ".join(parts)


def sources_html(answer: Answer, turn: int) -> str:
    """One card per cited passage: the article, its details, and the quotes highlighted."""
    head = f'<div class="qa-turn-q">Q{turn} · {_esc(answer.question)}</div>'
    by_number = {s.number: s for s in answer.sources}
    groups: dict[int, list[Citation]] = {}
    for c in answer.citations:
        groups.setdefault(c.source, []).append(c)
    cards = []
    for n, cites in groups.items():
        s = by_number.get(n)
        if s is None:
            continue
        badges = "".join(f'<a class="qa-badge" href="#{_anchor(turn, c.number)}">[{c.number}]</a>'
                         for c in cites)
        cards.append(
            f'<article class="qa-source" id="qa-src-{turn}-{n}">'
            f'<div class="qa-source-head">{badges} <span class="qa-title">{_esc(s.title)}</span>'
            f'</div><div class="qa-meta">{_meta(s)}</div>'
            f'<blockquote class="qa-passage">{_highlighted(s, cites, turn)}</blockquote></article>')
    if not cards:
        searched = "".join(
            f'<li><span class="qa-title">{_esc(s.title)}</span> '
            f'<span class="qa-meta">{_meta(s)}</span></li>' for s in answer.sources)
        body = '<div class="qa-nocite">No passage backs an answer to this question.</div>'
        if searched:
            body += (f'<details class="qa-searched"><summary>Passages searched '
                     f"({len(answer.sources)})</summary><ul>{searched}</ul></details>")
        cards.append(body)
    return f'<section class="qa-turn" id="qa-turn-{turn}">{head}{"".join(cards)}</section>'


def retrieved_html(question: str, sources: list[Source], turn: int) -> str:
    """The passages the answer will draw on, shown as soon as retrieval has them."""
    head = f'<div class="qa-turn-q">Q{turn} · {_esc(question)}</div>'
    cards = "".join(
        f'<article class="qa-source qa-reading"><div class="qa-source-head">[{s.number}] '
        f'<span class="qa-title">{_esc(s.title)}</span></div><div class="qa-meta">{_meta(s)}'
        f'</div><blockquote class="qa-passage">{_esc(s.text.strip())}</blockquote></article>'
        for s in sources)
    note = (f'<div class="qa-nocite">Reading {len(sources)} passages; the quotes that back '
            "the answer are marked when it is checked.</div>")
    return f'<section class="qa-turn" id="qa-turn-{turn}">{head}{note}{cards}</section>'


def _panel(sections: list[str]) -> str:
    if not sections:
        return _EMPTY_PANEL
    return f'<div class="qa-sources">{"".join(sections)}</div>'


def build_app(settings: Settings, *, chat_factory: Callable[[], Chat] | None = None) -> gr.Blocks:
    """The chat page; one `Chat` per browser session, so histories never mix."""
    factory = chat_factory or (lambda: Chat(settings))
    limit = 1 if settings.resolved_backend == "local" else 8  # one llama.cpp context per process

    def new_session(session: _Session | None) -> _Session:
        return session if session is not None else _Session(factory())

    def on_load(session: _Session | None) -> tuple[_Session, str]:
        session = new_session(session)
        try:
            return session, status_html(session.chat.llm.describe())
        except QAError as e:
            return session, status_html(None, str(e))
        except Exception as e:  # the page must stay usable
            log.exception("cannot start the model")
            return session, status_html(None, f"{type(e).__name__}: {_one_line(str(e))}")

    def on_submit(question: str, session: _Session | None) -> tuple[Any, Any, _Session]:
        session = new_session(session)
        if session.busy:
            return gr.skip(), gr.skip(), session
        session.busy = True
        session.pending = question or ""
        if session.pending.strip():
            session.messages.append({"role": "user", "content": _esc(session.pending)})
        session.messages.append({"role": "assistant", "content": _THINKING})
        return (gr.Textbox(value="", interactive=False), list(session.messages), session)

    def on_example(evt: gr.SelectData, session: _Session | None) -> tuple[Any, Any, _Session]:
        value = evt.value.get("text", "") if isinstance(evt.value, dict) else str(evt.value)
        return on_submit(value, session)

    def on_answer(session: _Session) -> Iterator[tuple[Any, Any, Any]]:
        question, session.pending = session.pending, None
        if question is None:
            return
        epoch = session.epoch
        session.turn += 1
        turn = session.turn
        msgs = session.messages
        final: Answer | None = None
        panel: Any = gr.skip()
        try:
            stream = session.chat.stream(question)
            draft = ""
            for item in stream:
                if session.epoch != epoch:
                    stream.close()
                    return
                if isinstance(item, Answer):
                    final = item  # keep reading: the Chat records its history after the Answer
                    continue
                if isinstance(item, Retrieved):
                    reading = retrieved_html(question, item.sources, turn)
                    yield gr.skip(), _panel([reading, *session.sections]), gr.skip()
                    continue
                draft += item
                msgs[-1] = {"role": "assistant", "content": draft_html(draft)}
                yield list(msgs), gr.skip(), gr.skip()
            if final is None:
                raise RuntimeError("the answer stream ended without an answer")
            content = answer_html(final, turn)
            session.sections.insert(0, sources_html(final, turn))
            panel = _panel(session.sections)
        except QAError as e:
            content = error_html(str(e))
        except Exception as e:  # one line in the page; the traceback goes to the log
            log.exception("answering %r failed", question)
            content = error_html(f"unexpected {type(e).__name__}: {e}")
        if session.epoch != epoch:
            return
        msgs[-1] = {"role": "assistant", "content": content}
        session.busy = False
        yield list(msgs), panel, gr.Textbox(interactive=True)

    def on_new_chat(session: _Session | None) -> tuple[Any, Any, Any, _Session]:
        session = new_session(session)
        session.epoch += 1
        session.chat = factory()  # a fresh Chat: an answer still streaming writes to the old one
        session.busy = False
        session.pending = None
        session.messages = []
        session.sections = []
        return [], _EMPTY_PANEL, gr.Textbox(value="", interactive=True), session

    with gr.Blocks(title="qa · cited answers from the articles", analytics_enabled=False,
                   fill_width=True) as demo:
        session = gr.State(None)
        with gr.Row(elem_classes="qa-header"):
            gr.Markdown("### Ask the articles\nEvery claim is cited and checked against the "
                        "news articles; click a marker to see its quote.",
                        elem_classes="qa-intro")
            status = gr.HTML(status_html(None), elem_classes="qa-status-box", js_on_load=None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=360):
                chatbot = gr.Chatbot(
                    label="Chat", elem_id="qa-chat", height=520, layout="bubble",
                    buttons=["copy"], feedback_options=None, allow_tags=False,
                    group_consecutive_messages=False,
                    latex_delimiters=[], placeholder="Ask a question about the news articles.",
                    examples=[{"text": q} for q in EXAMPLES],
                )
                with gr.Row():
                    box = gr.Textbox(
                        show_label=False, placeholder="Ask about the articles and press Enter",
                        elem_id="qa-question", lines=1, max_lines=4, scale=5, autofocus=True,
                    )
                    new_chat = gr.Button("New chat", elem_id="qa-new-chat", scale=1,
                                         min_width=100, variant="secondary")
            with gr.Column(scale=2, min_width=300):
                panel = gr.HTML(_EMPTY_PANEL, elem_id="qa-panel", js_on_load=None,
                                max_height=640, autoscroll=False)

        demo.load(on_load, [session], [session, status], concurrency_limit=None,
                  show_progress="hidden")
        answer_args: dict[str, Any] = {
            "fn": on_answer, "inputs": [session], "outputs": [chatbot, panel, box],
            "concurrency_id": "answer", "concurrency_limit": limit,
            "show_progress": "minimal", "show_progress_on": [chatbot],
        }
        box.submit(on_submit, [box, session], [box, chatbot, session], show_progress="hidden",
                   queue=False).then(**answer_args)
        chatbot.example_select(on_example, [session], [box, chatbot, session],
                               show_progress="hidden", queue=False).then(**answer_args)
        new_chat.click(on_new_chat, [session], [chatbot, panel, box, session],
                       show_progress="hidden", queue=False)
        chatbot.clear(on_new_chat, [session], [chatbot, panel, box, session],
                      show_progress="hidden", queue=False)
    demo.queue(default_concurrency_limit=limit)
    return demo


def check_port(host: str, port: int) -> None:
    """ConfigError now if host:port cannot be served, not after minutes of loading."""
    if not 1 <= port <= 65535:
        # getaddrinfo takes 99999 (as 34463), so the server's own bind would fail later.
        raise ConfigError(f"port must be between 1 and 65535, not {port}")
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port,
                                                             type=socket.SOCK_STREAM)[0]
        with socket.socket(family, kind, proto) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server will
            s.bind(address)
    except OSError as e:
        raise _cannot_serve(host, port, e) from None


def _cannot_serve(host: str, port: int, e: OSError) -> ConfigError:
    return ConfigError(f"cannot serve on {host}:{port} ({e.strerror or _one_line(str(e))}); "
                       "try another --port or --host")


def launch(settings: Settings, *, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Load the model and index first, then serve: the first question pays no load time."""
    check_port(host, port)
    try:
        print("Loading model…", flush=True)
        get_llm(settings)
        print("Opening index…", flush=True)
        get_retriever(settings, progress=True)
        print(f"Ready: {warm_up(settings)}", flush=True)
    except QAError as e:
        # Serve anyway: the page shows the same line, and a fixed cause needs no restart.
        print(f"Error: {e}", file=sys.stderr, flush=True)
    demo = build_app(settings)
    try:
        demo.launch(server_name=host, server_port=port, quiet=True, prevent_thread_lock=True,
                    **launch_options())
    except OSError as e:  # taken between the check and now
        raise _cannot_serve(host, port, e) from None
    print(f"Open http://{'127.0.0.1' if host == '0.0.0.0' else host}:{port} "
          f"(serving on {host}; Ctrl+C to stop)", flush=True)
    demo.block_thread()
