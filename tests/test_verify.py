import pytest

from qa.verify import best_quote, extract_numbers, support

PASSAGE = ("China is Russia’s main export market after the European Union. Russian exports to "
           "China were worth $79.3 billion in 2021, of which oil and gas accounted for 56 "
           "percent, according to China’s customs authorities.")


@pytest.mark.parametrize(
    "sentence",
    [
        "Russian exports to China were worth $79.3 billion in 2021.",
        "In 2021 Russia exported goods worth 79.3 bn dollars to China.",
        "Oil and gas made up 56 percent of Russian exports to China.",
        "China is Russia's main export market after the European Union.",
    ],
)
def test_supported_sentences(sentence):
    assert support(sentence, [PASSAGE]).supported


@pytest.mark.parametrize(
    ("sentence", "why"),
    [
        ("Russian exports to China were worth $80 billion in 2021.", "wrong number"),
        ("Russian exports to China were worth $79.3 billion in 2019.", "wrong year"),
        ("Brazil's GDP is $2.7 trillion.", "unrelated"),
        ("Lavrov met Blinken in Geneva to discuss exports.", "names not in passage"),
        ("Yes.", "no content"),
    ],
)
def test_unsupported_sentences(sentence, why):
    assert not support(sentence, [PASSAGE]).supported, why


def test_support_can_come_from_two_passages_together():
    other = "Trade turnover between Russia and China at the end of 2023 exceeded $200 billion."
    sentence = "Exports were $79.3 billion in 2021 and trade exceeded $200 billion in 2023."
    assert not support(sentence, [PASSAGE]).supported
    assert support(sentence, [PASSAGE, other]).supported


def test_numbers_compare_as_values():
    a, b, c = (extract_numbers(t)[0] for t in ("$79.3 billion", "79,300 million", "79.3bn"))
    assert a.value == b.value == c.value == 79.3e9


def test_best_quote_is_the_supporting_sentence():
    a, b = best_quote("Oil and gas were 56 percent of exports.", PASSAGE)
    assert PASSAGE[a:b].startswith("Russian exports to China were worth")
    assert PASSAGE[a:b].endswith("customs authorities.")
