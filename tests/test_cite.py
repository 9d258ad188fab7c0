import pytest

from qa.cite import (
    cite_only,
    hollow,
    parse_markers,
    renumber,
    split_cited_sentences,
    strip_markers,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Exports were $79.3 billion [1].", [1]),
        ("A claim [1][3].", [1, 3]),
        ("A claim [1, 2].", [1, 2]),
        ("A claim [2-4].", [2, 3, 4]),
        ("A claim [Source 2].", [2]),
        ("A claim [1] and another [1].", [1]),
        ("No markers here.", []),
        ("Malformed [x] and [ ] markers.", []),
        ("Invented [99].", [99]),  # parsed here; the verifier drops numbers that point nowhere
    ],
)
def test_parse_markers(text, expected):
    assert parse_markers(text) == expected


def test_strip_markers_tidies_spacing():
    assert strip_markers("Exports rose [1] . Then [2][3], fell.") == "Exports rose. Then, fell."


@pytest.mark.parametrize("reply", ["It rose [1].", "It rose [Source 1].", "It rose [1, 2]."])
def test_a_reply_over_one_source_is_put_back_into_the_prompt_numbering(reply):
    assert cite_only(reply, 3) == "It rose [3]."


@pytest.mark.parametrize(("reply", "expected"), [
    ("It rose [1]. It fell [3].", "It rose [4]. It fell [6]."),
    ("It rose [1, 2].", "It rose [4][5]."),
    ("It rose [Source 2].", "It rose [5]."),
    ("It rose [7].", "It rose [7]."),
])
def test_a_reply_over_a_few_sources_is_put_back_into_the_prompt_numbering(reply, expected):
    assert renumber(reply, {1: 4, 2: 5, 3: 6}) == expected


def test_markers_after_the_full_stop_belong_to_the_sentence_before():
    out = split_cited_sentences("Exports were $79.3 billion. [1] Oil was 56 percent. [2]")
    assert [(s.text, s.markers) for s in out] == [
        ("Exports were $79.3 billion.", (1,)),
        ("Oil was 56 percent.", (2,)),
    ]


def test_abbreviations_and_decimals_do_not_split_sentences():
    out = split_cited_sentences("U.S. President Joe Biden warned China [1]. It was $79.3 billion.")
    assert [s.text for s in out] == ["U.S. President Joe Biden warned China.",
                                     "It was $79.3 billion."]
    assert out[0].markers == (1,)
    assert out[1].markers == ()


@pytest.mark.parametrize(
    ("reply", "expected"),
    [
        ("The piece names as its sources the agencies: [1], [2], [3], and [4].", True),
        ("The piece names its sources: [1].", True),
        ("It cites [1] and [2].", True),
        ("Lavrov spoke [1], and Wang agreed [2].", False),
        ("According to [1], trade rose 40%.", False),
        ("Trade rose by 40%, the data showed [1].", False),
    ],
)
def test_markers_used_as_words_leave_a_hollow_sentence(reply, expected):
    (sentence,) = split_cited_sentences(reply)
    assert hollow(sentence.text) is expected
