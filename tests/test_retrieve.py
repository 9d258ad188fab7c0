"""Retrieval: weighted rank fusion, and the real hybrid retriever over the seeds."""

from qa.retrieve import HybridRetriever, rank_sentences, sentences, weighted_rrf
from qa.settings import Settings
from qa.types import Source

from conftest import SEEDS


def test_a_passage_both_rankings_place_beats_one_only_the_heavier_places():
    lexical = ["a", "b", "c"]
    dense = ["c", "d"]
    assert [i for i, _ in weighted_rrf([lexical, dense], [3.0, 1.0])] == ["c", "a", "b", "d"]


def test_the_heavier_ranking_wins_where_the_rankings_disagree():
    assert weighted_rrf([["a", "b"], ["b", "a"]], [3.0, 1.0])[0][0] == "a"
    assert weighted_rrf([["a", "b"], ["b", "a"]], [1.0, 3.0])[0][0] == "b"


def test_a_rare_name_in_the_question_finds_its_passage(seeds_retriever):
    sources = seeds_retriever.retrieve(
        'Lavrov said Russia is developing a "special privileged partnership" with which country?')
    assert any("India" in s.text for s in sources)
    assert [s.number for s in sources] == list(range(1, len(sources) + 1))
    for s in sources:
        assert (SEEDS / s.article).read_text(encoding="utf-8")[s.start:s.end] == s.text


def test_a_question_about_nothing_in_the_articles_retrieves_nothing(seeds_retriever):
    assert seeds_retriever.retrieve("What is the recipe for borscht?") == []


def passage(text: str, start: int = 0) -> Source:
    return Source(1, "a.txt", "Talks", None, None, text, start, start + len(text), 0.0)


def test_a_passage_cut_into_sentences_joins_back_into_it():
    p = passage("Lavrov met Wang Yi in Beijing. They discussed the U.S. sanctions.\nTrade grew.",
                start=500)
    parts = sentences(p)
    assert [s.text.strip() for s in parts] == [
        "Lavrov met Wang Yi in Beijing.", "They discussed the U.S. sanctions.", "Trade grew."]
    assert "".join(s.text for s in parts) == p.text
    assert all(p.text[s.start - 500:s.end - 500] == s.text for s in parts)


def test_the_sentence_that_holds_the_question_comes_first_even_from_a_lower_passage():
    top = passage("Lavrov met Wang Yi in Beijing on Wednesday. They talked for two hours.")
    low = passage("The talks were long. China said it supported Russia's chairmanship of BRICS.",
                  start=200)
    ranked = rank_sentences("Which group's chairmanship did China support?", [top, low])
    assert ranked[0].text == "China said it supported Russia's chairmanship of BRICS."
    assert ranked[0].start == 221


def test_the_word_search_skips_words_every_passage_has(seeds_retriever):
    """BM25 searches the question's content words only: its "what", "did" and "the" match
    nothing (they would match every passage, and each search would walk them all)."""
    assert seeds_retriever._search("What did the of and was it", "sparse_embedding", 5) == []
    assert seeds_retriever._search("What did the G7 do", "sparse_embedding", 5)


def test_a_story_the_corpus_holds_twice_is_shown_once(articles, tmp_path):
    """A wire copy of an article takes no second place among the sources."""
    story = sorted(articles.iterdir())[1]
    (articles / "wire-copy.txt").write_text(story.read_text(encoding="utf-8"), encoding="utf-8")
    s = Settings.from_env(env={}, articles_dir=articles, home=tmp_path / "home")
    found = HybridRetriever.open(s).retrieve("What did Russia export to China in 2021?")
    texts = [" ".join(x.text.split()) for x in found]
    assert len(found) == s.top_k and len(set(texts)) == len(texts)
