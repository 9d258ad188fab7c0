"""The eval suite: ask every question of an eval set, score the answers, compare with a baseline.

Metrics are small pure functions over typed `Answer`s, so a test can score hand-built answers
and a run can be re-scored without the model. `main` is what `qa eval` calls.
"""

from __future__ import annotations

import json
import math
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .cite import parse_markers, split_cited_sentences, strip_markers
from .errors import ConfigError, QAError
from .settings import Settings, shipped
from .types import Answer, Citation, Source, Timings, Usage

CATEGORIES = ("single_fact", "paraphrase", "multi_article", "time_sensitive", "yes_no",
              "unanswerable", "false_premise")
DEFAULT_EVAL_PATH = shipped("evals") / "v1.jsonl"
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"
COMPARE_CHOICES = ("baseline",)

AnswerFn = Callable[[str], Answer]


# --- the eval set -------------------------------------------------------------------------------

@dataclass(frozen=True)
class EvalItem:
    """One question of the eval set, with what a correct answer must contain."""

    id: str
    question: str
    category: str
    answerable: bool
    gold_facts: tuple[tuple[str, ...], ...]  # every fact must be present; any alternative counts
    gold_articles: tuple[str, ...]
    note: str = ""


def load_eval_set(path: Path) -> list[EvalItem]:
    """The eval set's items; ConfigError naming the file and line when anything is malformed."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise ConfigError(f"eval set {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"cannot read eval set {path}: {e}") from None
    items: list[EvalItem] = []
    seen: set[str] = set()
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{path}:{lineno}"
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise ConfigError(f"{where}: not valid JSON ({e.msg})") from None
        item = _parse_item(obj, where)
        if item.id in seen:
            raise ConfigError(f"{where}: duplicate id {item.id!r}")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise ConfigError(f"eval set {path} has no questions")
    return items


def _parse_item(obj: Any, where: str) -> EvalItem:
    if not isinstance(obj, dict):
        raise ConfigError(f"{where}: each line must be a JSON object")
    for key in ("id", "question", "category", "answerable", "gold_facts", "gold_articles"):
        if key not in obj:
            raise ConfigError(f"{where}: missing field {key!r}")
    if not isinstance(obj["id"], str | int) or isinstance(obj["id"], bool) or obj["id"] == "":
        raise ConfigError(f"{where}: 'id' must be a non-empty string")
    if not isinstance(obj["question"], str) or not obj["question"].strip():
        raise ConfigError(f"{where}: 'question' must be a non-empty string")
    if obj["category"] not in CATEGORIES:
        raise ConfigError(f"{where}: 'category' must be one of {', '.join(CATEGORIES)}, "
                          f"not {obj['category']!r}")
    if not isinstance(obj["answerable"], bool):
        raise ConfigError(f"{where}: 'answerable' must be true or false")
    facts = obj["gold_facts"]
    if not isinstance(facts, list) or not all(
        isinstance(f, list) and f and all(isinstance(a, str) and a.strip() for a in f)
        for f in facts
    ):
        raise ConfigError(f"{where}: 'gold_facts' must be a list of non-empty lists of strings")
    if obj["answerable"] and not facts:
        raise ConfigError(f"{where}: an answerable question needs at least one gold fact")
    arts = obj["gold_articles"]
    if not isinstance(arts, list) or not all(isinstance(a, str) and a for a in arts):
        raise ConfigError(f"{where}: 'gold_articles' must be a list of file names")
    note = obj.get("note") or ""
    if not isinstance(note, str):
        raise ConfigError(f"{where}: 'note' must be a string")
    return EvalItem(id=str(obj["id"]), question=obj["question"], category=obj["category"],
                    answerable=obj["answerable"],
                    gold_facts=tuple(tuple(f) for f in facts), gold_articles=tuple(arts),
                    note=note)


# --- fact matching ------------------------------------------------------------------------------
# The eval reads numbers with its own small parser, not the answerer's: a grader that shared
# the answerer's reading of "$79.3bn" would share its mistakes.

# Words that only say what a number measures; "$79.3 billion" and "79,300 million" name one value.
_UNIT_WORDS = {
    "trillion", "tn", "billion", "bn", "million", "mn", "m", "thousand", "k", "percent", "per",
    "cent", "pct", "dollar", "dollars", "usd",
}
# Glue words a number's neighbours need not repeat: "a dozen agreements" ~ "12 agreements".
_GLUE_WORDS = {"a", "an", "the", "of", "in", "on", "at", "to", "for", "by", "with", "and", "or"}
_SCALES = {"trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6,
           "m": 1e6, "thousand": 1e3, "k": 1e3}
_WORD_NUMBERS = {w: float(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
    "fifteen sixteen seventeen eighteen nineteen twenty".split())}
_WORD_NUMBERS.update({"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
                      "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12})
_VALUE = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*"
    r"(trillion|tn|billion|bn|million|mn|m\b|thousand|k\b)?|"
    rf"\b({'|'.join(_WORD_NUMBERS)})(?:-({'|'.join(_WORD_NUMBERS)}))?\b"
    r"(?:\s+(trillion|billion|million|thousand))?", re.I)


@dataclass(frozen=True)
class Number:
    """A number as written (`raw`) and as a value with its scale (`value`)."""

    raw: float
    value: float


def extract_numbers(text: str) -> list[Number]:
    """The numbers in a text: digits with their scale ("$1.13bn"), and counts in words."""
    out = []
    for m in _VALUE.finditer(text):
        if m.group(1):
            raw = float(m.group(1).replace(",", "") + (m.group(2) or ""))
            scale = _SCALES.get((m.group(3) or "").lower(), 1.0)
        else:
            raw = _WORD_NUMBERS[m.group(4).lower()] + (
                _WORD_NUMBERS[m.group(5).lower()] if m.group(5) else 0)
            scale = _SCALES.get((m.group(6) or "").lower(), 1.0)
        out.append(Number(raw, raw * scale))
    return out


def _tokens(text: str) -> list[str]:
    """Case-folded word tokens; quotes, apostrophes, hyphens and dashes of any style split words."""
    return re.findall(r"[^\W_]+", unicodedata.normalize("NFKC", text).casefold())


def _same_number(a: Number, b: Number) -> bool:
    """Equal values; an unscaled number also matches by its digits ("79.3" vs "79.3 billion")."""
    if abs(a.value - b.value) <= 1e-6 * max(1.0, abs(b.value)):
        return True
    return a.raw == b.raw and (a.raw == a.value or b.raw == b.value)


def _is_number_token(token: str) -> bool:
    return token[0].isdigit() or token in _WORD_NUMBERS


def _contains_phrase(tokens: Sequence[str], phrase: Sequence[str]) -> bool:
    n = len(phrase)
    return any(list(tokens[i:i + n]) == list(phrase) for i in range(len(tokens) - n + 1))


def alternative_present(alternative: str, text: str) -> bool:
    """Whether one wording of a fact is in the text: numbers by value, words as a phrase."""
    text_tokens = _tokens(text)
    alternative = re.sub(r"(?i)\bUS\$", "$", alternative)
    numbers = extract_numbers(alternative)
    if not numbers:
        phrase = _tokens(alternative)
        return bool(phrase) and _contains_phrase(text_tokens, phrase)
    pool = extract_numbers(text)
    if not all(any(_same_number(n, p) for p in pool) for n in numbers):
        return False
    have = set(text_tokens)
    words = [t for t in _tokens(alternative)
             if not _is_number_token(t) and t not in _UNIT_WORDS and t not in _GLUE_WORDS]
    return all(w in have for w in words)


def fact_present(fact_alternatives: Sequence[str], text: str) -> bool:
    """Whether any wording of a gold fact is in the text (numbers compared as values)."""
    return any(alternative_present(a, text) for a in fact_alternatives)


@dataclass(frozen=True)
class FactCheck:
    """Gold facts (named by their first alternative) found in and missing from an answer."""

    found: list[str]
    missing: list[str]


def check_facts(gold_facts: Sequence[Sequence[str]], text: str) -> FactCheck:
    """Which gold facts the answer text states, markers ignored."""
    clean = strip_markers(text)
    found, missing = [], []
    for fact in gold_facts:
        (found if fact_present(fact, clean) else missing).append(fact[0])
    return FactCheck(found, missing)


def is_correct(item: EvalItem, answer: Answer) -> bool:
    """Unanswerable: refused. Answerable: not refused and every gold fact stated."""
    if not item.answerable:
        return answer.refused
    return not answer.refused and not check_facts(item.gold_facts, answer.text).missing


# --- citations ----------------------------------------------------------------------------------
# Judged against the gold facts and articles only: the answerer's own checks decide what it
# shows, so scoring its citations with them would grade it by itself.

def quotes_hold_facts(item: EvalItem, answer: Answer) -> bool | None:
    """Whether the answer's quotes, together, state every gold fact (numbers by value): the
    citations carry the evidence for the answer, not only the answer text. None unless the
    question is answerable and answered."""
    if not item.answerable or answer.refused:
        return None
    quotes = "\n".join(c.quote for c in answer.citations)
    return not check_facts(item.gold_facts, quotes).missing


def gold_citation_share(item: EvalItem, answer: Answer) -> float | None:
    """The share of the answer's citations that point into a gold article (citation
    precision by article). None unless answerable and answered."""
    if not item.answerable or answer.refused or not item.gold_articles:
        return None
    if not answer.citations:
        return 0.0
    gold = set(item.gold_articles)
    return sum(c.article in gold for c in answer.citations) / len(answer.citations)


def self_check(answer: Answer) -> float | None:
    """The answerer's own check, re-run on what it shows: the share of answer sentences its
    verifier finds backed by their cited quotes. A consistency figure, not a grade: the
    answer passed these checks to be shown at all."""
    from .answer import support_text
    from .question import read
    from .verify import Evidence, Verdict, check, is_refusal

    if answer.refused:
        return None
    ask = read(answer.standalone_question or answer.question)
    by_number = {c.number: c for c in answer.citations}
    sources = {s.number: s for s in answer.sources}
    sentences = [s for s in split_cited_sentences(answer.text)
                 if s.markers or not is_refusal(s.text)]
    backed = 0
    for s in sentences:
        cites = [by_number[n] for n in s.markers if n in by_number]
        if not cites:
            continue
        src = sources.get(cites[0].source)
        shown = "\n".join(x.text for x in answer.sources if src and x.article == src.article)
        ev = Evidence("\n".join(c.quote for c in cites), support_text(src) if src else "", shown)
        backed += check(s.text, ev, ask) is not Verdict.UNBACKED
    return backed / len(sentences) if sentences else None


def cites_gold_article(answer: Answer, gold_articles: Iterable[str]) -> bool:
    """Whether any citation of the answer points into one of the gold articles."""
    gold = set(gold_articles)
    return any(c.article in gold for c in answer.citations)


# --- retrieval ----------------------------------------------------------------------------------

def reciprocal_rank(sources: Sequence[Source], gold_articles: Iterable[str]) -> float:
    """1/rank of the first passage (in retrieval order) from a gold article; 0 when none is."""
    gold = set(gold_articles)
    for rank, s in enumerate(sources, 1):
        if s.article in gold:
            return 1.0 / rank
    return 0.0


def hit_at_k(sources: Sequence[Source], gold_articles: Iterable[str]) -> bool:
    """Whether any of the k passages given to the model comes from a gold article."""
    return reciprocal_rank(sources, gold_articles) > 0


# --- aggregation --------------------------------------------------------------------------------

def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100), linearly interpolated as numpy does; None for no values."""
    if not values:
        return None
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def share(flags: Iterable[bool]) -> float | None:
    """Share of true flags; None when there are none, so an empty group is not a 0% score."""
    xs = list(flags)
    return sum(xs) / len(xs) if xs else None


def mean(values: Iterable[float]) -> float | None:
    """Arithmetic mean; None for no values."""
    xs = list(values)
    return sum(xs) / len(xs) if xs else None


@dataclass(frozen=True)
class RowCitation:
    number: int
    article: str
    quote: str


@dataclass(frozen=True)
class Row:
    """One question's outcome. An error row has no answer and counts as wrong."""

    id: str
    question: str
    category: str
    answerable: bool
    answer: str
    refused: bool
    correct: bool
    facts_found: list[str]
    facts_missing: list[str]
    citations: list[RowCitation]
    retrieved_articles: list[str]
    quotes_hold_facts: bool | None  # None unless answerable and answered
    gold_citation_share: float | None  # None unless answerable and answered
    self_check: float | None  # None: refused or error
    gold_article_cited: bool | None  # None unless answerable and answered
    hit: bool | None  # None unless answerable with gold articles
    reciprocal_rank: float | None
    latency_s: float | None
    prompt_tokens: int | None
    completion_tokens: int | None
    error: str | None = None


def score_answer(item: EvalItem, answer: Answer) -> Row:
    """Every per-question metric of one answer."""
    facts = check_facts(item.gold_facts, answer.text) if item.answerable else FactCheck([], [])
    retrieval = item.answerable and bool(item.gold_articles)
    return Row(
        id=item.id, question=item.question, category=item.category, answerable=item.answerable,
        answer=answer.text, refused=answer.refused, correct=is_correct(item, answer),
        facts_found=facts.found, facts_missing=facts.missing,
        citations=[RowCitation(c.number, c.article, c.quote) for c in answer.citations],
        retrieved_articles=[s.article for s in answer.sources],
        quotes_hold_facts=quotes_hold_facts(item, answer),
        gold_citation_share=gold_citation_share(item, answer),
        self_check=self_check(answer),
        gold_article_cited=(cites_gold_article(answer, item.gold_articles)
                            if item.answerable and not answer.refused else None),
        hit=hit_at_k(answer.sources, item.gold_articles) if retrieval else None,
        reciprocal_rank=reciprocal_rank(answer.sources, item.gold_articles) if retrieval else None,
        latency_s=answer.timings.total_s, prompt_tokens=answer.usage.prompt_tokens,
        completion_tokens=answer.usage.completion_tokens,
    )


def error_row(item: EvalItem, message: str) -> Row:
    """A question that raised: wrong, not a refusal, and a retrieval miss."""
    retrieval = item.answerable and bool(item.gold_articles)
    return Row(
        id=item.id, question=item.question, category=item.category, answerable=item.answerable,
        answer="", refused=False, correct=False, facts_found=[],
        facts_missing=[f[0] for f in item.gold_facts] if item.answerable else [],
        citations=[], retrieved_articles=[], quotes_hold_facts=None, gold_citation_share=None,
        self_check=None, gold_article_cited=None, hit=False if retrieval else None,
        reciprocal_rank=0.0 if retrieval else None, latency_s=None, prompt_tokens=None,
        completion_tokens=None, error=message,
    )


@dataclass(frozen=True)
class CategoryScore:
    questions: int
    correct: float


@dataclass(frozen=True)
class Summary:
    """A run's headline numbers. Rates are None where their group of questions is empty."""

    questions: int
    answerable: int
    unanswerable: int
    errors: int
    correct: float  # all questions handled correctly (unanswerable ones: refused)
    answerable_correct: float | None
    refusal_rate: float | None  # on unanswerable questions
    false_refusal_rate: float | None  # on answerable questions
    citation_recall: float | None  # answered answerable questions whose quotes hold the facts
    citation_precision: float | None  # mean share of their citations into gold articles
    self_check: float | None  # the answerer's own check on what it showed (not a grade)
    gold_article_cited: float | None  # answered answerable questions citing a gold article
    hit_at_k: float | None
    mrr: float | None
    k: float | None  # mean number of passages given to the model
    latency_p50_s: float | None
    latency_p95_s: float | None
    mean_prompt_tokens: float | None
    mean_completion_tokens: float | None
    per_category: dict[str, CategoryScore] = field(default_factory=dict)


def summarize(rows: Sequence[Row]) -> Summary:
    """Aggregate rows the SQuAD 2.0 way: refusals reported apart from answer correctness."""
    answerable = [r for r in rows if r.answerable]
    unanswerable = [r for r in rows if not r.answerable]
    answered = [r for r in rows if r.error is None]
    latencies = [r.latency_s for r in answered if r.latency_s is not None]
    per_category = {}
    for cat in [*CATEGORIES, *sorted({r.category for r in rows} - set(CATEGORIES))]:
        group = [r for r in rows if r.category == cat]
        if group:
            per_category[cat] = CategoryScore(len(group), share(r.correct for r in group) or 0.0)
    ks = [len(r.retrieved_articles) for r in answered if r.hit is not None]
    return Summary(
        questions=len(rows), answerable=len(answerable), unanswerable=len(unanswerable),
        errors=sum(r.error is not None for r in rows),
        correct=share(r.correct for r in rows) or 0.0,
        answerable_correct=share(r.correct for r in answerable),
        refusal_rate=share(r.refused for r in unanswerable),
        false_refusal_rate=share(r.refused for r in answerable),
        citation_recall=share(r.quotes_hold_facts for r in rows
                              if r.quotes_hold_facts is not None),
        citation_precision=mean(r.gold_citation_share for r in rows
                                if r.gold_citation_share is not None),
        self_check=mean(r.self_check for r in rows if r.self_check is not None),
        gold_article_cited=share(r.gold_article_cited for r in rows
                                 if r.gold_article_cited is not None),
        hit_at_k=share(r.hit for r in rows if r.hit is not None),
        mrr=mean(r.reciprocal_rank for r in rows if r.reciprocal_rank is not None),
        k=mean(ks),
        latency_p50_s=percentile(latencies, 50), latency_p95_s=percentile(latencies, 95),
        mean_prompt_tokens=mean(r.prompt_tokens for r in answered if r.prompt_tokens is not None),
        mean_completion_tokens=mean(r.completion_tokens for r in answered
                                    if r.completion_tokens is not None),
        per_category=per_category,
    )


# --- running ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EvalRun:
    """One system's answers to the eval set, scored."""

    name: str
    eval_path: str
    backend: str
    model: str
    summary: Summary
    rows: list[Row]
    planned: int  # questions the run set out to ask; more than len(rows) when interrupted

    def to_dict(self) -> dict:
        return {**asdict(self), "interrupted": self.interrupted}

    @property
    def interrupted(self) -> str | None:
        """What a reader of a partial run must know, or None when it ran to the end."""
        if len(self.rows) == self.planned:
            return None
        return (f"{self.name} was interrupted after {len(self.rows)} of {self.planned} "
                "questions; its figures cover those only")


class EvalInterrupted(KeyboardInterrupt):
    """Ctrl+C during a run, carrying the answers scored so far so that they can be reported."""

    def __init__(self, run: EvalRun) -> None:
        super().__init__()
        self.run = run


def run_eval(settings: Settings, *, eval_path: Path, limit: int | None = None,
             answer_fn: AnswerFn | None = None, progress: bool = True,
             name: str = "qa") -> EvalRun:
    """Ask every question (through `qa.ask`, or `answer_fn`) and score the answers.

    A question that fails on its own (too long, a timeout) becomes an error row counted as
    wrong, so one bad question does not lose a long run. A failure of the set-up (endpoint,
    key, model, index) would fail every question alike: the run stops at once instead. Ctrl+C
    raises EvalInterrupted, which carries the questions scored so far."""
    from tqdm import tqdm

    items = load_eval_set(eval_path)
    if limit is not None:
        if limit <= 0:
            raise ConfigError(f"--limit must be a positive number, not {limit}")
        items = items[:limit]
    _check_gold_articles(items, settings, eval_path)
    if answer_fn is None:
        from .api import ask

        def answer_fn(question: str) -> Answer:
            return ask(question, settings=settings)

    rows: list[Row] = []
    backend = model = ""
    bar = tqdm(items, desc=f"eval {name}", unit="q", disable=not progress, file=sys.stderr,
               dynamic_ncols=True)

    def scored() -> EvalRun:
        return EvalRun(name=name, eval_path=str(eval_path), backend=backend, model=model,
                       summary=summarize(rows), rows=rows, planned=len(items))

    for n, item in enumerate(bar, 1):
        try:
            answer = answer_fn(item.question)
        except QAError as e:
            if not e.this_request_only:
                bar.close()
                raise type(e)(f"{e}; the eval stopped at question {n} of {len(items)} "
                              f"({item.id}), no report written") from None
            rows.append(error_row(item, f"{type(e).__name__}: {e}"))
        except KeyboardInterrupt:
            bar.close()
            raise EvalInterrupted(scored()) from None
        else:
            backend, model = backend or answer.backend, model or answer.model
            rows.append(score_answer(item, answer))
        bar.set_postfix(correct=f"{sum(r.correct for r in rows) / len(rows):.0%}")
    bar.close()
    return scored()


def _check_gold_articles(items: Sequence[EvalItem], settings: Settings, eval_path: Path) -> None:
    """A misspelt gold article would silently zero retrieval scores: refuse to run instead."""
    folder = Path(settings.articles_dir)
    if not folder.is_dir():
        return
    missing = sorted({a for i in items for a in i.gold_articles if not (folder / a).is_file()})
    if missing:
        more = f" and {len(missing) - 3} more" if len(missing) > 3 else ""
        raise ConfigError(f"{eval_path} names gold articles not in {folder}: "
                          f"{', '.join(missing[:3])}{more}")


# --- the LlamaIndex baseline --------------------------------------------------------------------

def _adapter_class():
    """A LlamaIndex CustomLLM over our LLM, built lazily so importing qa.evaluate stays cheap."""
    from llama_index.core.llms import (
        CompletionResponse,
        CompletionResponseGen,
        CustomLLM,
        LLMMetadata,
    )
    from llama_index.core.llms.callbacks import llm_completion_callback
    from pydantic import PrivateAttr

    class QALLMAdapter(CustomLLM):
        """Sends each LlamaIndex prompt as one user message through a `qa.llm.LLM`."""

        context_window: int = 2048
        num_output: int = 256
        temperature: float = 0.0
        model_name: str = "qa"
        _llm: Any = PrivateAttr()
        _usage: list[Usage] = PrivateAttr(default_factory=list)

        def __init__(self, llm: Any, **kw: Any) -> None:
            super().__init__(**kw)
            self._llm = llm
            self._usage = []

        @property
        def metadata(self) -> LLMMetadata:
            return LLMMetadata(context_window=self.context_window, num_output=self.num_output,
                               model_name=self.model_name)

        def take_usage(self) -> Usage:
            """Tokens used since the last call, summed over every request (refine steps too)."""
            used, self._usage = self._usage, []
            return Usage(sum(u.prompt_tokens for u in used),
                         sum(u.completion_tokens for u in used))

        def _deltas(self, prompt: str):
            yield from self._llm.stream([{"role": "user", "content": prompt}],
                                        max_tokens=self.num_output, temperature=self.temperature)
            self._usage.append(self._llm.last_usage)

        @llm_completion_callback()
        def complete(self, prompt: str, formatted: bool = False, **kw: Any) -> CompletionResponse:
            return CompletionResponse(text="".join(self._deltas(prompt)))

        @llm_completion_callback()
        def stream_complete(self, prompt: str, formatted: bool = False,
                            **kw: Any) -> CompletionResponseGen:
            def gen() -> CompletionResponseGen:
                text = ""
                for delta in self._deltas(prompt):
                    text += delta
                    yield CompletionResponse(text=text, delta=delta)
            return gen()

    return QALLMAdapter


def llama_llm(settings: Settings, llm: Any = None):
    """Our configured model (or `llm`) as a LlamaIndex LLM, for stock LlamaIndex engines."""
    from .llm import get_llm

    llm = llm or get_llm(settings)
    return _adapter_class()(llm, context_window=llm.context_window,
                            num_output=settings.max_answer_tokens,
                            temperature=settings.temperature,
                            model_name=llm.model or "qa")


_SOURCE_LABEL = re.compile(r"^\s*Source \d+:\s*\n?")


def response_to_answer(question: str, response: Any, *, total_s: float, usage: Usage,
                       backend: str = "", model: str = "") -> Answer:
    """A CitationQueryEngine Response as our Answer: its `[n]` name its source nodes in order."""
    text = (response.response or "").strip()
    if text == "Empty Response":
        text = ""
    sources: list[Source] = []
    for i, nws in enumerate(response.source_nodes or [], 1):
        m = nws.node.metadata or {}
        sources.append(Source(
            number=i, article=str(m.get("article", "")), title=str(m.get("title", "")),
            publisher=m.get("publisher") or None, date=m.get("date") or None,
            text=_SOURCE_LABEL.sub("", nws.node.get_content()).strip(),
            start=int(m.get("start", 0) or 0), end=int(m.get("end", 0) or 0),
            score=float(nws.score or 0.0)))
    by_number = {s.number: s for s in sources}
    citations = [
        Citation(number=n, article=s.article, title=s.title, quote=s.text, start=s.start,
                 end=s.end, source=n)
        for n in parse_markers(text) if (s := by_number.get(n)) is not None
    ]
    return Answer(question=question, text=text, citations=citations, sources=sources,
                  refused=not text or _is_refusal(text), raw_text=text, backend=backend,
                  model=model, timings=Timings(total_s=total_s), usage=usage)


def _is_refusal(text: str) -> bool:
    from .verify import is_refusal

    return is_refusal(text)


def baseline_answer_fn(settings: Settings, *, llm: Any = None, retriever: Any = None) -> AnswerFn:
    """LlamaIndex's stock CitationQueryEngine over the same index and model, as an answer_fn.

    `llm` (a qa.llm.LLM) and `retriever` (a LlamaIndex BaseRetriever) default to the ones the
    settings select; stock means its own prompts and chunking, untouched."""
    from llama_index.core.query_engine import CitationQueryEngine

    from .llm import get_llm

    llm = llm or get_llm(settings)
    adapter = llama_llm(settings, llm)
    if retriever is None:
        from .api import get_retriever

        ours = get_retriever(settings)
        if not hasattr(ours, "as_llama_retriever"):
            raise ConfigError("the retriever has no LlamaIndex form (as_llama_retriever)")
        # Whole passages, as many as qa's source budget holds: the same room for sources.
        retriever = ours.as_llama_retriever(
            max(1, settings.source_tokens // settings.chunk_tokens))
    engine = CitationQueryEngine(retriever=retriever, llm=adapter)

    def answer(question: str) -> Answer:
        adapter.take_usage()
        t0 = time.perf_counter()
        response = engine.query(question)
        total = time.perf_counter() - t0
        return response_to_answer(question, response, total_s=total, usage=adapter.take_usage(),
                                  backend=f"llamaindex/{llm.backend}", model=llm.model)

    return answer


# --- output -------------------------------------------------------------------------------------

def _pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.0%}"


def _num(x: float | None, fmt: str = ".2f", unit: str = "") -> str:
    return "—" if x is None else f"{x:{fmt}}{unit}"


def summary_lines(s: Summary) -> list[tuple[str, str]]:
    """The summary as (label, formatted value) pairs, shared by the terminal and HTML reports."""
    return [
        ("Questions", f"{s.questions} ({s.answerable} answerable, {s.unanswerable} not)"),
        ("Errors", str(s.errors)),
        ("Correct (all questions)", _pct(s.correct)),
        ("Correct (answerable)", _pct(s.answerable_correct)),
        ("Refusal rate (unanswerable)", _pct(s.refusal_rate)),
        ("False refusal rate (answerable)", _pct(s.false_refusal_rate)),
        ("Citation recall (quotes hold the gold facts)", _num(s.citation_recall)),
        ("Citation precision (cites gold articles)", _num(s.citation_precision)),
        ("Self-check (answerer's own check)", _num(s.self_check)),
        ("Cites a gold article", _pct(s.gold_article_cited)),
        ("Passages given to the model (k)", _num(s.k, ".1f")),
        ("Retrieval hit@k", _pct(s.hit_at_k)),
        ("Retrieval MRR", _num(s.mrr)),
        ("Latency p50", _num(s.latency_p50_s, ".2f", " s")),
        ("Latency p95", _num(s.latency_p95_s, ".2f", " s")),
        ("Prompt tokens (mean)", _num(s.mean_prompt_tokens, ".0f")),
        ("Completion tokens (mean)", _num(s.mean_completion_tokens, ".0f")),
    ]


def _category_lines(runs: Sequence[EvalRun]) -> list[tuple[str, list[str]]]:
    cats = list(dict.fromkeys(c for r in runs for c in r.summary.per_category))
    out = []
    for cat in cats:
        n = next(r.summary.per_category[cat].questions for r in runs
                 if cat in r.summary.per_category)
        vals = [_pct(r.summary.per_category[cat].correct) if cat in r.summary.per_category
                else "—" for r in runs]
        out.append((f"  {cat} (n={n})", vals))
    return out


def format_table(runs: Sequence[EvalRun]) -> str:
    """A plain-text table, one column per run (qa, then the baseline when compared)."""
    body = [(label, [v]) for label, v in summary_lines(runs[0].summary)]
    for other in runs[1:]:
        for i, (_, v) in enumerate(summary_lines(other.summary)):
            body[i][1].append(v)
    body.append(("Correct by category", [""] * len(runs)))
    body.extend(_category_lines(runs))
    header = ("", [r.name for r in runs])
    width = max(len(label) for label, _ in [header, *body])
    cols = [max(len(r.name), *(len(vals[i]) for _, vals in body)) for i, r in enumerate(runs)]

    def line(label: str, vals: Sequence[str]) -> str:
        return "  ".join([label.ljust(width), *(v.rjust(c) for v, c in zip(vals, cols,
                                                                            strict=True))])

    rule = "-" * (width + sum(c + 2 for c in cols))
    notes = [f"Note: {r.interrupted}." for r in runs if r.interrupted]
    return "\n".join([*notes, line(*header), rule, *(line(label, v) for label, v in body)])


def report_dict(runs: Sequence[EvalRun]) -> dict:
    """Everything in the JSON report: qa's summary and rows on top, other runs under their names."""
    qa_run = runs[0]
    out: dict[str, Any] = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        **qa_run.to_dict(),
    }
    for other in runs[1:]:
        out[other.name] = other.to_dict()
    return out


_COLORS = ("#2f6fb0", "#d9822b", "#4a9a5b")


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    color: str
    label: str


def category_chart(runs: Sequence[EvalRun], *, width: int = 640) -> dict:
    """Geometry of a horizontal bar chart of correctness per category, one bar per run."""
    cats = list(dict.fromkeys(c for r in runs for c in r.summary.per_category))
    left, bar_h, gap = 150, 16, 12
    plot_w = width - left - 60
    bars, labels = [], []
    y = 10.0
    for cat in cats:
        labels.append({"text": cat, "y": y + bar_h * len(runs) / 2 + 4})
        for i, r in enumerate(runs):
            c = r.summary.per_category.get(cat)
            v = c.correct if c else 0.0
            bars.append(Bar(left, y, max(plot_w * v, 1.0), bar_h - 2, _COLORS[i % 3],
                            f"{_pct(c.correct) if c else '—'}"))
            y += bar_h
        y += gap
    return {"width": width, "height": y + 20, "left": left, "plot_w": plot_w, "bars": bars,
            "labels": labels, "legend": _legend(runs)}


def latency_chart(runs: Sequence[EvalRun], *, width: int = 640, bins: int = 12) -> dict:
    """Geometry of a latency histogram over all runs' answered questions, runs side by side."""
    series = [[r.latency_s for r in run.rows if r.latency_s is not None] for run in runs]
    top = max((max(s) for s in series if s), default=0.0)
    step = (top / bins) if top > 0 else 1.0
    counts = [[0] * bins for _ in runs]
    for i, s in enumerate(series):
        for v in s:
            counts[i][min(int(v / step), bins - 1)] += 1
    peak = max((max(c) for c in counts), default=0) or 1
    left, bottom, height = 40, 30, 220
    plot_w, plot_h = width - left - 24, height - bottom - 10
    slot = plot_w / bins
    bars = []
    for i, c in enumerate(counts):
        for b, n in enumerate(c):
            if not n:
                continue
            h = plot_h * n / peak
            w = slot / len(runs) - 2
            bars.append(Bar(left + b * slot + i * (w + 1), 10 + plot_h - h, w, h,
                            _COLORS[i % 3], f"{runs[i].name}: {n}"))
    ticks = [{"x": left + b * slot, "text": f"{b * step:.1f}"} for b in range(0, bins + 1, 2)]
    return {"width": width, "height": height + 20, "left": left, "plot_h": plot_h,
            "bars": bars, "ticks": ticks, "peak": peak, "axis_y": 10 + plot_h,
            "legend": _legend(runs)}


def _legend(runs: Sequence[EvalRun]) -> list[dict]:
    return [{"name": r.name, "color": _COLORS[i % 3]} for i, r in enumerate(runs)]


def render_html(runs: Sequence[EvalRun]) -> str:
    """A self-contained HTML report: no scripts, fonts or styles fetched from anywhere."""
    import jinja2

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
                             autoescape=True, trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    names = [r.name for r in runs]
    summary_rows = [(label, [v]) for label, v in summary_lines(runs[0].summary)]
    for other in runs[1:]:
        for i, (_, v) in enumerate(summary_lines(other.summary)):
            summary_rows[i][1].append(v)
    return env.get_template("report.html.j2").render(
        runs=runs, names=names, summary_rows=summary_rows,
        category_rows=_category_lines(runs), category_chart=category_chart(runs),
        latency_chart=latency_chart(runs), eval_path=runs[0].eval_path,
        created=datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"), pct=_pct, num=_num)


def check_out_dir(out_dir: Path) -> None:
    """ConfigError now if the reports could not be written to out_dir, not after the run.
    Creates nothing: a run that fails early leaves no empty folder behind."""
    there = Path(out_dir).absolute()
    while not there.exists():
        there = there.parent
    if not there.is_dir():
        raise ConfigError(f"cannot write the reports to {out_dir}: {there} is a file")
    if not os.access(there, os.W_OK | os.X_OK):
        raise ConfigError(f"cannot write the reports to {out_dir}: {there} is not writable")


def write_reports(runs: Sequence[EvalRun], out_dir: Path) -> tuple[Path, Path]:
    """Write report.json and report.html into out_dir; their paths."""
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        json_path, html_path = out_dir / "report.json", out_dir / "report.html"
        json_path.write_text(json.dumps(report_dict(runs), indent=2, ensure_ascii=False) + "\n",
                             encoding="utf-8")
        html_path.write_text(render_html(runs), encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"cannot write the reports to {out_dir}: {e.strerror or e}") from None
    return json_path, html_path


# --- thresholds and the CLI entry ---------------------------------------------------------------

def _fmt_pair(value: float, limit: float) -> tuple[str, str]:
    """Two decimals, or four when two would print a miss as equal to its limit."""
    for digits in (2, 4):
        a, b = f"{value:.{digits}f}", f"{limit:.{digits}f}"
        if a != b:
            return a, b
    return f"{value:.6f}", f"{limit:.6f}"


def _report(runs: Sequence[EvalRun], out_dir: Path, echo: Callable[[str], Any]) -> None:
    echo(format_table(runs))
    json_path, html_path = write_reports(runs, out_dir)
    echo(f"JSON report: {json_path}")
    echo(f"HTML report: {html_path}")


def check_thresholds(s: Summary, *, min_correct: float | None = None,
                     min_refusal: float | None = None, max_false_refusal: float | None = None,
                     min_citation_precision: float | None = None,
                     min_citation_recall: float | None = None) -> list[str]:
    """One `FAIL name value < limit` line per missed threshold; a metric that cannot be
    computed (no questions of its kind) misses any threshold set on it."""
    checks = [
        ("correctness", s.answerable_correct, min_correct, "min"),
        ("refusal", s.refusal_rate, min_refusal, "min"),
        ("false_refusal", s.false_refusal_rate, max_false_refusal, "max"),
        ("citation_precision", s.citation_precision, min_citation_precision, "min"),
        ("citation_recall", s.citation_recall, min_citation_recall, "min"),
    ]
    fails = []
    for name, value, limit, kind in checks:
        if limit is None:
            continue
        if value is None:
            fails.append(f"FAIL {name} n/a (no questions to measure it on), limit {limit}")
            continue
        if (kind == "min" and value < limit) or (kind == "max" and value > limit):
            v, lim = _fmt_pair(value, limit)
            fails.append(f"FAIL {name} {v} {'<' if kind == 'min' else '>'} {lim}")
    return fails


def main(settings: Settings, *, eval_path: Path | None, out_dir: Path, compare: str | None,
         limit: int | None, min_correct: float | None, min_refusal: float | None,
         max_false_refusal: float | None, min_citation_precision: float | None,
         min_citation_recall: float | None, echo: Callable[[str], Any] = print,
         answer_fn: AnswerFn | None = None, baseline_fn: AnswerFn | None = None,
         progress: bool = True) -> int:
    """Run the eval (and the baseline with compare="baseline"), print the table, write the
    reports, and return 1 when qa's own run misses a threshold, else 0.

    `answer_fn` and `baseline_fn` replace qa.ask and the LlamaIndex baseline (for tests)."""
    if compare is not None and compare not in COMPARE_CHOICES:
        raise ConfigError(f"--compare must be one of {', '.join(COMPARE_CHOICES)}, "
                          f"not {compare!r}")
    for name, value in (("min-correct", min_correct), ("min-refusal", min_refusal),
                        ("max-false-refusal", max_false_refusal),
                        ("min-citation-precision", min_citation_precision),
                        ("min-citation-recall", min_citation_recall)):
        if value is not None and not 0.0 <= value <= 1.0:
            raise ConfigError(f"--{name} must be a share between 0 and 1, not {value}")
    path = Path(eval_path) if eval_path is not None else DEFAULT_EVAL_PATH
    load_eval_set(path)  # a bad file fails before any model loads
    check_out_dir(out_dir)
    if compare == "baseline" and baseline_fn is None:
        baseline_fn = baseline_answer_fn(settings)  # fails now, not after qa's whole run
    runs: list[EvalRun] = []
    try:
        runs.append(run_eval(settings, eval_path=path, limit=limit, answer_fn=answer_fn,
                             progress=progress, name="qa"))
        if baseline_fn is not None and compare == "baseline":
            runs.append(run_eval(settings, eval_path=path, limit=limit, answer_fn=baseline_fn,
                                 progress=progress, name="baseline"))
    except EvalInterrupted as stop:
        # Minutes of answers are not thrown away: report them, marked partial, then stop.
        if stop.run.rows:
            runs.append(stop.run)
        if runs:
            _report(runs, out_dir, echo)
        raise
    _report(runs, out_dir, echo)
    fails = check_thresholds(runs[0].summary, min_correct=min_correct, min_refusal=min_refusal,
                             max_false_refusal=max_false_refusal,
                             min_citation_precision=min_citation_precision,
                             min_citation_recall=min_citation_recall)
    for line in fails:
        echo(line)
    return 1 if fails else 0
