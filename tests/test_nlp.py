"""Values, dates and names read through spaCy, on invented sentences."""

import pytest

from qa.nlp import Amount, Pool, amounts, date_atoms, describing_names, initials, names, parse


def values(text: str) -> list[tuple[float, str, bool]]:
    return [(a.value, a.unit, a.bound) for a in amounts(parse(text))]


@pytest.mark.parametrize(("text", "expected"), [
    ("Profits rose to $1.13bn.", [(1.13e9, "$", False)]),
    ("The deal was worth £600m.", [(6e8, "£", False)]),
    ("Exports were worth $79.3 billion.", [(79.3e9, "$", False)]),
    ("Seven people were hurt.", [(7.0, "", False)]),
    ("Forty-two flights were cancelled.", [(42.0, "", False)]),
    ("Sales grew 5.5% and costs 40 per cent.", [(5.5, "%", False), (40.0, "%", False)]),
    ("It signed over a dozen agreements.", [(12.0, "", True)]),
    ("About 1,200 jobs could go.", [(1200.0, "", True)]),
    ("Rates stand at a punitive 17.25%.", [(17.25, "%", False)]),
    ("It marks the 60th anniversary.", [(60.0, "ordinal", False)]),
    ("Tickets cost 30p each.", [(30.0, "p", False)]),
])
def test_amounts_are_read_with_scale_unit_and_bound(text, expected):
    assert values(text) == expected


def test_years_and_days_of_a_month_are_dates_not_amounts():
    assert values("On March 30, 2023 the firm hired 40 staff.") == [(40.0, "", False)]


def test_the_same_amount_written_two_ways_is_one_value():
    a, b = amounts(parse("It cost $79.3 billion.")) + amounts(parse("It cost $79,300 million."))
    assert a.same(b)
    assert not a.same(Amount(79.3e9, "£"))  # another currency
    assert Amount(79.3).same(a)  # the digits without their scale


def test_a_bound_backs_only_a_bound_or_the_same_words():
    pool = Pool(["The talks ended in over a dozen agreements."])
    assert pool.has_amount(amounts(parse("over a dozen agreements"))[0])
    assert pool.has_amount(amounts(parse("a dozen agreements"))[0])
    assert not pool.has_amount(amounts(parse("12 agreements"))[0])
    # the parser hangs "currently" on a number as it hangs "over": the sentence keeps it
    pool = Pool(["The market, currently $30 trillion, keeps growing."])
    claim = "The market is currently $30 trillion."
    assert pool.has_amount(amounts(parse(claim))[0], set(claim.lower().split()))
    assert not pool.has_amount(amounts(parse("The market is $30 trillion."))[0])


def test_a_year_read_as_a_number_stands_where_a_date_gives_it():
    year = amounts(parse("Since the army's 2022 attack on its neighbour, exports grew."))[0]
    assert Pool(["After the invasion in February 2022, exports grew."]).has_amount(year)
    assert not Pool(["After the invasion in February 2021, exports grew."]).has_amount(year)


def test_dates_keep_their_exact_parts_and_leave_vague_words_out():
    assert date_atoms(parse("The call came on Wednesday, March 30, 2022.")) == {
        "wednesday", "m3", "d30", "2022"}
    assert date_atoms(parse("It happened last month, in the spring.")) == set()
    assert {"2023", "m9", "d19"} <= date_atoms(parse("Published 2023-09-19."))
    # the recogniser may cut the day off its month ("11" and "March"); the day still counts
    said = "The report will be released on 11 March - Comic Relief day, Jane Doe has said."
    assert {"m3", "d11"} <= date_atoms(parse(said))
    assert "d11" not in date_atoms(parse("He scored 11 goals in March."))


def test_names_are_entities_by_their_words():
    doc = parse("The Anadolu Agency's reporter met Sergey Lavrov in Moscow.")
    assert {("anadolu", "agency"), ("sergey", "lavrov"), ("moscow",)} <= set(names(doc))


def test_an_acronym_stands_where_its_long_name_does():
    assert "apec" in initials(parse("the Asia-Pacific Economic Cooperation summit"))
    assert Pool(["the Asia-Pacific Economic Cooperation summit"]).has_name(("apec",))
    assert Pool(["Talks with the US and the U.K. began."]).has_name(("united", "states"))
    assert Pool(["Talks with the US and the U.K. began."]).has_name(("united", "kingdom"))
    # initials stand for a name only as a word in capitals, not as another name's initials
    assert not Pool(["Aberdeen lost in the Scottish Cup."]).has_name(("sol", "campbell"))


def test_a_nationality_or_a_possessor_only_describes():
    doc = parse("Moscow's top diplomat met the American president.")
    assert set(describing_names(doc)) == {("moscow",), ("american",)}
    assert describing_names(parse("Lavrov visited Washington.")) == []


def test_a_name_and_its_nationality_share_a_stem():
    pool = Pool(["Russian exports to China rose."])
    assert pool.has_name(("russia",)) and pool.has_name(("chinese",))
    assert not pool.has_name(("india",))
