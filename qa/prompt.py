"""Prompt templates from prompts/, checked for their placeholders, and the token budget."""

from __future__ import annotations

import string
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from functools import cache

from .errors import ConfigError
from .settings import PROMPTS_DIR
from .types import Source

# The one refusal sentence: the prompt asks for it, the verifier recognises it, tests expect it.
REFUSAL = "The articles do not say."

_PLACEHOLDERS = {
    "answer_system": {"refusal"},
    "extract_system": {"refusal"},
    "answer_user": {"sources", "question"},
    "article": {"title", "details"},
    "source": {"number", "text"},
    "condense": {"history", "question"},
}


@cache
def template(name: str) -> str:
    """A prompt template by name; ConfigError if missing or its placeholders are wrong."""
    path = PROMPTS_DIR / f"{name}.txt"
    try:
        text = path.read_text(encoding="utf-8").strip("\n")
    except OSError:
        raise ConfigError(f"prompt template {path} is missing") from None
    found = {f for _, f, _, _ in string.Formatter().parse(text) if f}
    if found != _PLACEHOLDERS[name]:
        raise ConfigError(f"prompt template {path} must use exactly "
                          f"{sorted(_PLACEHOLDERS[name])}, found {sorted(found)}")
    return text


@cache
def _encoding():
    import tiktoken

    return tiktoken.get_encoding("cl100k_base")


def count_tokens(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def format_sources(sources: Sequence[Source]) -> str:
    """The numbered sources under their articles' headings, each heading once: a heading
    repeated over every passage would take a third of the prompt's budget."""
    lines: list[str] = []
    article = None
    for s in sources:
        if s.article != article:
            article = s.article
            by = f"by {s.publisher}" if s.publisher else None
            details = ", ".join(x for x in (by, s.date) if x)
            lines.append(template("article").format(title=s.title,
                                                    details=f", {details}" if details else ""))
        lines.append(template("source").format(number=s.number, text=" ".join(s.text.split())))
    return "\n".join(lines)


def arrange(pieces: Iterable[Source]) -> list[Source]:
    """The pieces as the prompt shows them, numbered 1..n: the article of the best piece
    first, each article's pieces in the order they stand in it, pieces that touch joined."""
    by_article: dict[str, list[Source]] = {}
    for p in pieces:
        by_article.setdefault(p.article, []).append(p)
    out: list[Source] = []
    for group in by_article.values():
        runs: list[Source] = []
        for p in sorted(group, key=lambda p: p.start):
            if runs and runs[-1].end == p.start:
                runs[-1] = replace(runs[-1], text=runs[-1].text + p.text, end=p.end,
                                   score=max(runs[-1].score, p.score))
            else:
                runs.append(p)
        out.extend(runs)
    return [replace(p, number=i, text=p.text.rstrip(), end=p.end - _rstripped(p.text))
            for i, p in enumerate(out, 1)]


def _rstripped(text: str) -> int:
    return len(text) - len(text.rstrip())


def system_message(name: str = "answer_system") -> str:
    return template(name).format(refusal=REFUSAL)


@dataclass(frozen=True)
class Prompt:
    messages: list[dict[str, str]]
    sources: list[Source]  # the ones that fit, renumbered 1..n
    tokens: int  # tiktoken count of the whole prompt
    question: str


def build_prompt(question: str, pieces: Sequence[Source], *, budget: int,
                 context_window: int, max_answer_tokens: int) -> Prompt:
    """The pieces (passages or sentences), best first, as many as fit both the budget and the
    model's window, arranged by `arrange`."""
    system = system_message()
    fixed = count_tokens(system) + count_tokens(template("answer_user")) + count_tokens(question)
    room = min(budget, context_window - max_answer_tokens - fixed - 32)  # 32: chat-template tokens
    kept: list[Source] = []
    for p in pieces:
        if count_tokens(format_sources(arrange([*kept, p]))) <= room:
            kept.append(p)
        elif not kept:
            break
        # else a smaller piece further down may still fit
    if pieces and not kept:
        # Every answer would be a refusal for want of room, which reads as "not in the articles".
        raise ConfigError(f"no passage fits the {max(room, 0)} tokens left for sources "
                          f"(QA_SOURCE_TOKENS is {budget}, the model's window {context_window}); "
                          "raise QA_SOURCE_TOKENS, or QA_N_CTX for the local model")
    return _prompt(system, arrange(kept), question)


def with_question(prompt: Prompt, question: str) -> Prompt:
    """The same numbered sources under another question: a part of the one they were fitted
    for, so no shorter than it and no source has to go."""
    return prompt if question == prompt.question else _prompt(
        prompt.messages[0]["content"], prompt.sources, question)


def with_sources(prompt: Prompt, sources: Sequence[Source]) -> Prompt:
    """The same question over some of its sources, renumbered 1..n."""
    kept = [replace(s, number=i) for i, s in enumerate(sources, 1)]
    return _prompt(prompt.messages[0]["content"], kept, prompt.question)


def with_system(prompt: Prompt, name: str) -> Prompt:
    """The same sources and question under another system prompt."""
    return _prompt(system_message(name), prompt.sources, prompt.question)


def _prompt(system: str, sources: list[Source], question: str) -> Prompt:
    user = template("answer_user").format(sources=format_sources(sources), question=question)
    return Prompt([{"role": "system", "content": system}, {"role": "user", "content": user}],
                  sources, count_tokens(system) + count_tokens(user), question)


def condense_messages(history: Sequence[tuple[str, str]], question: str) -> list[dict[str, str]]:
    """The request to rewrite a follow-up, under the answering system prompt, whose
    evaluated tokens llama.cpp keeps for the answer that follows."""
    lines = []
    for q, a in history[-3:]:
        lines.append(f"User: {q}")
        lines.append(f"Assistant: {a}")
    text = template("condense").format(history="\n".join(lines), question=question)
    return [{"role": "system", "content": system_message()}, {"role": "user", "content": text}]
