"""The answerer: retrieve, prompt, generate, and verify every sentence before it is shown."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
import unicodedata
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

from . import nlp
from .cite import hollow, renumber, sentence_spans, split_cited_sentences, strip_markers
from .errors import InvalidQuestion
from .llm import LLM
from .prompt import (
    REFUSAL,
    Prompt,
    build_prompt,
    count_tokens,
    with_question,
    with_sources,
    with_system,
)
from .question import Ask, parts, read, truecase
from .retrieve import question_weights, rank_sentences
from .settings import Settings
from .types import Answer, Citation, Retrieved, Source, Timings, Usage
from .verify import Evidence, Verdict, answers, check, is_refusal

_STOP = ["\nQuestion:", "\n\n", "<|im_end|>"]


class Retriever(Protocol):
    def retrieve(self, question: str) -> list[Source]: ...


def check_question(question: object, settings: Settings) -> str:
    """The question, tidied; InvalidQuestion if it is not a usable question."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    # NFKC folds full-width letters and decomposed accents into the forms articles use;
    # invisible format marks (zero-width space, soft hyphen) go, so "Lav\u200brov" stays one
    # word; other control characters become spaces.
    q = "".join("" if unicodedata.category(ch) == "Cf" else ch if ch.isprintable() else " "
                for ch in unicodedata.normalize("NFKC", question))
    q = " ".join(q.split())
    letters = [ch for ch in q if ch.isalpha()]
    if not letters:
        raise InvalidQuestion("the question is empty: ask something about the articles")
    if len(q) > settings.max_question_chars:
        raise InvalidQuestion(f"the question is {len(q)} characters long; the limit is "
                              f"{settings.max_question_chars} (QA_MAX_QUESTION_CHARS)")
    # The checks read English; a question in another script would be refused minutes later.
    if sum(_latin(ch) for ch in letters) < 0.5 * len(letters):
        raise InvalidQuestion("ask in English, the language of the articles and the checks")
    return q


def _latin(ch: str) -> bool:
    return unicodedata.name(ch, "").startswith("LATIN")


@dataclass(frozen=True)
class Verified:
    text: str
    citations: list[Citation]
    refused: bool


def support_text(s: Source) -> str:
    """The heading the prompt shows above a source: title, publisher, date."""
    return "\n".join(x for x in (s.title, s.publisher or "", s.date or "") if x)


def _evidence(span: tuple[int, int], src: Source, shown: Sequence[Source]) -> Evidence:
    a, b = span
    article = "\n".join(s.text for s in shown if s.article == src.article)
    everything = "\n".join(f"{support_text(s)}\n{s.text}" for s in shown)
    before = [x for x in sentence_spans(src.text[:a]) if src.text[x[0]:x[1]].strip()]
    lead = src.text[before[-1][0]:before[-1][1]] if before else ""
    return Evidence(quote=src.text[a:b], header=support_text(src), shown=article,
                    prompt=everything, lead=lead)


def best_quote(sentence: str, text: str) -> tuple[int, int]:
    """The span, within a source's text, of the sentence (or two adjacent sentences) that
    says most of what the answer sentence says."""
    spans = sentence_spans(text) or [(0, len(text))]
    nlp.parse_many(text[a:b] for a, b in spans)
    want = nlp.parse(sentence)
    said = {k for t in nlp.content(want) for k in nlp.keys(t)}
    values = nlp.amounts(want)

    def score(a: int, b: int) -> int:
        doc = nlp.parse(text[a:b])
        words = {k for t in nlp.content(doc) for k in nlp.keys(t)}
        held = nlp.amounts(doc)
        return (len({t.lemma_ for t in nlp.content(want) if nlp.keys(t) & words})
                + 2 * sum(any(v.same(h) for h in held) for v in values)) if said or values else 0

    scores = [score(a, b) for a, b in spans]
    i = max(range(len(spans)), key=lambda k: (scores[k], -k))
    for j in (i - 1, i + 1):  # a second sentence when it adds what the answer says
        if 0 <= j < len(spans):
            a, b = spans[min(i, j)][0], spans[max(i, j)][1]
            if score(a, b) > scores[i] + 1:
                return a, b
    return spans[i]


def _backing(sentence: str, cited: Sequence[int], sources: Sequence[Source], ask: Ask,
             ) -> tuple[str, list[tuple[Source, tuple[int, int]]]] | None:
    """The sentence as it may stand, and the quote that backs it: in the cited source, or
    else in any other. A sentence that drops its quote's "not", "could" or
    "X said" is replaced by the quoted sentence itself, which says what the model meant to.
    None when nothing backs it."""
    by_number = {s.number: s for s in sources}
    order = [by_number[n] for n in dict.fromkeys(cited) if n in by_number]
    order += [s for s in sources if s not in order]
    quotes = [(s, best_quote(sentence, s.text)) for s in order]
    repair = None
    for src, (a, b) in quotes:
        verdict = check(sentence, _evidence((a, b), src, sources), ask)
        if verdict is Verdict.BACKED:
            return sentence, [(src, (a, b))]
        if verdict is Verdict.STANCE and repair is None:
            repair = " ".join(src.text[a:b].split()), [(src, (a, b))]
    if repair is not None:
        return repair
    return None


def verify(raw: str, sources: Sequence[Source], ask: Ask) -> Verified:
    """Keep only the sentences the sources back, each cited to the exact quote that backs
    it; a refusal unless what is kept answers the question."""
    raw = re.sub(r"^\s*(answer|a)\s*:\s*", "", raw.strip(), flags=re.I)
    citations: dict[tuple[str, int, int], Citation] = {}
    out: list[str] = []
    seen: set[str] = set()
    for sent in split_cited_sentences(raw):
        text = sent.text
        if is_refusal(text) or text.rstrip().endswith("?") or hollow(text) or (
                text.lower() in seen):
            continue  # asserts nothing, or said already (small models repeat themselves)
        seen.add(text.lower())
        found = _backing(text, sent.markers, sources, ask)
        if found is None:
            continue  # an unsupported claim never reaches the user
        text, quotes = found
        said = {k for t in nlp.content(nlp.parse(text)) for k in nlp.keys(t)}
        if said and said <= {k for t in nlp.content(nlp.parse(" ".join(out))) for k in nlp.keys(t)}:
            continue  # says nothing the answer has not (a repair can repeat the next sentence)
        marks = []
        for src, (a, b) in quotes:
            quote = src.text[a:b]
            start = src.start + a + len(quote) - len(quote.lstrip())
            key = (src.article, start, src.number)
            if key not in citations:
                citations[key] = Citation(
                    number=len(citations) + 1, article=src.article, title=src.title,
                    quote=quote.strip(), start=start, end=start + len(quote.strip()),
                    source=src.number)
            marks.append(f"[{citations[key].number}]")
        out.append(_with_markers(text, "".join(marks)))
    if not out or not answers(strip_markers(" ".join(out)), ask):
        return Verified(REFUSAL, [], True)
    return Verified(" ".join(out), list(citations.values()), False)


_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)]*$")


def _with_markers(sentence: str, marks: str) -> str:
    m = _SENTENCE_END.search(sentence)
    if m:
        return f"{sentence[:m.start()].rstrip()} {marks}{m.group()}"
    return f"{sentence} {marks}."


def interleave(lists: Sequence[Sequence[Source]]) -> list[Source]:
    """Each list's best passage first, then each one's second, …; each passage once."""
    seen: set[tuple[str, int]] = set()
    out: list[Source] = []
    for group in itertools.zip_longest(*lists):
        for s in group:
            if s is not None and (s.article, s.start) not in seen:
                seen.add((s.article, s.start))
                out.append(s)
    return out


def merge(parts: Sequence[tuple[str, Verified]]) -> Verified:
    """One answer from the answers to a question's parts, citations renumbered in order; a
    part the sources do not answer is named, so a half answer never reads as a whole one."""
    if len(parts) == 1:
        return parts[0][1]
    if all(v.refused for _, v in parts):
        return Verified(REFUSAL, [], True)
    citations: dict[tuple[int, int, int], Citation] = {}
    texts: list[str] = []
    for part, v in parts:
        if v.refused or any(strip_markers(v.text) == strip_markers(t) for t in texts):
            texts.append(f"The articles do not answer: {part}")
            continue
        numbers: dict[int, int] = {}
        for c in v.citations:
            key = (c.source, c.start, c.end)
            if key not in citations:
                citations[key] = dataclasses.replace(c, number=len(citations) + 1)
            numbers[c.number] = citations[key].number
        texts.append(renumber(v.text, numbers))
    return Verified(" ".join(texts), list(citations.values()), False)


@dataclass
class _Generated:
    raw: str
    checked: Verified
    usage: Usage


def premise_shown(ask: Ask, sources: Sequence[Source]) -> bool:
    """Whether every person or organisation the question takes as given stands in a passage
    retrieved for it (places are often named otherwise: "America", "the US"; so are names
    that only describe, "the American president").
    One that stands in none is a premise the articles do not share ("What did Wang tell
    Biden in Malta?" over articles without Malta): any answer would accept it, so the
    question is refused without asking the model."""
    pool = nlp.Pool([*(s.text for s in sources), *(support_text(s) for s in sources)])
    return all(pool.has_name(n) for n in ask.people_and_bodies if n not in ask.describing)


def _generate(prompt: Prompt, ask: Ask, settings: Settings, llm: LLM,
              ) -> Generator[str, None, _Generated]:
    """Stream the model's reply, yielding only what passed the checks: each sentence as it
    completes, once the answer so far answers the question. Nothing the checks reject, an
    instruction planted in an article among them, reaches the screen even for a moment."""
    raw = ""
    shown = ""
    checked = Verified(REFUSAL, [], True)
    for delta in llm.stream(prompt.messages, max_tokens=settings.max_answer_tokens,
                            temperature=settings.temperature, stop=_STOP):
        raw += delta
        done = sentence_spans(raw)
        if len(done) < 2:
            continue
        checked = verify(raw[:done[-2][1]], prompt.sources, ask)
        if not checked.refused and checked.text.startswith(shown):
            yield checked.text[len(shown):]
            shown = checked.text
    checked = verify(raw, prompt.sources, ask)
    if not checked.refused and checked.text.startswith(shown) and checked.text != shown:
        yield checked.text[len(shown):]
    usage = llm.last_usage if llm.last_usage.prompt_tokens else Usage(
        prompt.tokens, llm.last_usage.completion_tokens)
    return _Generated(raw, checked, usage)


def _answer_part(ask: Ask, prompt: Prompt, best: Source | None, found: Sequence[Source],
                 settings: Settings, llm: LLM) -> Generator[str, None, _Generated]:
    """One ask, answered over the prompt's sources, asked again as `_asks` says while every
    reply so far failed the checks."""
    if not premise_shown(ask, found):
        return _Generated(REFUSAL, Verified(REFUSAL, [], True), Usage(0, 0))
    done: list[_Generated] = []
    for attempt in _asks(prompt, best):
        got = yield from _generate(attempt, ask, settings, llm)
        if attempt.sources is not prompt.sources and not got.checked.refused:
            got = dataclasses.replace(got, checked=_renumbered(got.checked, attempt, prompt))
        done.append(got)
        if not got.checked.refused:
            break
    usage = Usage(sum(g.usage.prompt_tokens for g in done),
                  sum(g.usage.completion_tokens for g in done))
    return dataclasses.replace(done[-1], raw="\n".join(g.raw for g in done), usage=usage)


def _asks(prompt: Prompt, best: Source | None) -> list[Prompt]:
    """The prompts to try in turn until one gets an answer past the checks: the prompt, then
    the source of the best-ranked sentence alone under the extractive system prompt. Among
    several sources a 1.5B model misses an answer it finds in one; asked to copy the
    answering words it paraphrases less. On the BBC tuning sets and v1 this retry gained 4
    of 114 answerable questions and lost no refusal; asking the extractive prompt over all
    the sources gained 9 but lost 6 of 47 refusals (docs/experiments.md)."""
    tries = [prompt]
    if best is not None:
        tries.append(with_system(with_sources(prompt, [best]), "extract_system"))
    return tries


def _renumbered(v: Verified, shown: Prompt, prompt: Prompt) -> Verified:
    """An answer over some of the prompt's sources, its citations in the prompt's numbering."""
    number = {s.number: next(p.number for p in prompt.sources
                             if p.article == s.article and p.start == s.start)
              for s in shown.sources}
    return dataclasses.replace(v, citations=[dataclasses.replace(c, source=number[c.source])
                                             for c in v.citations])


def answer_stream(question: str, *, settings: Settings, llm: LLM, retriever: Retriever,
                  standalone: str | None = None) -> Iterator[str | Retrieved | Answer]:
    """Yield the sources as soon as retrieval has them, then the answer's text as it is
    verified, then the verified `Answer` (always last)."""
    t0 = time.perf_counter()
    first: float | None = None
    for item in _answer_events(question, settings, llm, retriever, standalone, t0):
        if first is None and isinstance(item, str) and item.strip():
            first = time.perf_counter() - t0
        if isinstance(item, Answer):
            item = dataclasses.replace(
                item, timings=dataclasses.replace(item.timings, first_text_s=first))
        yield item


def _holding(sources: Sequence[Source], piece: Source) -> Source | None:
    """The prompt's source that shows the piece, if it reached the prompt."""
    return next((s for s in sources
                 if s.article == piece.article and s.start <= piece.start < s.end), None)


def _answer_events(question: str, settings: Settings, llm: LLM, retriever: Retriever,
                   standalone: str | None, t0: float) -> Iterator[str | Retrieved | Answer]:
    query = standalone or question
    asks = parts(query)
    found = [retriever.retrieve(q) for q in asks]
    # Retrieval ignores case; names are found by their capitals, so a question typed in
    # lower case takes its names' capitals from the passages found.
    cased = truecase(query, [s.text for f in found for s in f])
    if cased != query:
        query, recut = cased, parts(cased)
        if [a.lower() for a in recut] != [a.lower() for a in asks]:
            found = [retriever.retrieve(q) for q in recut]
        asks = recut
    retrieve_s = time.perf_counter() - t0
    prompt = None
    if any(found):
        weights = [question_weights(a, f) for a, f in zip(asks, found, strict=True)]
        ranked = [rank_sentences(a, f, w) for a, f, w in zip(asks, found, weights, strict=True)]
        # Every part sees the same numbered sources, fitted once for the longest part.
        prompt = build_prompt(max(asks, key=count_tokens), interleave(ranked),
                              budget=settings.source_tokens, context_window=llm.context_window,
                              max_answer_tokens=settings.max_answer_tokens)
        yield Retrieved(prompt.sources)
    t_gen = time.perf_counter()
    done: list[tuple[str, _Generated]] = []
    if prompt is not None:
        for i, a in enumerate(asks):
            if i:
                yield " "
            best = _holding(prompt.sources, ranked[i][0]) if ranked[i] else None
            done.append((a, (yield from _answer_part(read(a), with_question(prompt, a), best,
                                                     found[i], settings, llm))))
    checked = merge([(a, g.checked) for a, g in done]) if done else Verified(REFUSAL, [], True)
    yield Answer(
        question=question, text=checked.text, citations=checked.citations,
        sources=prompt.sources if prompt else [], refused=checked.refused,
        raw_text="\n".join(g.raw for _, g in done), backend=llm.backend,
        model=llm.model, standalone_question=standalone,
        timings=Timings(retrieve_s=retrieve_s, generate_s=time.perf_counter() - t_gen,
                        total_s=time.perf_counter() - t0),
        usage=Usage(sum(g.usage.prompt_tokens for _, g in done),
                    sum(g.usage.completion_tokens for _, g in done)),
    )
