"""The Python API: `ask`, its streaming form, and a multi-turn `Chat`."""

from __future__ import annotations

import re
import sys
import threading
from collections.abc import Iterator

from .answer import Retriever, answer_stream, check_question
from .cite import strip_markers
from .llm import LLM, get_llm
from .prompt import condense_messages, system_message
from .settings import Settings, get_settings
from .types import Answer, Retrieved

_lock = threading.Lock()
_retrievers: dict[tuple, Retriever] = {}


def get_retriever(settings: Settings, *, progress: bool | None = None) -> Retriever:
    """The hybrid retriever over the settings' articles, opened (or built) once per process.
    A build shows its progress on stderr when asked, or by default when stderr is a
    terminal: embedding thousands of articles takes minutes, too long to wait in silence."""
    from .retrieve import HybridRetriever

    if progress is None:
        progress = sys.stderr.isatty()

    key = (str(settings.articles_dir), str(settings.home), settings.milvus_uri,
           settings.chunk_tokens, settings.top_k, settings.candidate_k)
    with _lock:
        if key not in _retrievers:
            _retrievers[key] = HybridRetriever.open(settings, progress=progress)
        return _retrievers[key]


def warm_up(settings: Settings | dict | None = None) -> str:
    """Load the model and open the index now, so the first question does not pay for it."""
    s = get_settings(settings)
    get_retriever(s)
    llm = get_llm(s)
    if llm.backend == "local":
        # llama.cpp reuses an identical prompt prefix: evaluating the fixed system prompt now
        # takes its cost off the first question.
        llm.complete([{"role": "system", "content": system_message()},
                      {"role": "user", "content": "Sources:"}], max_tokens=1)
    return llm.describe()


def ask_stream(question: str, *, settings: Settings | dict | None = None, llm: LLM | None = None,
               retriever: Retriever | None = None) -> Iterator[str | Retrieved | Answer]:
    """Yield the sources found (`Retrieved`) before the model speaks, then the answer's text
    as each sentence passes the checks, then the verified `Answer` as the last item."""
    s = get_settings(settings)
    q = check_question(question, s)
    yield from answer_stream(q, settings=s, llm=llm or get_llm(s),
                             retriever=retriever or get_retriever(s))


def ask(question: str, *, settings: Settings | dict | None = None, llm: LLM | None = None,
        retriever: Retriever | None = None) -> Answer:
    """Answer a question from the articles, every claim cited and checked."""
    *_, final = ask_stream(question, settings=settings, llm=llm, retriever=retriever)
    return final


def follows_up(question: str) -> bool:
    """Whether a question leans on the conversation: it opens with a conjunction ("And in
    2023?"), points back with a pronoun or a demonstrative ("What did she say about it?"),
    or is too short to name what it asks about."""
    from .nlp import content, parse

    doc = parse(question)
    words = [t for t in doc if t.is_alpha]
    return bool(words) and (
        words[0].dep_ == "cc" or len(content(doc)) < 2
        or any(t.morph.get("PronType") in (["Prs"], ["Dem"]) and t.morph.get("Person") != ["1"]
               and t.lower_ != "you" for t in words))


class Chat:
    """A conversation: follow-ups ("and in 2021?") are rewritten into standalone questions."""

    def __init__(self, settings: Settings | dict | None = None, *, llm: LLM | None = None,
                 retriever: Retriever | None = None) -> None:
        self.settings = get_settings(settings)
        self._llm = llm
        self._retriever = retriever
        self.history: list[tuple[str, str]] = []

    @property
    def llm(self) -> LLM:
        return self._llm or get_llm(self.settings)

    def reset(self) -> None:
        self.history.clear()

    def standalone(self, question: str) -> str | None:
        """The follow-up rewritten to stand alone, or None when it already does."""
        if not self.history or not follows_up(question):
            return None
        text = self.llm.complete(condense_messages(self.history, question), max_tokens=48,
                                 temperature=0.0, stop=["\n"])
        text = re.sub(r"^\s*(standalone question|question)\s*:\s*", "", text, flags=re.I)
        text = text.strip().strip('"“”')
        if not text or len(text) > 4 * len(question) + 200:
            text = f"{self.history[-1][0]} {question}"  # fall back to the previous question
        return text

    def stream(self, question: str) -> Iterator[str | Retrieved | Answer]:
        q = check_question(question, self.settings)
        standalone = self.standalone(q)
        final: Answer | None = None
        for item in answer_stream(q, settings=self.settings, llm=self.llm,
                                  retriever=self._retriever or get_retriever(self.settings),
                                  standalone=standalone):
            if isinstance(item, Answer):
                final = item
            yield item
        if final is not None:
            self.history.append((standalone or q, strip_markers(final.text)))

    def ask(self, question: str) -> Answer:
        *_, final = self.stream(question)
        return final
