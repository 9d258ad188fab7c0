"""Typed results: what `ask` returns, so callers never re-parse strings."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class Source:
    """A retrieved passage, as shown to the model under its number."""

    number: int  # 1-based position in the prompt's numbered sources
    article: str  # file name, relative to the articles folder
    title: str
    publisher: str | None
    date: str | None
    text: str  # the passage, verbatim from the article file
    start: int  # character span of the passage in the article file
    end: int
    score: float  # fused retrieval score (higher is better)


@dataclass(frozen=True)
class Citation:
    """One `[n]` in the answer text: the passage and the exact quote that supports it."""

    number: int
    article: str
    title: str
    quote: str  # verbatim substring of the article file
    start: int  # character span of the quote in the article file
    end: int
    source: int  # the Source.number this quote comes from


@dataclass(frozen=True)
class Retrieved:
    """What `ask_stream` yields first, before the model speaks: the numbered sources."""

    sources: list[Source]


@dataclass(frozen=True)
class Timings:
    retrieve_s: float = 0.0
    first_text_s: float | None = None  # from the start of `ask` to the first verified text
    generate_s: float = 0.0
    total_s: float = 0.0


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0


@dataclass(frozen=True)
class Answer:
    """A verified answer: each sentence of `text` carries `[n]` markers that `citations` resolve."""

    question: str
    text: str
    citations: list[Citation] = field(default_factory=list)
    sources: list[Source] = field(default_factory=list)
    refused: bool = False
    raw_text: str = ""  # what the model wrote, unchecked: for debugging, never to show
    backend: str = ""
    model: str = ""
    standalone_question: str | None = None  # set when a Chat rewrote a follow-up
    timings: Timings = field(default_factory=Timings)
    usage: Usage = field(default_factory=Usage)

    def citation(self, number: int) -> Citation:
        """The citation that `[number]` in the text refers to."""
        for c in self.citations:
            if c.number == number:
                return c
        raise KeyError(number)

    def to_dict(self, *, unchecked: bool = False) -> dict:
        """The answer as plain data; the model's unchecked text only when asked for."""
        out = asdict(self)
        if not unchecked:
            out.pop("raw_text")
        return out

    def to_json(self, indent: int | None = 2, *, unchecked: bool = False) -> str:
        return json.dumps(self.to_dict(unchecked=unchecked), indent=indent, ensure_ascii=False)
