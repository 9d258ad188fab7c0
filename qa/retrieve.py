"""Hybrid retrieval: Milvus BM25 and dense MiniLM results fused by reciprocal rank, then a
relevance gate so that a question about nothing in the articles retrieves nothing."""

from __future__ import annotations

from dataclasses import dataclass

from .index import PassageIndex, embedder, open_index
from .settings import Settings
from .types import Source
from .verify import terms

# Below both of these, no passage is about the question (checked on off-topic questions:
# cooking, sport, software); anything closer goes to the model and the verifier.
MIN_DENSE = 0.30
MIN_LEXICAL = 0.67


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
        """The top passages for the question, best first; empty when none is about it."""
        from llama_index.core.vector_stores.types import VectorStoreQuery, VectorStoreQueryMode

        q_emb = embedder().get_query_embedding(question)
        hybrid = self._store.query(VectorStoreQuery(
            query_embedding=q_emb, query_str=question,
            similarity_top_k=self.settings.candidate_k, mode=VectorStoreQueryMode.HYBRID))
        if not hybrid.nodes:
            return []
        dense = self._store.query(VectorStoreQuery(
            query_embedding=q_emb, similarity_top_k=1, mode=VectorStoreQueryMode.DEFAULT))
        best_dense = max(dense.similarities or [0.0])
        if best_dense < MIN_DENSE and _lexical(question, hybrid.nodes) < MIN_LEXICAL:
            return []
        # RRF rewards passages both retrievers rank; a passage only one of them ranks first
        # (a rare name BM25 finds, a paraphrase only the embedding sees) can drop out of the
        # top k. Guarantee each retriever's best hit a place.
        k = self.settings.top_k
        ids = list(hybrid.ids)
        must = {i for i in (self._bm25_best(question), dense.ids[0] if dense.ids else None)
                if i in ids}
        free = k - len(must)
        keep = [j for j, i in enumerate(ids) if i in must or (free := free - 1) >= 0][:k]
        nodes = [hybrid.nodes[j] for j in keep]
        scores = [(hybrid.similarities or [0.0] * len(ids))[j] for j in keep]
        out: list[Source] = []
        for node, score in zip(nodes, scores, strict=True):
            m = node.metadata
            out.append(Source(
                number=len(out) + 1, article=m["article"], title=m["title"],
                publisher=m.get("publisher") or None, date=m.get("date") or None,
                text=node.get_content(), start=int(m["start"]), end=int(m["end"]),
                score=float(score)))
        return out

    def _bm25_best(self, question: str) -> str | None:
        # Straight to pymilvus: the LlamaIndex integration's text-search mode sends a
        # drop_ratio_search that Milvus Lite refuses.
        res = self.index.client.search(
            self.index.collection, data=[question], anns_field="sparse_embedding", limit=1,
            search_params={"params": {"drop_ratio_search": 0.0}}, output_fields=["id"])
        return res[0][0]["id"] if res and res[0] else None


def _lexical(question: str, nodes) -> float:
    """Share of the question's content words found in the retrieved passages."""
    want = set(terms(question))
    if not want:
        return 0.0
    have = set()
    for n in nodes:
        have.update(terms(n.get_content()))
    return len(want & have) / len(want)
