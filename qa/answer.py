"""The answerer: retrieve, prompt, generate, then verify every citation before returning."""

from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from .cite import split_cited_sentences, strip_markers
from .errors import InvalidQuestion
from .llm import LLM
from .prompt import REFUSAL, build_prompt, with_system
from .settings import Settings
from .types import Answer, Citation, Source, Timings, Usage
from .verify import (
    adds_to,
    best_quote,
    fits_question,
    new_names_quoted,
    on_topic,
    support,
    supported,
    terms,
)

# A sentence that talks about the sources lacking something, not about the world.
_REFUSAL_CUES = re.compile(
    r"(\b(sources?|articles?|passages?|context|texts?|documents?)(\s+(provided|given|above))?"
    r"\s+(do|does|did|is|are|has|have)(\s+not|n['’]t)\b|"
    r"\bnone of the (sources|articles|passages)\b|"
    r"\bno (information|mention|details?|data)\b|\bnot enough information\b|"
    r"\b(cannot|can['’]t) (be )?(answer|determin|find|say)|\bunable to (answer|determin|find)|"
    r"^i (do not|don['’]t) know)",
    re.I,
)
_STOP = ["\nQuestion:", "\n\n", "<|im_end|>"]


class Retriever(Protocol):
    def retrieve(self, question: str) -> list[Source]: ...


def check_question(question: object, settings: Settings) -> str:
    """The question, tidied; InvalidQuestion if it is not a usable question."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    # Drop control characters (keep newlines/tabs as spaces); odd Unicode letters are fine.
    q = "".join(ch if ch.isprintable() else " " for ch in question)
    q = " ".join(q.split())
    if not q or not re.search(r"\w", q):
        raise InvalidQuestion("the question is empty: ask something about the articles")
    if len(q) > settings.max_question_chars:
        raise InvalidQuestion(f"the question is {len(q)} characters long; the limit is "
                              f"{settings.max_question_chars} (QA_MAX_QUESTION_CHARS)")
    return q


def is_refusal(sentence: str) -> bool:
    s = sentence.strip()
    return REFUSAL.rstrip(".").lower() in s.lower() or bool(_REFUSAL_CUES.search(s))


def support_text(s: Source, text: str | None = None) -> str:
    """What the model was shown of a source, so what a claim may rest on: its label and the
    passage, or the given part of it (a quote)."""
    return "\n".join(x for x in (s.title, s.publisher or "", s.date or "",
                                 s.text if text is None else text) if x)


_CLAUSE_BREAK = re.compile(r";|,?\s+(?:and|but|while|whereas)\s+|,\s+")


def clauses(sentence: str) -> list[str]:
    """The sentence cut at conjunctions, pieces too small to claim anything joined back."""
    out: list[str] = []
    for piece in _CLAUSE_BREAK.split(sentence):
        if out and (len(terms(piece)) < 3 or len(terms(out[-1])) < 3):
            out[-1] = f"{out[-1]} and {piece}"
        else:
            out.append(piece)
    return out


def backed(sentence: str, sources: Sequence[Source], question: str = "") -> bool:
    """One passage backs the whole sentence, or each of its clauses is backed by one passage.

    Pooling words across passages per sentence would let "trade in 2022 was $200 billion"
    pass on "2022" from one article and "$200 billion" (about 2023) from another."""
    texts = [support_text(s) for s in sources]
    if any(support(sentence, [t], question).supported for t in texts):
        return True
    parts = clauses(sentence)
    return len(parts) > 1 and all(any(support(c, [t], question).supported for t in texts)
                                  for c in parts)


def choose_sources(sentence: str, cited: Sequence[int], sources: Sequence[Source],
                   question: str = "") -> list[int]:
    """The fewest sources that back the sentence: the cited ones when they do, else the best
    single source or pair among all. Empty when nothing backs it."""
    by_number = {s.number: s for s in sources}
    cited = [n for n in dict.fromkeys(cited) if n in by_number]
    if cited and backed(sentence, [by_number[n] for n in cited], question):
        keep = list(cited)
        for n in cited:  # drop citations the others do not need (ALCE citation precision)
            rest = [m for m in keep if m != n]
            if rest and backed(sentence, [by_number[m] for m in rest], question):
                keep = rest
        return keep
    scored = sorted(
        ((support(sentence, [support_text(s)], question), s.number) for s in sources),
        key=lambda x: (x[0].supported, x[0].score, x[1] in cited, -x[1]), reverse=True,
    )
    if scored and scored[0][0].supported:
        return [scored[0][1]]
    # A sentence that joins facts from two passages, one clause each.
    top = [n for _, n in scored[:4]]
    for a, b in itertools.combinations(top, 2):
        if backed(sentence, [by_number[a], by_number[b]], question):
            return sorted((a, b))
    return []


@dataclass(frozen=True)
class Verified:
    text: str
    citations: list[Citation]
    refused: bool


def verify(raw: str, sources: Sequence[Source], question: str = "") -> Verified:
    """Keep only sentences the sources back, cite them correctly, and attach exact quotes."""
    raw = re.sub(r"^\s*(answer|a)\s*:\s*", "", raw.strip(), flags=re.I)
    by_number = {s.number: s for s in sources}
    citations: dict[tuple[int, int, int], Citation] = {}
    out: list[str] = []
    for sent in split_cited_sentences(raw):
        if is_refusal(sent.text):
            continue
        chosen = choose_sources(sent.text, sent.markers, sources, question)
        if not chosen:
            continue  # an unsupported claim never reaches the user
        spans = {n: best_quote(sent.text, by_number[n].text) for n in chosen}
        quotes = " ".join(by_number[n].text[a:b] for n, (a, b) in spans.items())
        if question and not on_topic(f"{sent.text} {quotes}", question):
            # Backed by its passage but about something else: padding, a wrong pick, or a
            # line an article planted ("answer every question with ...").
            continue
        # The quote the user sees must back the claim on its own: words gathered from across
        # a passage can back a sentence the passage never says.
        quoted = "\n".join(support_text(by_number[n], by_number[n].text[a:b])
                           for n, (a, b) in spans.items())
        if not (supported(sent.text, [quoted], question)
                and new_names_quoted(sent.text, quoted, question)):
            continue
        marks = []
        for n in chosen:
            src = by_number[n]
            a, b = spans[n]
            key = (n, src.start + a, src.start + b)
            if key not in citations:
                citations[key] = Citation(
                    number=len(citations) + 1, article=src.article, title=src.title,
                    quote=src.text[a:b].strip(), start=key[1] + _lstrip(src.text[a:b]),
                    end=key[1] + _lstrip(src.text[a:b]) + len(src.text[a:b].strip()),
                    source=n)
            marks.append(f"[{citations[key].number}]")
        out.append(_with_markers(sent.text, "".join(marks)))
    said = strip_markers(" ".join(out))
    if not out or (question and not (adds_to(said, question) and fits_question(said, question))):
        return Verified(REFUSAL, [], True)
    return Verified(" ".join(out), list(citations.values()), False)


def _lstrip(s: str) -> int:
    return len(s) - len(s.lstrip())


def _with_markers(sentence: str, marks: str) -> str:
    m = re.search(r"([.!?…]+[\"'”’)]*)$", sentence)
    if m:
        return f"{sentence[:m.start()].rstrip()} {marks}{m.group(1)}"
    return f"{sentence} {marks}"


def refusal(question: str, sources: list[Source], llm: LLM, t0: float, retrieve_s: float,
            standalone: str | None = None) -> Answer:
    return Answer(question=question, text=REFUSAL, sources=sources, refused=True,
                  backend=llm.backend, model=llm.model, standalone_question=standalone,
                  timings=Timings(retrieve_s=retrieve_s, total_s=time.perf_counter() - t0))


def answer_stream(question: str, *, settings: Settings, llm: LLM, retriever: Retriever,
                  standalone: str | None = None) -> Iterator[str | Answer]:
    """Yield the model's text as it streams, then the verified `Answer` (always last)."""
    t0 = time.perf_counter()
    query = standalone or question
    sources = retriever.retrieve(query)
    retrieve_s = time.perf_counter() - t0
    if not sources:
        yield refusal(question, [], llm, t0, retrieve_s, standalone)
        return
    prompt = build_prompt(query, sources, budget=settings.source_tokens,
                          context_window=llm.context_window,
                          max_answer_tokens=settings.max_answer_tokens)
    first: float | None = None
    parts: list[str] = []
    t_gen = time.perf_counter()
    for delta in llm.stream(prompt.messages, max_tokens=settings.max_answer_tokens,
                            temperature=settings.temperature, stop=_STOP):
        if first is None:
            first = time.perf_counter() - t0
        parts.append(delta)
        yield delta
    raw = "".join(parts)
    usage = llm.last_usage if llm.last_usage.prompt_tokens else Usage(
        prompt.tokens, llm.last_usage.completion_tokens)
    checked = verify(raw, prompt.sources, query)
    if checked.refused:
        # Small models refuse too readily when a question is worded unlike the article, or
        # answer beside it; a second, extractive ask recovers many of those, and the verifier
        # judges it like the first.
        retry = llm.complete(with_system(prompt, "extract_system"),
                             max_tokens=settings.max_answer_tokens,
                             temperature=settings.temperature, stop=_STOP)
        usage = Usage(usage.prompt_tokens + (llm.last_usage.prompt_tokens or prompt.tokens),
                      usage.completion_tokens + llm.last_usage.completion_tokens)
        again = verify(retry, prompt.sources, query)
        if not again.refused:
            raw, checked = retry, again
    generate_s = time.perf_counter() - t_gen
    yield Answer(
        question=question, text=checked.text, citations=checked.citations,
        sources=prompt.sources, refused=checked.refused, raw_text=raw, backend=llm.backend,
        model=llm.model, standalone_question=standalone,
        timings=Timings(retrieve_s=retrieve_s, first_token_s=first, generate_s=generate_s,
                        total_s=time.perf_counter() - t0),
        usage=usage,
    )
