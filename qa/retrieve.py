"""Hybrid retrieval: Milvus BM25 and dense MiniLM results fused by weighted reciprocal rank,
then a relevance gate so that a question about nothing in the articles retrieves nothing;
last, the retrieved passages' sentences ranked by how much of the question they hold."""

from __future__ import annotations

import itertools
import math
import re
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from functools import cache

from .cite import sentence_spans
from .index import PassageIndex, embedder, open_index
from .settings import Settings
from .types import Source

# Below both of these, no passage is about the question (checked on off-topic questions:
# cooking, sport, software); anything closer goes to the model and the verifier.
MIN_DENSE = 0.30
MIN_LEXICAL = 0.67
# News questions turn on names and numbers, where BM25 beats the small MiniLM embedding. On
# evals/v1.jsonl's 42 answerable questions, the prompt held every gold fact for 33 with
# equal-weight RRF and for 34, 36, 35 with BM25 weighted 2, 3, 5 (30 candidates each).
# The embedding still reorders BM25's candidates (a passage both rank beats one only BM25
# ranks) and fills the list when BM25 finds little.
LEXICAL_WEIGHT = 3.0
RRF_K = 60
# How much a sentence's score drops per place its passage ranks lower: among sentences that
# hold as much of the question, the better-ranked passage's goes first.
RANK_PENALTY = 0.3


@dataclass
class HybridRetriever:
    index: PassageIndex
    settings: Settings

    @classmethod
    def open(cls, settings: Settings, *, progress: bool = False) -> HybridRetriever:
        r = cls(open_index(settings, progress=progress), settings)
        r._store = r.index.vector_store()
        from llama_index.core import VectorStoreIndex

        r._llama_index = VectorStoreIndex.from_vector_store(r._store, embed_model=embedder())
        return r

    def as_llama_retriever(self, similarity_top_k: int | None = None):
        """The same index as a stock LlamaIndex retriever (hybrid mode)."""
        return self._llama_index.as_retriever(
            similarity_top_k=similarity_top_k or self.settings.top_k,
            vector_store_query_mode="hybrid")

    def retrieve(self, question: str) -> list[Source]:
        """The settings' `top_k` passages for the question, best first; empty when none is
        about it."""
        n = self.settings.candidate_k
        # BM25 needs no embedding: Milvus searches while the question is embedded.
        lexical_hits = self._searcher().submit(self._search, question, "sparse_embedding", n)
        dense = self._search(embedder().get_query_embedding(question), "embedding", n)
        lexical = lexical_hits.result()
        scores = dict(weighted_rrf([[h["id"] for h in lexical], [h["id"] for h in dense]],
                                   [LEXICAL_WEIGHT, 1.0])[:n])
        if not scores:
            return []
        # Both searches return the passages' fields, so no third call fetches them.
        rows = {h["id"]: h["entity"] for h in (*dense, *lexical)}
        fused = list(scores)
        best_dense = max((h["distance"] for h in dense), default=0.0)
        if best_dense < MIN_DENSE and _lexical(question,
                                               [rows[i]["text"] for i in fused]) < MIN_LEXICAL:
            return []
        out: list[Source] = []
        seen: set[str] = set()
        for i in fused:
            if len(out) == self.settings.top_k:
                break
            m = rows[i]
            same = " ".join(m["text"].split())
            if same in seen:
                continue  # one story twice in the corpus (a wire copy, a re-headlined page)
            seen.add(same)
            out.append(Source(
                number=len(out) + 1, article=m["article"], title=m["title"],
                publisher=m.get("publisher") or None, date=m.get("date") or None,
                text=m["text"], start=int(m["start"]), end=int(m["end"]), score=scores[i]))
        return out

    def _search(self, query: str | list[float], field: str, limit: int) -> list[dict]:
        """Milvus's hits for the query text (BM25 over `sparse_embedding`) or vector (inner
        product over `embedding`), best first, each with the fields a Source needs."""
        # Straight to pymilvus: the LlamaIndex integration's text-search mode sends a
        # drop_ratio_search that Milvus Lite refuses, and its vector search returns every
        # field, the 384 floats of each hit's vector included.
        params = ({"params": {"drop_ratio_search": 0.0}} if field == "sparse_embedding"
                  else {"params": {"ef": 4 * limit}})
        res = self.index.client.search(
            self.index.collection, data=[query], anns_field=field, limit=limit,
            search_params=params, output_fields=list(_FIELDS))
        return list(res[0]) if res else []

    def _searcher(self) -> ThreadPoolExecutor:
        if getattr(self, "_pool", None) is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="qa-bm25")
        return self._pool


_FIELDS = ("text", "article", "title", "publisher", "date", "start", "end")


_WORD = re.compile(r"[^\W\d_]+\d[^\W_]*|[^\W\d_]+")


@cache
def _stopwords() -> frozenset[str]:
    # NLTK's English list, shipped offline inside llama-index-core.
    from llama_index.core.utils import globals_helper

    return frozenset(globals_helper.stopwords)


@cache
def _stem(word: str) -> str:
    from .nlp import stem

    return stem(word)


def terms(text: str) -> list[str]:
    """Stemmed content words of the text, for ranking: no stopwords, no numbers. A name
    with digits ("G7") is one word."""
    stop = _stopwords()
    return [_stem(w) for w in (m.lower() for m in _WORD.findall(text))
            if w not in stop and len(w) > 1]


def weighted_rrf(rankings: Sequence[Sequence[str]],
                 weights: Sequence[float]) -> list[tuple[str, float]]:
    """Ids and their fused scores, best first: reciprocal rank fusion (Cormack et al. 2009,
    k=60) with a weight per ranking.

    By hand because neither Milvus's RRFRanker nor LlamaIndex's QueryFusionRetriever weighs
    the rankings in RRF mode, and their weighted modes mix raw scores of unlike scales."""
    scores: dict[str, float] = {}
    for ranking, w in zip(rankings, weights, strict=True):
        for rank, i in enumerate(ranking):
            scores[i] = scores.get(i, 0.0) + w / (RRF_K + rank + 1)
    return sorted(scores.items(), key=lambda kv: -kv[1])


def _lexical(question: str, texts: Sequence[str]) -> float:
    """Share of the question's content words found in the retrieved passages."""
    want = set(terms(question))
    if not want:
        return 0.0
    have = set()
    for text in texts:
        have.update(terms(text))
    return len(want & have) / len(want)


def sentences(passage: Source) -> list[Source]:
    """The passage cut into its sentences, each with the space after it, so that sentences
    next to each other join back into the passage's exact text."""
    starts = [a for a, _ in sentence_spans(passage.text)] or [0]
    cuts = [*starts, len(passage.text)]
    return [replace(passage, text=passage.text[a:b], start=passage.start + a,
                    end=passage.start + b) for a, b in itertools.pairwise(cuts)]


def question_weights(question: str, passages: Sequence[Source]) -> dict[str, float]:
    """The question's words, each weighted by its rarity among the passages: a word in every
    passage ("Russia" in a corpus about Russia) tells them apart least."""
    held = Counter(t for p in passages for t in set(terms(p.text)))
    return {t: math.log((len(passages) + 1) / (held[t] + 0.5)) for t in set(terms(question))}


def relevance(text: str, weights: dict[str, float]) -> float:
    """How much of the question the text holds, by the words' weights."""
    return sum(weights.get(t, 0.0) for t in set(terms(text)))


def rank_sentences(question: str, passages: Sequence[Source],
                   weights: dict[str, float] | None = None) -> list[Source]:
    """The passages' sentences, best first: the question's words each sentence holds, rarer
    words weighing more, less a little for each place its passage ranks below the first.

    A prompt of whole 80-token passages spends most of its budget on sentences about
    something else, and the answer often lies in the fifth to eighth passage; the sentences
    about the question from eight passages fit where four whole passages did. By hand:
    LlamaIndex's SentenceEmbeddingOptimizer ranks sentences by the embedding alone, which
    misses the names and numbers news questions turn on, and joins the kept sentences into
    one text, losing the offsets a citation needs. Word rarity is counted over the passages
    retrieved, so it needs no statistics of the whole corpus. `weights`: the question's
    `question_weights` over these passages, when the caller has them already."""
    weights = weights if weights is not None else question_weights(question, passages)
    scored = [replace(s, score=relevance(s.text, weights) - RANK_PENALTY * rank)
              for rank, p in enumerate(passages) for s in sentences(p)]
    return sorted(scored, key=lambda s: -s.score)
