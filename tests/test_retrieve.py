"""Retrieval: weighted rank fusion, and the real hybrid retriever over the seeds."""

from qa.retrieve import weighted_rrf

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
