"""The answerer: retrieve, prompt, generate, then verify every citation before returning."""

from __future__ import annotations

import dataclasses
import itertools
import re
import time
import unicodedata
from collections.abc import Callable, Generator, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from .cite import cite_only, hollow, renumber, split_cited_sentences, strip_markers
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
from .retrieve import question_weights, rank_sentences, relevance
from .settings import Settings
from .types import Answer, Citation, Source, Timings, Usage
from .verify import (
    about_quoted,
    addresses,
    adds_to,
    answers_kind,
    best_quote,
    counts_as_quoted,
    decides_as_quoted,
    dropped_denial,
    extract_numbers,
    fits_question,
    gives_back_set_aside,
    holds_role_as_quoted,
    keeps_denial,
    new_names_quoted,
    on_topic,
    premise_shown,
    speakers_quoted,
    speaks_as_asked,
    support,
    supported,
    swaps_name,
    terms,
    truecase,
)

# A sentence that talks about the sources lacking something, not about the world.
_REFUSAL_CUES = re.compile(
    r"(\b(sources?|articles?|passages?|context|texts?|documents?)(\s+(provided|given|above))?"
    r"\s+(do|does|did|is|are|has|have)(\s+not|n['’]t)\b|"
    r"\bnone of the (sources|articles|passages)\b|"
    # "The terms were not specified in the sources provided." (not "The sum was not
    # disclosed", which an article may say: the sources must be what lacks it)
    r"\bnot (specified|mentioned|stated|given|provided|disclosed|reported|detailed|included|"
    r"indicated|found) (in|by) (the |any (of the )?)?((provided|given) )?"
    r"(sources?|articles?|passages?|context|texts?|documents?)\b|"
    r"\bno (information|mention|details?|data)\b|\bnot enough information\b|"
    r"\b(cannot|can['’]t) (be )?(answer|determin|find|say)|\bunable to (answer|determin|find)|"
    r"^i (do not|don['’]t) know)",
    re.I,
)
# Below this share of what the best sentence holds of the question's words, an answer's
# quote is checked against an answer from the best sentence's source alone, then from the
# best few sentences.
WEAK_SHARE = 0.5
# How many of the best-ranked sentences a weak answer's last check shows the model.
FEW_SENTENCES = 3
# The second look's budget: the few sentences nearest the question in meaning.
SECOND_LOOK_TOKENS = 200
_STOP = ["\nQuestion:", "\n\n", "<|im_end|>"]


class Retriever(Protocol):
    def retrieve(self, question: str) -> list[Source]: ...


@runtime_checkable
class SentenceRetriever(Retriever, Protocol):
    """A retriever that can also rank sentences by meaning, for the second look."""

    def similar_sentences(self, question: str) -> list[Source]: ...


def check_question(question: object, settings: Settings) -> str:
    """The question, tidied; InvalidQuestion if it is not a usable question."""
    if not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    # NFKC folds full-width letters and decomposed accents into the forms articles use;
    # invisible format marks (zero-width space, soft hyphen) go, so "Lav\u200brov" stays one
    # word; other control characters become spaces. Odd Unicode letters are fine.
    q = "".join("" if unicodedata.category(ch) == "Cf" else ch if ch.isprintable() else " "
                for ch in unicodedata.normalize("NFKC", question))
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
    return _join_small(_CLAUSE_BREAK.split(sentence), lambda p: len(terms(p)) < 3)


def _join_small(pieces: Iterable[str], too_small: Callable[[str], bool]) -> list[str]:
    """The pieces in order, each one too small to stand alone joined to the one before."""
    out: list[str] = []
    for piece in pieces:
        if out and (too_small(piece) or too_small(out[-1])):
            out[-1] = f"{out[-1].rstrip('?')} and {piece}"
        elif piece:
            out.append(piece)
    return out


def article_context(chosen: Iterable[Source], shown: Sequence[Source]) -> str:
    """What the model was shown of the chosen passages' articles: where a name the question
    brings may stand when the passage that answers it says only "the encounter"."""
    articles = {s.article for s in chosen}
    return "\n".join(support_text(s) for s in shown if s.article in articles)


def backed(sentence: str, sources: Sequence[Source], question: str = "",
           shown: Sequence[Source] = ()) -> bool:
    """One passage backs the whole sentence, or each of its clauses is backed by one passage.

    Pooling words across passages per sentence would let "trade in 2022 was $200 billion"
    pass on "2022" from one article and "$200 billion" (about 2023) from another."""
    texts = [(support_text(s), article_context([s], shown)) for s in sources]
    if any(support(sentence, [t], question, c).supported for t, c in texts):
        return True
    parts = clauses(sentence)
    return len(parts) > 1 and all(any(support(p, [t], question, c).supported for t, c in texts)
                                  for p in parts)


def choose_sources(sentence: str, cited: Sequence[int], sources: Sequence[Source],
                   question: str = "") -> list[int]:
    """The fewest sources that back the sentence: the cited ones when they do, else the best
    single source or pair among all. Empty when nothing backs it."""
    by_number = {s.number: s for s in sources}
    cited = [n for n in dict.fromkeys(cited) if n in by_number]

    def backs(numbers: Sequence[int]) -> bool:
        return backed(sentence, [by_number[n] for n in numbers], question, sources)

    if cited and backs(cited):
        keep = list(cited)
        for n in cited:  # drop citations the others do not need (ALCE citation precision)
            rest = [m for m in keep if m != n]
            if rest and backs(rest):
                keep = rest
        return keep
    scored = sorted(
        ((support(sentence, [support_text(s)], question, article_context([s], sources)),
          s.number) for s in sources),
        key=lambda x: (x[0].supported, x[0].score, x[1] in cited, -x[1]), reverse=True,
    )
    if scored and scored[0][0].supported:
        return [scored[0][1]]
    # A sentence that joins facts from two passages, one clause each.
    top = [n for _, n in scored[:4]]
    for a, b in itertools.combinations(top, 2):
        if backs([a, b]):
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
    seen: set[str] = set()
    for sent in split_cited_sentences(raw):
        if is_refusal(sent.text) or sent.text.rstrip().endswith("?") or hollow(sent.text):
            continue  # asserts nothing: a question (often a quoted headline), or markers as words
        if sent.text.lower() in seen:
            continue  # small models repeat themselves
        seen.add(sent.text.lower())
        chosen = choose_sources(sent.text, sent.markers, sources, question)
        spans = _quotes_that_back(sent.text, chosen, sources, question)
        if spans is None and sent.markers:
            # The model's citation may be what fails the quote checks: try the passages
            # that back the sentence best, as for a sentence that cites nothing.
            best = choose_sources(sent.text, [], sources, question)
            if best != chosen:
                chosen, spans = best, _quotes_that_back(sent.text, best, sources, question)
        if spans is None and (text := _denial_put_back(sent.text, chosen, sources)):
            # The model wrote out the right sentence and lost its "not": the sentence as the
            # source writes it says what the model meant to.
            if text.lower() in seen:
                continue
            seen.add(text.lower())
            sent = dataclasses.replace(sent, text=text)
            chosen = choose_sources(text, sent.markers, sources, question)
            spans = _quotes_that_back(text, chosen, sources, question)
        if spans is None:
            continue  # an unsupported claim never reaches the user
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
    # An answer that shares no common word with the question and is not the kind of thing it
    # asks for answers something else: "Why did China oppose …?" answered with a line about
    # what the sides discussed.
    answers = not question or (adds_to(said, question) and fits_question(said, question)
                               and not gives_back_set_aside(said, question)
                               and not swaps_name(said, question)
                               and (addresses(said, question) or answers_kind(said, question)))
    if not out or not answers:
        return Verified(REFUSAL, [], True)
    return Verified(" ".join(out), list(citations.values()), False)


def _quotes_that_back(sentence: str, chosen: Sequence[int], sources: Sequence[Source],
                      question: str) -> dict[int, tuple[int, int]] | None:
    """The quote span in each chosen source, or None when the quotes do not back the
    sentence on their own or are about something other than the question."""
    if not chosen:
        return None
    by_number = {s.number: s for s in sources}
    spans = {n: best_quote(sentence, by_number[n].text) for n in chosen}
    quotes = "\n".join(by_number[n].text[a:b] for n, (a, b) in spans.items())
    if question and not (on_topic(quotes, question)
                         and about_quoted(quotes, question)
                         and speaks_as_asked(sentence, question)):
        # Backed by its passage but about something else: padding, a wrong pick, or a line
        # an article planted ("answer every question with ...").
        return None
    # The quote the user sees must back the claim on its own: words gathered from across a
    # passage can back a sentence the passage never says.
    quoted = "\n".join(support_text(by_number[n], by_number[n].text[a:b])
                       for n, (a, b) in spans.items())
    context = article_context((by_number[n] for n in chosen), sources)
    if not (supported(sentence, [quoted], question, context)
            and new_names_quoted(sentence, quoted, question)
            and holds_role_as_quoted(sentence, quoted, question)
            and speakers_quoted(sentence, quotes, context)
            and keeps_denial(sentence, quotes)
            and decides_as_quoted(sentence, quotes, question, context)
            and counts_as_quoted(sentence, quotes, question)):
        return None
    return spans


def _denial_put_back(sentence: str, chosen: Sequence[int],
                     sources: Sequence[Source]) -> str | None:
    """The sentence of a chosen source whose denial the sentence dropped, if any."""
    by_number = {s.number: s for s in sources}
    for n in chosen:
        a, b = best_quote(sentence, by_number[n].text)
        if found := dropped_denial(sentence, by_number[n].text[a:b]):
            return found
    return None


def _lstrip(s: str) -> int:
    return len(s) - len(s.lstrip())


_SENTENCE_END = re.compile(r"[.!?…]+[\"'”’)]*$")


def _with_markers(sentence: str, marks: str) -> str:
    m = _SENTENCE_END.search(sentence)
    if m:
        return f"{sentence[:m.start()].rstrip()} {marks}{m.group()}"
    return f"{sentence} {marks}"


def refusal(question: str, sources: list[Source], llm: LLM, t0: float, retrieve_s: float,
            standalone: str | None = None) -> Answer:
    return Answer(question=question, text=REFUSAL, sources=sources, refused=True,
                  backend=llm.backend, model=llm.model, standalone_question=standalone,
                  timings=Timings(retrieve_s=retrieve_s, total_s=time.perf_counter() - t0))


# Where a question asks a second thing: "…in 2022, and which meeting…?", "…? What…?"
_NEXT_ASK = re.compile(
    r"(?:\?\s+(?:and\s+)?|,?\s+and\s+)(?=(?:which|what|who|whom|whose|when|where|why|how|"
    r"did|does|do|is|are|was|were|has|have|had)\b)", re.I)


# "How did Wang Yi describe …", "Did Wang Yi visit …": whom a question's first ask is about,
# after its auxiliary.
_ASK_SUBJECT = re.compile(
    r"\b(?i:did|does|do|is|was|were|has|have|had|will|would|can|could)\s+"
    r"((?:[A-Z][\w'’-]*\s+)*[A-Z][\w'’-]*)")
_HE_SHE = re.compile(r"\b(?:he|she)\b")


def sub_questions(question: str) -> list[str]:
    """The question's separate asks, or the question alone.

    A 1.5B model answers one half of a two-part question and drops the other, and one
    retrieval for both halves often misses one half's passage. LlamaIndex's
    SubQuestionQueryEngine asks the LLM to plan the parts as JSON, which a 1.5B model does
    not do reliably; cutting at a coordinated wh-clause costs nothing and cannot invent."""
    # "Who met whom and when?" stays whole: "when" alone asks nothing.
    out = _join_small((p.strip(" ,") for p in _NEXT_ASK.split(question)),
                      lambda p: len(terms(p)) + len(extract_numbers(p)) < 2)
    if len(out) < 2:
        return [question]
    # Each part is retrieved and asked alone, so "what did he say" must say who.
    subject = _ASK_SUBJECT.search(out[0])
    if subject:
        out[1:] = [_HE_SHE.sub(subject.group(1), p, count=1) for p in out[1:]]
    return [f"{p[0].upper()}{p[1:].rstrip('?')}?" for p in out]


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
    parts = _one_answer_one_part(parts)
    if all(v.refused for _, v in parts):
        return Verified(REFUSAL, [], True)
    citations: dict[tuple[int, int, int], Citation] = {}
    texts: list[str] = []
    for part, v in parts:
        if v.refused:
            texts.append(f"The articles do not answer: {part}")
            continue
        renumber: dict[int, int] = {}
        for c in v.citations:
            key = (c.source, c.start, c.end)
            if key not in citations:
                citations[key] = dataclasses.replace(c, number=len(citations) + 1)
            renumber[c.number] = citations[key].number
        text = re.sub(r"\[(\d+)\]", lambda m, r=renumber: f"[{r[int(m.group(1))]}]", v.text)
        texts.append(text if _SENTENCE_END.search(text) else f"{text}.")
    return Verified(" ".join(texts), list(citations.values()), False)


def _one_answer_one_part(parts: Sequence[tuple[str, Verified]]) -> list[tuple[str, Verified]]:
    """The parts, where two got the same answer, with it kept only for the part it shares the
    most words with: one sentence does not answer two different asks."""
    out = list(parts)
    for i, j in itertools.combinations(range(len(out)), 2):
        (pi, vi), (pj, vj) = out[i], out[j]
        if vi.refused or vj.refused or strip_markers(vi.text) != strip_markers(vj.text):
            continue
        said = set(terms(vi.text))
        loser = j if len(said & set(terms(pi))) >= len(said & set(terms(pj))) else i
        out[loser] = (out[loser][0], Verified(REFUSAL, [], True))
    return out


@dataclass
class _Generated:
    raw: str
    checked: Verified
    usage: Usage
    first_token_at: float | None


def _answer_one(prompt: Prompt, settings: Settings, llm: LLM,
                ranked: Sequence[Source] = (), weights: dict[str, float] | None = None,
                ) -> Generator[str, None, _Generated]:
    """Stream the model's answer to the prompt's question over its sources, then verify it.
    `ranked` are this question's sentences as retrieval ranked them, best first, `weights`
    the question's words weighted as that ranking weighed them."""
    if not premise_shown(prompt.question, "\n".join(map(support_text, prompt.sources))):
        # The question takes as given a name no source mentions, so `verify` would refuse
        # any reply: no model call.
        yield REFUSAL
        return _Generated(REFUSAL, Verified(REFUSAL, [], True), Usage(0, 0), None)
    raw, usage, first = yield from _stream(prompt, settings, llm)
    checked = verify(raw, prompt.sources, prompt.question)
    beside = not checked.refused and not addresses(strip_markers(checked.text), prompt.question)
    if checked.refused or beside:
        # Small models refuse too readily when a question is worded unlike the article, or
        # answer beside it; a second, extractive ask recovers many of those, and the verifier
        # judges it like the first. An answer beside the question is replaced only by one
        # that is not.
        retry, usage = _ask(prompt, settings, llm, usage)
        again = verify(retry, prompt.sources, prompt.question)
        if not again.refused and not (
                beside and not addresses(strip_markers(again.text), prompt.question)):
            raw, checked = retry, again
    if len(prompt.sources) < 2 or not ranked:
        return _Generated(raw, checked, usage, first)
    weights = weights or {}
    top = ranked[0]
    best = _holding(prompt.sources, top)
    # An answer quoting far less of the question than the best sentence holds is often a
    # nearby fact taken from the wrong source: "China" from "the best relations with China"
    # for the country of a "special privileged partnership", which the next clause names.
    weak = _weak(checked, top, weights)
    if (checked.refused or weak) and best is not None:
        # Among several sources a 1.5B model often misses the one that answers; shown the
        # best one alone it finds the answer more often. When that is the prompt's first
        # source, the local model's prompt cache holds the retry's prefix up to its end.
        alone, usage = _ask(with_sources(prompt, [best]), settings, llm, usage)
        alone = cite_only(alone, best.number)  # it saw that source alone, as [1]
        raw, checked = _better(prompt, (raw, checked), alone, weak, weights)
        weak = _weak(checked, top, weights)
    # Still far: the best sentence's source ran on into other sentences that drew the model
    # off ("Russia" from the phone call's opening line for the group whose chairmanship
    # China backed, which the next sentence names). The best few sentences, each shown as a
    # source of its own, under the answering prompt. Not for a refusal: asked so narrowly,
    # the model answers questions the articles do not.
    few = [(s, h) for s in ranked[:FEW_SENTENCES]
           if (h := _holding(prompt.sources, s)) is not None] if weak else []
    if few:
        shown = with_sources(prompt, [dataclasses.replace(s, text=s.text.strip())
                                      for s, _ in few])
        reply, usage = _ask(shown, settings, llm, usage, "answer_system")
        reply = renumber(reply, {i: h.number for i, (_, h) in enumerate(few, 1)})
        raw, checked = _better(prompt, (raw, checked), reply, weak, weights)
    return _Generated(raw, checked, usage, first)


def _stream(prompt: Prompt, settings: Settings, llm: LLM,
            ) -> Generator[str, None, tuple[str, Usage, float | None]]:
    """Stream the model's reply to the prompt; return it, its usage and its first token's time."""
    first: float | None = None
    parts: list[str] = []
    for delta in llm.stream(prompt.messages, max_tokens=settings.max_answer_tokens,
                            temperature=settings.temperature, stop=_STOP):
        if first is None:
            first = time.perf_counter()
        parts.append(delta)
        yield delta
    usage = llm.last_usage if llm.last_usage.prompt_tokens else Usage(
        prompt.tokens, llm.last_usage.completion_tokens)
    return "".join(parts), usage, first


def _second_look(question: str, asks: Sequence[str], settings: Settings, llm: LLM,
                 retriever: SentenceRetriever,
                 ) -> Generator[str, None, tuple[Prompt, _Generated] | None]:
    """Ask once more over the sentences nearest each part in meaning, for a question every
    ask so far refused. The word ranking misses an answer its article words otherwise ("the
    G7" for "a club of major industrialized economies"); such a question is often refused.
    A short prompt of those sentences alone, verified like any answer."""
    prompt = build_prompt(question, interleave([retriever.similar_sentences(a) for a in asks]),
                          budget=SECOND_LOOK_TOKENS, context_window=llm.context_window,
                          max_answer_tokens=settings.max_answer_tokens)
    if not prompt.sources or not premise_shown(
            question, "\n".join(map(support_text, prompt.sources))):
        return None
    yield "\n"
    raw, usage, first = yield from _stream(prompt, settings, llm)
    return prompt, _Generated(raw, verify(raw, prompt.sources, question), usage, first)


def _weak(checked: Verified, top: Source, weights: dict[str, float]) -> bool:
    """Whether an answer's best quote holds under `WEAK_SHARE` of what the top sentence holds
    of the question."""
    return (not checked.refused
            and _relevance(checked, weights) < WEAK_SHARE * relevance(top.text, weights))


def _better(prompt: Prompt, current: tuple[str, Verified], reply: str, weak: bool,
            weights: dict[str, float]) -> tuple[str, Verified]:
    """The reply and its verified answer when they replace the current ones: it passes the
    checks and addresses the question, and against a weak answer quotes more of it."""
    again = verify(reply, prompt.sources, prompt.question)
    if (not again.refused and addresses(strip_markers(again.text), prompt.question)
            and (not weak or _relevance(again, weights) > _relevance(current[1], weights))):
        return reply, again
    return current


def _relevance(v: Verified, weights: dict[str, float]) -> float:
    """How much of the question the answer's best quote holds."""
    return max((relevance(c.quote, weights) for c in v.citations), default=0.0)


def _holding(sources: Sequence[Source], piece: Source) -> Source | None:
    """The source that shows the piece, if it reached the prompt."""
    return next((s for s in sources
                 if s.article == piece.article and s.start <= piece.start < s.end), None)


def _ask(prompt: Prompt, settings: Settings, llm: LLM, usage: Usage,
         system: str = "extract_system") -> tuple[str, Usage]:
    """The model's reply to the prompt's sources and question under the named system prompt
    (the extractive one unless told), and the usage so far with this call's added."""
    reply = llm.complete(with_system(prompt, system), max_tokens=settings.max_answer_tokens,
                         temperature=settings.temperature, stop=_STOP)
    return reply, Usage(usage.prompt_tokens + (llm.last_usage.prompt_tokens or prompt.tokens),
                        usage.completion_tokens + llm.last_usage.completion_tokens)


def answer_stream(question: str, *, settings: Settings, llm: LLM, retriever: Retriever,
                  standalone: str | None = None) -> Iterator[str | Answer]:
    """Yield the model's text as it streams, then the verified `Answer` (always last)."""
    t0 = time.perf_counter()
    query = standalone or question
    asks = sub_questions(query)
    found = [retriever.retrieve(q) for q in asks]
    # Retrieval ignores case; the checks do not, so a question typed in lower case gets its
    # names' capitals from the passages found, and is cut again ("did wang yi …, and what
    # did he say …" gives the second part the name only once "Wang Yi" has its capitals).
    cased = truecase(query, [s.text for f in found for s in f])
    if cased != query:
        query, recut = cased, sub_questions(cased)
        if [a.lower() for a in recut] != [a.lower() for a in asks]:
            found = [retriever.retrieve(q) for q in recut]
        asks = recut
    retrieve_s = time.perf_counter() - t0
    if not any(found):
        yield refusal(question, [], llm, t0, retrieve_s, standalone)
        return
    t_gen = time.perf_counter()
    # Every part sees the same numbered sources, fitted once for the longest part from the
    # sentences each part ranks best, so their citations share one numbering and the local
    # model reuses the evaluated sources from its prompt cache.
    weights = [question_weights(ask, f) for ask, f in zip(asks, found, strict=True)]
    ranked = [rank_sentences(ask, f, w) for ask, f, w in zip(asks, found, weights, strict=True)]
    prompt = build_prompt(max(asks, key=count_tokens), interleave(ranked),
                          budget=settings.source_tokens, context_window=llm.context_window,
                          max_answer_tokens=settings.max_answer_tokens)
    done: list[tuple[str, _Generated]] = []
    for i, ask in enumerate(asks):
        if i:
            yield "\n"
        done.append((ask, (yield from _answer_one(with_question(prompt, ask), settings, llm,
                                                  ranked[i], weights[i]))))
    checked = merge([(ask, g.checked) for ask, g in done])
    if checked.refused and isinstance(retriever, SentenceRetriever):
        second = yield from _second_look(query, asks, settings, llm, retriever)
        if second is not None:
            done.append((query, second[1]))
            if not second[1].checked.refused:
                prompt, checked = second[0], second[1].checked
    first = min((g.first_token_at for _, g in done if g.first_token_at), default=None)
    yield Answer(
        question=question, text=checked.text, citations=checked.citations,
        sources=prompt.sources, refused=checked.refused,
        raw_text="\n".join(g.raw for _, g in done), backend=llm.backend,
        model=llm.model, standalone_question=standalone,
        timings=Timings(retrieve_s=retrieve_s, first_token_s=first and first - t0,
                        generate_s=time.perf_counter() - t_gen,
                        total_s=time.perf_counter() - t0),
        usage=Usage(sum(g.usage.prompt_tokens for _, g in done),
                    sum(g.usage.completion_tokens for _, g in done)),
    )
