import pytest

from qa.answer import verify
from qa.types import Source
from qa.verify import (
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
    is_yes_no_question,
    keeps_denial,
    new_names_quoted,
    on_topic,
    premise_shown,
    reverses,
    speakers,
    speakers_quoted,
    speaks_as_asked,
    stands_for,
    support,
    swaps_name,
    truecase,
)

from conftest import SEEDS

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


def test_a_day_of_a_month_backs_only_a_date():
    """ "March 30" says when, not how long: "30 minutes" must not rest on it."""
    passage = "On March 30, Sergey Lavrov and Wang Yi met their foreign counterparts."
    assert not support("Lavrov and Wang Yi met for 30 minutes.", [passage]).supported
    assert support("Lavrov and Wang Yi met on March 30.", [passage]).supported
    assert support("Lavrov and Wang Yi met on 30 March.", [passage]).supported
    two_days = "On March 30, they met. On March 31, the conference was held."
    assert support("They met and held the conference on March 30–31.", [two_days]).supported


def test_an_acronym_stands_for_the_long_name_a_passage_writes():
    passage = ("Russia and China will coordinate at the Asia-Pacific Economic Cooperation "
               "summit and discuss contacts with the Commonwealth of Independent States.")
    assert support("They will coordinate at the APEC summit.", [passage]).supported
    assert support("They discussed contacts with the CIS.", [passage]).supported
    assert not support("They will coordinate at the SCO summit.", [passage]).supported


def test_an_acronym_echoed_from_the_question_is_shown_by_its_long_name():
    """An echoed name must stand in what was shown of the article, or the sentence repeats a
    premise; "APEC" stands there when the article writes the long name."""
    passage = ('Russia and China are expected to maintain their "well-coordinated work" at the '
               "upcoming UN General Assembly and the Asia-Pacific Economic Cooperation summit, "
               "according to Russian Foreign Minister Sergey Lavrov.")
    q = "What sort of teamwork did Lavrov hope for at the upcoming APEC meeting?"
    said = 'Lavrov hoped for "well-coordinated work" at the upcoming APEC meeting.'
    assert support(said, [passage], q, context=passage).supported
    assert not support(said.replace("APEC", "G20"), [passage], q.replace("APEC", "G20"),
                       context=passage).supported


def test_a_capital_in_the_question_is_on_topic_with_its_country():
    quote = "Russian exports to China were worth $79.3 billion in 2021."
    assert on_topic(quote, "What share of the goods Moscow sold to Beijing were hydrocarbons?")
    assert not on_topic(quote, "What share of the goods Tokyo sold to Seoul were hydrocarbons?")


def test_best_quote_is_the_supporting_sentence():
    a, b = best_quote("Oil and gas were 56 percent of exports.", PASSAGE)
    assert PASSAGE[a:b].startswith("Russian exports to China were worth")
    assert PASSAGE[a:b].endswith("customs authorities.")


def test_a_quote_steps_over_a_byline_to_the_sentence_that_names_who():
    """The claim rests on the headline (where, when) and on the lead (who): the quote spans
    both, with the byline between them, so that it backs the claim on its own."""
    passage = ("China's FM in Moscow, 2023-09-19\n\nBy Staff, Agencies\n\nChina's foreign minister "
               "Wang Yi has held talks with his Russian counterpart in Moscow. The talks covered "
               "trade.")
    a, b = best_quote("Wang Yi visited Moscow in 2023.", passage)
    assert passage[a:b] == passage[:passage.index(" The talks")]
    a, b = best_quote("The talks covered trade.", passage)
    assert passage[a:b] == "The talks covered trade."


@pytest.mark.parametrize(
    ("answer", "question", "expected"),
    [
        ("The Chinese side supported Russia's chairmanship.",
         "Which group's Russian chairmanship did the Chinese side support?", False),
        ("The Chinese side supported Russia's BRICS chairmanship.",
         "Which group's Russian chairmanship did the Chinese side support?", True),
        ("Wang Yi stayed in Russia until September 2023.",
         "Until what day did Wang Yi stay in Russia in September 2023?", False),
        ("Yes, China opposed the sanctions.", "Did China oppose the sanctions?", True),
        ("China did not oppose the sanctions.", "Did China oppose the sanctions?", True),
        # denying a wh-question's premise answers nothing it asked
        ("China did not condemn the invasion of Ukraine.",
         "Why did China condemn the invasion of Ukraine?", False),
        ("China did not condemn the invasion, citing Russia's security concerns.",
         "Why did China condemn the invasion?", True),
        ("Exports were worth $79.3 billion.", "How much were exports worth?", True),
    ],
)
def test_an_answer_must_add_to_its_question(answer, question, expected):
    assert adds_to(answer, question) is expected


@pytest.mark.parametrize(
    ("answer", "question", "expected"),
    [
        ("Oil and gas made up 56 percent.", "What share of exports was oil and gas?", True),
        ("Oil and gas made up most of them.", "What share of exports was oil and gas?", True),
        ("Oil and gas were exported to China.", "What share of exports was oil and gas?", False),
        ("Moscow asked Beijing for military help.",
         "How much military equipment did China deliver?", False),
        ("The call took place on Wednesday.", "When did the ministers speak?", True),
        ("The summit will be in Kazan.", "When will the summit take place?", False),
        ("The summit will be in Kazan.", "Where will the summit take place?", True),
        ("The summit will be in Kazan.", "When and where will the summit take place?", False),
        ("The summit will be in Kazan.", "Where will the summit take place, and when?", False),
        ("The summit will be in Kazan.", "summit take place when", False),
        # an answer dated to another year than the one asked is about something else
        ("Oil and gas made up 56 percent of exports to China in 2021.",
         "What share of Russian exports to China was oil and gas in 2022?", False),
        ("Oil and gas made up 56 percent of exports to China in 2021.",
         "What share of Russian exports to China was oil and gas in 2021?", True),
        ("Trade exceeded $200 billion at the end of 2023.", "How far has trade grown since 2021?",
         True),
        ("Trade exceeded $200 billion at the end of 2023.",
         "How far had trade grown by March 2024?", True),
        # "upcoming" says an event is ahead, not when it is
        ("Lavrov expects to coordinate at the upcoming UN General Assembly.",
         "Lavrov visit China when", False),
        ("Lavrov will visit China next month.", "Lavrov visit China when", True),
        # here "when" opens a clause: the question asks what, not when
        ("Wang hailed strategic cooperation.", "What did Wang hail when he opened the talks?",
         True),
        # "how many civilians" wants civilians counted, not corridors
        ("Seven humanitarian corridors were set up to take civilians out.",
         "How many civilians were evacuated?", False),
        ("Seven corridors took 5,000 civilians out.", "How many civilians were evacuated?", True),
        ("The meeting produced over a dozen agreements.", "How many agreements were signed?",
         True),
        ("12", "How many agreements were signed?", True),
        # "what age" asks for an amount as "how old" does
        ("The veteran diplomat who said so was Sergei Lavrov.",
         "What age was the veteran diplomat who said ties would grow stronger?", False),
        ("The diplomat was 71.", "What age was the diplomat?", True),
        # neither yes nor no: it must state or deny the question, names and all
        ("The Chinese are upset that Russia talks more to America.",
         "Did Russia and China talk about Ukraine?", False),
        ("Yes, they discussed the crisis.", "Did Russia and China talk about Ukraine?", True),
        ("Russia and China discussed the Ukrainian crisis.",
         "Did Russia and China talk about Ukraine?", True),
        # a first name before the question's own names no one new
        ("Sergey Lavrov said first proposed the peace negotiations.",
         "Who did Lavrov say first proposed the peace negotiations?", False),
        ("Lavrov said Zelensky first proposed the peace negotiations.",
         "Who did Lavrov say first proposed the peace negotiations?", True),
        ("Chinese Foreign Minister Wang Yi.", "Who is China's foreign minister?", True),
        # a city of the asked country, not another country's capital
        ("The conference was held in Moscow.",
         "In which Chinese city was the conference held?", False),
        ("The conference was held in Beijing.",
         "In which Chinese city was the conference held?", True),
        ("The conference was held in Moscow.", "In which major city was the conference held?",
         True),
        # "why" asks for a reason: a bare fact, often one that denies the premise, gives none
        ("China did not support Western sanctions against Moscow.",
         "Why did China decide to join the Western sanctions against Russia?", False),
        ("Trade saw a remarkable 40% surge in the first five months.",
         "Why did trade fall by 40% in the first five months?", False),
        ("The US is pulling countries together to contain China because of its economic "
         "success.", "Why is the US pulling other countries together to contain China?", True),
        ("China opposed the sanctions, citing their lack of a legal basis.",
         "Why did China oppose the sanctions?", True),
    ],
)
def test_an_answer_must_be_what_the_question_asks_for(answer, question, expected):
    assert fits_question(answer, question) is expected


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("What did they agree about BRICS when they met in Vladivostok?", False),
        ("What did they agree about BRICS when they met in Moscow?", True),
        ("What did they agree about BRICS when Lavrov and Wang spoke by phone?", True),
        # the asked "when" takes nothing as given
        ("When did they meet in Vladivostok?", True),
    ],
)
def test_names_in_a_when_clause_must_stand_in_the_sources(question, expected):
    shown = "Lavrov and Wang Yi met in Moscow and spoke about BRICS."
    assert premise_shown(question, shown) is expected


@pytest.mark.parametrize(
    ("answer", "question", "expected"),
    [
        ("Sergey Lavrov", "Apart from Lavrov, which Russian officials did Wang Yi meet?", True),
        ("Wang met Sergey Lavrov and Sergei Shoigu.",
         "Apart from Lavrov, which Russian officials did Wang Yi meet?", False),
        # an acronym is the name it abbreviates
        ("The Shanghai Cooperation Organization (SCO).",
         "Which forum besides BRICS and the SCO did the ministers discuss?", True),
        ("The CICA.", "Which forum besides BRICS and the SCO did the ministers discuss?", False),
        ("The sides discussed the Iranian nuclear program.",
         "Besides Afghanistan and Central Asia, which country's nuclear program did they discuss?",
         False),
        # nothing set aside, or an answer that names nothing
        ("Lavrov met Wang Yi.", "Who did Lavrov meet?", False),
        ("They discussed sanctions.", "Apart from Ukraine, what did they discuss?", False),
    ],
)
def test_an_answer_that_names_only_what_the_question_set_aside_gives_nothing_new(
        answer, question, expected):
    assert gives_back_set_aside(answer, question) is expected


@pytest.mark.parametrize(
    ("answer", "question", "expected"),
    [
        ("Zelensky said six corridors were set up in the Sumy region.",
         "How many corridors were set up in the Kharkiv region?", True),
        ("China expressed support for Russia's chairmanship of BRICS.",
         "Why did China back Russia's chairmanship of the Shanghai Cooperation Organization?",
         True),
        ("Lavrov spoke at a press conference in Moscow on January 18.",
         "What did Lavrov say at his press conference in Beijing?", True),
        # the question's name stands in the answer, as itself or as the country of a capital
        ("Six corridors were set up in the Kharkiv region and one in the Sumy region.",
         "How many corridors were set up in the Kharkiv region?", False),
        ("Washington pressured Ukrainian President Zelensky's negotiators.",
         "Who kept Kyiv's negotiators from agreeing?", False),
        # another name, but in no place the question's name fills
        ("China expressed support for BRICS.",
         "Why did China back Russia's chairmanship of the SCO?", False),
    ],
)
def test_an_answer_that_puts_another_name_in_the_questions_place_is_about_something_else(
        answer, question, expected):
    assert swaps_name(answer, question) is expected


@pytest.mark.parametrize(
    ("answer", "question", "expected"),
    [
        ("The Wall Street Journal and CNN reported it.", "Which two US news outlets reported it?",
         True),
        ("On March 30 and 31, Lavrov came to China.", "On which days in 2022 was Lavrov there?",
         True),
        ("It was signed on February 4.", "What is the date of the joint statement?", True),
        ("Exports were worth $79.3 billion.", "How much did Russia sell?", True),
        ("The sides exchanged views on the Korean Peninsula.",
         "Why did China oppose Russia's chairmanship of BRICS?", False),
        ("Because Washington wants to contain Beijing's rise.",
         "Why did Lavrov accuse the US?", True),
        ("Moscow and Beijing denied this information.",
         "What does the report call the help from Beijing?", False),
        ("The minister spoke about it.", "Which country did Lavrov name?", False),
        ("Wang Yi made it clear that the cooperation is not aimed at other nations.",
         "What did Wang Yi say in Moscow?", True),
        ("The 71-year-old diplomat accused Washington of pressuring Zelensky.",
         "What did Zelensky propose, according to Lavrov?", False),
    ],
)
def test_an_answer_of_the_kind_asked_for(answer, question, expected):
    assert answers_kind(answer, question) is expected


def test_an_answer_addresses_the_question_with_one_of_its_common_words_or_bare():
    q = "What did Zelensky propose, according to Lavrov?"
    assert addresses("Zelensky proposed negotiations, Lavrov said.", q)
    assert addresses("Volodymyr Zelensky", q)
    assert not addresses("The diplomat accused Washington of pressuring Zelensky's team.", q)


def test_a_date_written_out_matches_the_same_date_in_iso_form():
    label = "China's FM in Moscow: Bilateral Relations\n2023-09-19\nWang Yi held talks in Moscow."
    q = "When was the article about Wang Yi's talks in Moscow published?"
    assert support("The article was published on September 19, 2023.", [label], q).supported
    assert not support("The article was published on September 18, 2023.", [label], q).supported
    assert not support("The article was published on October 19, 2023.", [label], q).supported
    assert new_names_quoted("It was published on September 19, 2023.", label, q)


def test_a_name_the_quote_lacks_is_a_wrong_pick():
    quote = "We are developing a special privileged partnership with India, Lavrov said."
    q = "Lavrov said Russia is developing a special privileged partnership with which country?"
    assert new_names_quoted("Russia is developing the partnership with India.", quote, q)
    assert not new_names_quoted("Russia is developing the partnership with China.", quote, q)


def test_a_name_with_digits_is_a_name():
    quote = "The United States and other members of the G7 imposed a series of sanctions on Moscow."
    q = "Along with the United States, members of which group imposed sanctions on Moscow?"
    assert adds_to("The United States and other members of the G7 imposed sanctions.", q)
    assert new_names_quoted("Members of the G7 imposed sanctions on Moscow.", quote, q)
    assert not new_names_quoted("Members of the G20 imposed sanctions on Moscow.", quote, q)



WANG_SAID = ("During his visit to Moscow, Chinese Foreign Minister Wang Yi made it clear that the "
             "cooperation between Beijing and Moscow is not aimed at any other nations.")


@pytest.mark.parametrize("sentence, quoted", [
    ("Wang Yi said the cooperation is not aimed at any other nations.", True),
    ("Chinese Foreign Minister Wang Yi made it clear the cooperation targets no one.", True),
    # one speaker's words are not both sides' agreement
    ("Beijing and Moscow agreed that the cooperation is not aimed at other nations.", False),
    # the question's names, put in the speaker's place
    ("Putin told Wang Yi that the cooperation is not aimed at any other nations.", False),
    ("Lavrov and Wang Yi agreed that the cooperation is not aimed at other nations.", False),
    ("Zhao Lijian said the cooperation is not aimed at any other nations.", False),
    # no name speaks: nothing to check
    ("The Chinese minister said the cooperation is not aimed at other nations.", True),
])
def test_whoever_the_answer_says_spoke_stands_in_the_quote(sentence, quoted):
    assert speakers_quoted(sentence, WANG_SAID) is quoted


def test_a_speaker_the_quote_calls_by_a_title_may_stand_elsewhere_in_the_article():
    quote = ("The 71-year-old diplomat accused Washington of pressuring Ukrainian President "
             "Volodymyr Zelensky's negotiating team.")
    article = "Foreign Minister Lavrov: Russia-China cooperation will be stronger\n" + quote
    sentence = "Lavrov accused Washington of pressuring Zelensky's negotiating team."
    assert speakers_quoted(sentence, quote, article)
    assert not speakers_quoted(sentence.replace("Lavrov", "Putin"), quote, article)
    # The article's own words are no one's quote, whoever else the article names.
    own = "China did not support Western sanctions against Moscow."
    assert not speakers_quoted("Zhao Lijian said that China did not support the sanctions.",
                               own, f"Spokesman Zhao Lijian said so.\n{own}")
    # A quote that names its own speaker settles who spoke: the article's other names don't.
    two = ("Lavrov said the partnership with India is special.\nIn turn, Wang Yi claimed that "
           "relations have maintained the right direction.")
    assert not speakers_quoted("Lavrov and Wang Yi agreed that relations have maintained the "
                               "right direction.", two, two)


def test_speakers_are_the_names_before_the_verb_of_saying():
    assert speakers("In Moscow, Lavrov said so.") == [["lavrov"]]
    assert speakers("Lavrov, Wang Yi and Putin discussed it.") == [
        ["putin"], ["wang", "yi"], ["lavrov"]]
    assert speakers("The American president warned Beijing.") == []
    assert speakers("Wang Yi met United States officials.") == []  # "States" is no verb
    assert speakers("The Joint Statement of Russia and the PRC was discussed in Beijing.") == []


def test_a_sentence_that_says_who_spoke_must_name_whom_the_question_asks_about():
    q = "What did Xi Jinping tell Biden about the crisis in Ukraine?"
    assert not speaks_as_asked("Joe Biden said China would face consequences.", q)
    assert speaks_as_asked("Xi said the crisis in Ukraine is not what China wants.", q)
    assert speaks_as_asked("The crisis in Ukraine is not the scenario China wants to see.", q)
    assert speaks_as_asked("Joe Biden said China would face consequences.",
                           "What did the US warn China about?")
    # any verb of saying names a speaker, "reiterated" as well as "said"
    assert not speaks_as_asked("Xi reiterated that the crisis in Ukraine is not what China "
                               "wants.", "What did Wang Yi say about the Ukraine crisis?")


def test_who_someone_said_did_a_thing_is_answered_by_the_one_who_did_it():
    """The one asked for is the subject of what Lavrov said, not Lavrov."""
    q = "Who did Lavrov say first proposed the peace negotiations between Russia and Ukraine?"
    assert speaks_as_asked("Mr Zelensky proposed negotiations, our President accepted.", q)
    assert not speaks_as_asked("Mr Zelensky proposed negotiations.",
                               "What did Lavrov say about the peace negotiations?")
    article = "001_d09e4f1b547c6a50.txt"
    text = (SEEDS / article).read_text(encoding="utf-8")
    i = text.index("Mr Zelensky proposed negotiations")
    start, end = text.rfind("\n", 0, i) + 1, text.find("\n", i)
    src = Source(1, article, "Lavrov on Russia-China ties", None, None, text[start:end], start,
                 end, 1.0)
    v = verify("Mr Zelensky proposed negotiations, our President accepted [1].", [src], q)
    assert not v.refused and "Zelensky" in v.citations[0].quote


def test_a_quote_that_names_its_speaker_is_that_speaker_s_alone():
    quote = ("U.S. President Joe Biden said during his talks with Chinese President Xi Jinping "
             "that China would face consequences if Beijing helps Moscow.")
    assert speakers_quoted("Joe Biden said China would face consequences.", quote)
    assert speakers_quoted("The US President said China would face consequences.", quote)
    assert not speakers_quoted("Xi Jinping told Biden that China would face consequences.", quote)


def test_words_put_in_someone_s_mouth_need_a_quote_that_reports_someone_s_words():
    malta = ("The Moscow trip comes days after Wang held talks with United States President "
             "Joe Biden's National Security Adviser Jake Sullivan in Malta.")
    assert not speakers_quoted("Jake Sullivan said he held talks with Wang Yi in Malta.", malta)
    view = ("Harsh restrictive measures are unacceptable, Wang Yi said earlier. In his view, "
            "such measures split the world.")
    assert speakers_quoted("Wang Yi said such measures split the world.", view)

MEETING = ("Chinese leader Xi Jinping and Russian President Vladimir Putin convened in Moscow in "
           "March, affirming their unity on various fronts.")
ENCOUNTER = ("The encounter culminated in over a dozen agreements aimed at reinforcing "
             "collaboration in fields including commerce, technology, and state propaganda, as "
             "per a list issued by the Kremlin.")
DOZEN_Q = "How many agreements came out of the Xi-Putin meeting in {} in March?"


def test_names_the_question_brings_may_stand_elsewhere_in_the_shown_article():
    question = DOZEN_Q.format("Moscow")
    sentence = "Over a dozen agreements came out of the Xi-Putin meeting in Moscow in March."
    assert not support(sentence, [ENCOUNTER], question).supported
    assert support(sentence, [ENCOUNTER], question, f"{MEETING}\n{ENCOUNTER}").supported


def test_one_echoed_name_the_shown_article_lacks_keeps_every_echoed_name_unexcused():
    question = DOZEN_Q.format("Tokyo")
    sentence = "Over a dozen agreements came out of the Xi-Putin meeting in Tokyo in March."
    assert not support(sentence, [ENCOUNTER], question, f"{MEETING}\n{ENCOUNTER}").supported


def test_a_question_in_lower_case_gives_no_pass_to_a_name_it_brings():
    shown = f"{MEETING}\n{ENCOUNTER}"
    sentence = "Over a dozen agreements came out of the Xi-Putin meeting in {} in March."
    assert support(sentence.format("Moscow"), [ENCOUNTER], DOZEN_Q.format("moscow").lower(),
                   shown).supported
    assert not support(sentence.format("Tokyo"), [ENCOUNTER], DOZEN_Q.format("tokyo").lower(),
                       shown).supported


def test_a_lower_case_question_takes_its_names_capitals_from_the_passages():
    texts = ["China Rejects NATO Claims\n"  # a title-case headline says nothing about case
             "On Monday Wang Yi said NATO was no threat. He rejected claims made in Brussels.",
             # "ministry" is also written in lower case, so it is no name
             "Lavrov thanked the Foreign Ministry of China and the ministry of trade."]
    assert (truecase("what did wang yi's ministry say about nato claims in brussels?", texts)
            == "what did Wang Yi's ministry say about NATO claims in Brussels?")
    # a question with capitals of its own is taken as written
    assert truecase("What did Wang Yi say about nato?", texts) == "What did Wang Yi say about nato?"


CHAIR = ("They noted the constructive nature of interaction between Russia and China within the "
         "UN, the Shanghai Cooperation Organization (SCO), the BRICS bloc and other formats, "
         "indicating that the Chinese side expressed support for Russia's chairmanship of BRICS.")


def test_a_name_only_the_question_brings_is_a_premise_the_answer_may_not_repeat():
    question = "What did Lavrov and Wang agree about India's chairmanship of the SCO?"
    # One name the passage lacks is tolerated for a paraphrase, but not one the question
    # brought and the shown article never mentions.
    assert not support("Russia and China agreed that India should chair the SCO.", [CHAIR],
                       question, CHAIR).supported
    assert support("Russia and China supported Russia's chairmanship of BRICS.", [CHAIR],
                   question, CHAIR).supported
    # A nationality before a noun describes; the article may say "US".
    warned = "President Biden warned that China could suffer consequences."
    assert support("The American president warned that China could suffer consequences.",
                   [warned], "What did the American president warn China of?", warned).supported


EXPORTS = ("Russian exports to China were worth $79.3 billion in 2021, of which oil and gas "
           "accounted for 56 percent, according to China's customs authorities.")
CORRIDORS = ("Zelensky said on March 18 that seven humanitarian corridors had been established "
             "to take civilians out of the war zone.")


@pytest.mark.parametrize(("value", "passage", "question", "backed"), [
    ("56%", EXPORTS, "Roughly what portion of the goods Russia sold to China in 2021 was "
     "hydrocarbons?", True),
    ("7", CORRIDORS, "How many humanitarian corridors had Zelensky said were set up?", True),
    # the value stands in the passage, but the question it would answer does not
    ("$79.3 billion", EXPORTS, "What were Russian exports to China worth in 2023?", False),
    ("56%", EXPORTS, "What share of Japan's imports came from Russia in 2021?", False),
    ("7", CORRIDORS, "How many civilians were evacuated through the corridors?", False),
    # a capital standing for its country is shown where the country is; a place is not
    ("56%", EXPORTS, "What share of Moscow's 2021 sales to Beijing was oil and gas?", True),
    ("56%", EXPORTS, "What share of the goods Russia sold in Beijing in 2021 was oil and gas?",
     False),
    ("56%", EXPORTS, "What share of Tokyo's 2021 purchases from Russia was oil and gas?", False),
])
def test_a_bare_value_is_backed_with_the_question_it_answers(value, passage, question, backed):
    assert support(value, [passage], question, passage).supported is backed


@pytest.mark.parametrize(("question", "countries"), [
    ("How big was commerce between Moscow and Beijing in 2023?", {"moscow", "beij"}),
    ("What did the Kremlin say about the talks?", {"kremlin"}),
    ("What did Lavrov say at his press conference in Beijing?", set()),
    ("When did Wang Yi fly to Moscow?", set()),
    ("Which city did Wang visit after leaving Berlin?", set()),
])
def test_a_capital_stands_for_its_country_unless_it_names_a_place(question, countries):
    assert set(stands_for(question)) == countries


@pytest.mark.parametrize(("question", "reversed_"), [
    ("How much did China export to Russia in 2021?", True),
    ("How much were Chinese exports to Russia worth in 2021?", True),
    ("How much did Russia export to China in 2021?", False),
    ("What were Russian exports to China worth in 2021?", False),
    ("What share of China's oil imports comes from Russia?", False),  # another verb: not judged
])
def test_a_passage_with_the_question_s_relation_the_other_way_round_answers_nothing(
        question, reversed_):
    assert reverses(question, EXPORTS) is reversed_
    answer = "Russian exports to China were worth $79.3 billion in 2021."
    assert support(answer, [EXPORTS], question, EXPORTS).supported is not reversed_
    assert support("$79.3 billion", [EXPORTS], question, EXPORTS).supported is not reversed_


def test_a_passage_with_both_directions_backs_either():
    both = f"{EXPORTS} Chinese exports to Russia reached $67.6 billion."
    assert not reverses("How much did China export to Russia in 2021?", both)


ISSUES = ("The statement said Lavrov and Wang discussed a number of issues on the international "
          "agenda during their meeting, including the Russia-Ukraine war, the Israeli-Palestinian "
          "conflict and the situation around the Korean Peninsula.")


def test_a_name_that_says_what_kind_of_answer_is_asked_for_need_not_stand_in_the_article():
    question = "Apart from the war in Ukraine, which Middle East dispute did the ministers discuss?"
    answer = "The Middle East dispute the ministers discussed was the Israeli-Palestinian conflict."
    assert support(answer, [ISSUES], question, ISSUES).supported
    # the same name as a premise, outside the asked-for phrase, is still one
    assert not support("The ministers discussed the Israeli-Palestinian conflict in the Middle "
                       "East.", [ISSUES], "What did the ministers discuss in the Middle East?",
                       ISSUES).supported


ZHAO = ("“Since the conflict erupted, the Chinese side has always taken the initiative of "
        "reconciliation and negotiations,” – said Foreign Ministry spokesman Zhao Lijian.")


def test_what_someone_said_about_a_topic_needs_the_topic_in_the_quote():
    assert not about_quoted(ZHAO, "What did Zhao Lijian say about sanctions?")
    assert about_quoted("China did not support Western sanctions against Moscow.",
                        "What did Zhao Lijian say about sanctions?")
    # a topic with a name needs the name: "policy" alone is another policy
    assert not about_quoted("Russia and China reiterate their rejection of the West's "
                            "'confrontational policy'.",
                            "What did Lavrov say about the European Union's energy policy?")
    assert about_quoted(ZHAO, "What did Zhao Lijian say?")
    # who wrote a piece about a topic: its byline answers, the topic is the article's
    assert about_quoted("By Anadolu Agency", "Which news agency wrote the report about the "
                        "Lavrov–Wang phone call rejecting the West's confrontational policy?")
    assert about_quoted("The 71-year-old diplomat accused Washington.", "How old was Sergei "
                        "Lavrov, according to the Vietnamese report on his comments about ties "
                        "with China?")
    assert not about_quoted(ZHAO, "What did the agency report about sanctions?")


def test_a_yes_answer_must_be_backed_in_the_question_words_too():
    passage = ("Russia and China will move toward a just and democratic world order. We have "
               "the best relations with China in the history of their existence.")
    question = "Did Russia and China sign a peace deal?"
    # Restating the question after "yes" borrows words the passage never says.
    assert not support("Yes, Russia and China signed a peace deal.", [passage], question).supported
    assert support("Yes, Russia and China will move toward a democratic world order.",
                   [passage], "Do Russia and China want a democratic world order?").supported


@pytest.mark.parametrize(
    ("sentence", "backed"),
    [
        ("The encounter produced over a dozen agreements.", True),
        ("The encounter produced more than 12 agreements.", True),
        ("The encounter produced 12 agreements.", False),
        ("The encounter produced a dozen agreements.", False),
    ],
)
def test_a_bound_in_the_passage_backs_only_a_bound(sentence, backed):
    assert support(sentence, [ENCOUNTER]).supported is backed


DELEGATION = ("However, the head of the Russian delegation emphasized that the meeting between "
              "President Vladimir Putin and President Zelensky would take place only after the "
              "delegations of the two countries had finalized the draft agreement.")


@pytest.mark.parametrize(
    ("sentence", "quote", "held"),
    [
        # The name stands in the quote, but as someone else the role's holder speaks about.
        ("The head of the Russian delegation is Vladimir Putin.", DELEGATION, False),
        ("Vladimir Putin headed the Russian delegation.", DELEGATION, False),
        ("The Russian delegation was led by Vladimir Putin.", DELEGATION, False),
        ("The head of the Russian delegation is Vladimir Putin, the Russian president.",
         DELEGATION, False),
        ("Vladimir Putin was the head of the Russian delegation.", DELEGATION, False),
        # As a title, an apposition or a relative clause, the name holds the role.
        ("The Russian foreign minister is Sergey Lavrov.",
         "Russian Foreign Minister Sergey Lavrov said ties were strong.", True),
        ("Lavrov was the 71-year-old diplomat.",
         "Lavrov, the 71-year-old diplomat, accused Washington.", True),
        ("The Russian delegation was headed by Vladimir Medinsky.",
         "The Russian delegation, headed by Vladimir Medinsky, arrived.", True),
        ("Jake Sullivan is the US national security adviser.",
         "Wang met Jake Sullivan, the US national security adviser, in Malta.", True),
    ],
)
def test_who_holds_a_role_must_be_said_beside_the_role(sentence, quote, held):
    question = "Who headed the Russian delegation?"
    assert holds_role_as_quoted(sentence, quote, question) is held


def test_a_bare_name_answers_the_role_the_question_asks_about():
    question = "What is the name of the head of the Russian delegation?"
    assert not holds_role_as_quoted("Vladimir Putin", DELEGATION, question)
    assert holds_role_as_quoted("Vladimir Medinsky",
                                "Vladimir Medinsky, head of the Russian delegation, said …",
                                question)


def test_any_answer_to_who_holds_a_role_names_the_holder_beside_the_role():
    question = "Who headed the Russian delegation in the peace talks with Ukraine?"
    quote = ("Sergey Lavrov also discussed with his Chinese counterpart the Russian special "
             "operation in Ukraine and the negotiations between Moscow and Kyiv.")
    assert not holds_role_as_quoted(
        "The Russian delegation headed the peace talks with Ukraine by Sergey Lavrov.", quote,
        question)
    assert holds_role_as_quoted(
        "The talks were led by Vladimir Medinsky.",
        "The Russian delegation, headed by Vladimir Medinsky, met in Istanbul.", question)


def test_a_role_sentence_is_checked_only_for_who_questions():
    # "When was the meeting?" answered "The meeting was Wednesday" names no holder of a role.
    assert holds_role_as_quoted("The meeting was Wednesday.", DELEGATION, "When was the meeting?")
    assert holds_role_as_quoted("Putin and Zelensky would meet after the draft agreement.",
                                DELEGATION, "Who would meet after the draft agreement?")


@pytest.mark.parametrize("answer, fits", [
    ("The Russian delegation led the peace talks with Ukraine.", False),  # names no one
    ("Vladimir Medinsky headed the Russian delegation.", True),
    ("Russia's chief negotiator, Medinsky, did.", True),
])
def test_a_who_question_is_answered_by_naming_someone(answer, fits):
    question = "Who headed the Russian delegation in the peace talks with Ukraine?"
    assert fits_question(answer, question) is fits


def test_words_echoed_from_the_question_do_not_back_an_answer_the_passage_lacks():
    q = ("According to the ministry's statement, what had bilateral trade and economic "
         "cooperation successfully coped with?")
    said = ("According to the ministry's statement, bilateral trade and economic cooperation "
            "had successfully coped with external challenges.")
    elsewhere = ("The ministry's statement welcomed bilateral trade and economic cooperation "
                 "between the two countries.")
    assert not support(said, [elsewhere], q).supported
    assert support(said, ["The statement said trade had coped with external challenges."],
                   q).supported
    # a value is what it adds: "grew" is the question's word, "26%" the passage's
    assert support("Trade grew by 26%.", ["Trade grew by 26% in 2023."],
                   "By how much did trade grow?").supported


WANG_MOSCOW = ("During his visit to Moscow, Chinese Foreign Minister Wang Yi made it clear "
               "that the cooperation between Beijing and Moscow is not aimed at any other "
               "nations.")


@pytest.mark.parametrize(("sentence", "quote", "kept"), [
    # the quote's words with its "not" dropped say the opposite
    ("China-Russia cooperation targets other nations.", WANG_MOSCOW, False),
    ("Their cooperation is aimed at other nations.", WANG_MOSCOW, False),
    ("Their cooperation is not aimed at any other nations.", WANG_MOSCOW, True),
    ("Wang Yi said cooperation targets no other nation.", WANG_MOSCOW, True),
    ("Wang Yi visited Moscow.", WANG_MOSCOW, True),  # leaves the denied part out
    # "not only … but also" denies nothing
    ("They will cooperate on trade and energy.",
     "They will cooperate not only on trade but also on energy.", True),
    # the denial governs other words than the sentence repeats
    ("Wang said relations with Russia were solid as rock.",
     "Wang said relations with Russia were solid as rock and will not be affected by any "
     "third party.", True),
    ("Trade grew in May.", "No deal was signed on gas, but trade grew in May.", True),
])
def test_a_sentence_keeps_the_denials_of_its_quote(sentence, quote, kept):
    assert keeps_denial(sentence, quote) is kept
    # and where it does not, the quote's sentence that holds the denial is named
    assert (dropped_denial(sentence, quote) is None) is kept
    if not kept:
        assert dropped_denial(sentence, f"Trade grew. {quote}") == quote


def test_whose_is_answered_by_an_owner_written_in_lower_case():
    q = "Whose figures are cited for Russia's $79.3 billion of exports to China in 2021?"
    assert answers_kind("China's customs authorities", q)
    assert not answers_kind("Russia's exports to China", q)
    src = Source(1, "001_d09e4f1b547c6a50.txt", "Lavrov on ties", None, None, PASSAGE, 0,
                 len(PASSAGE), 1.0)
    v = verify("China's customs authorities [1].", [src], q)
    assert not v.refused and "customs authorities" in v.citations[0].quote


@pytest.mark.parametrize(("question", "polar"), [
    ("Did it happen by the end of 2023?", True),
    ("In May, he hoped trade would pass $200 billion. Did it happen?", True),
    ("Were Russian exports to China worth $79.3 billion in 2021?", True),
    ("How much were Russian exports to China worth in 2021?", False),
    ("Did trade grow? How much was it worth, $79.3 billion?", False),
])
def test_a_yes_no_question_is_known_by_its_last_ask(question, polar):
    assert is_yes_no_question(question) is polar


CEASEFIRE = ("Since Russia launched military operations in Ukraine On February 24, the "
             "delegations of the two countries carried out several rounds of negotiations, but "
             "only reached an agreement on the issue of establishing a humanitarian corridor to "
             "evacuate civilians, not on a ceasefire.")
SANCTIONS = "China did not support Western sanctions against Moscow."
HARSH = ("Earlier, Chinese Foreign Minister Wang Yi called the harsh sanctions of Western "
         "countries against Russia unacceptable.")
APEC = ("Russia and China are expected to maintain their well-coordinated work at the upcoming "
        "UN General Assembly and the Asia-Pacific Economic Cooperation summit, according to "
        "Russian Foreign Minister Sergey Lavrov.")


@pytest.mark.parametrize(("question", "sentence", "quote", "context", "decided"), [
    # a yes that only says the question back claims all of it: words its quote lacks
    ("Will Wang Yi attend the APEC summit in person?",
     "Yes, Wang Yi will attend the APEC summit in person.", APEC, "Wang Yi met Lavrov.", False),
    # the quote denies what the yes affirms
    ("Did the Russian and Ukrainian delegations agree on a ceasefire?",
     "Yes, the Russian and Ukrainian delegations agreed on a ceasefire.", CEASEFIRE, "", False),
    # ... or another sentence shown of the article does
    ("Did China support the Western sanctions against Moscow?",
     "Yes, China did support the Western sanctions against Moscow.", HARSH, SANCTIONS, False),
    # a no the quote bears out, and one it does not
    ("Did the Russian and Ukrainian delegations agree on a ceasefire?",
     "No, the delegations did not agree on a ceasefire.", CEASEFIRE, "", True),
    ("Did Lavrov speak about the General Assembly?",
     "No, Lavrov did not speak about the General Assembly.", APEC, "", False),
    # a yes the quote says word for word
    ("Did China support the Western sanctions against Moscow?",
     "No, China did not support Western sanctions against Moscow.", SANCTIONS, "", True),
    # an answer that adds its quote's fact is left to the support checks
    ("Were oil and gas more than half of what Russia sold to China in 2021?",
     "Yes, oil and gas accounted for 56 percent of Russian exports to China.", PASSAGE, "", True),
    # a first name before the question's name adds no fact
    ("Was the conversation between Lavrov and Wang Yi a face-to-face meeting?",
     "The conversation between Sergey Lavrov and Wang Yi was a face-to-face meeting.", APEC,
     "", False),
    # not a yes/no question: nothing to decide
    ("Which summit will Wang Yi attend?", "Wang Yi will attend the summit.", APEC, "", True),
])
def test_a_yes_or_no_rests_on_its_quote(question, sentence, quote, context, decided):
    assert decides_as_quoted(sentence, quote, question, context) is decided


def test_a_yes_that_only_says_the_question_back_is_refused_or_answered_by_its_source():
    text = (SEEDS / "001_d09e4f1b547c6a50.txt").read_text(encoding="utf-8")
    start = text.index(CEASEFIRE)
    src = Source(1, "001_d09e4f1b547c6a50.txt", "Lavrov on ties", None, None, CEASEFIRE, start,
                 start + len(CEASEFIRE), 1.0)
    q = "Did the Russian and Ukrainian delegations agree on a ceasefire?"
    # the yes drops the source's "not": the source's own sentence answers instead
    v = verify("Yes, the Russian and Ukrainian delegations agreed on a ceasefire [1].", [src], q)
    assert not v.refused and not v.text.startswith("Yes")
    assert v.text.endswith("not on a ceasefire [1].")
    v = verify("No, the delegations did not agree on a ceasefire [1].", [src], q)
    assert not v.refused and "not on a ceasefire" in v.citations[0].quote
    # the article's first paragraph names Wang Yi and the APEC summit, and nobody attending
    lead = (SEEDS / "004_422752f7ffbee7cc.txt").read_text(encoding="utf-8").split("\n")[0]
    src = Source(1, "004_422752f7ffbee7cc.txt", "Lavrov", None, None, lead, 0, len(lead), 1.0)
    assert verify("Yes, Wang Yi will attend the APEC summit in person [1].", [src],
                  "Will Wang Yi attend the APEC summit in person?").refused


CORRIDORS = ("Ukrainian President Volodymyr Zelensky said on March 18 that seven humanitarian "
             "corridors had been established, including six in the Sumy region and one in "
             "Donetsk, to take civilians out of the war zone.")


@pytest.mark.parametrize(("question", "sentence", "counted"), [
    # the quote's seven counts corridors, not civilians
    ("How many civilians were evacuated through the corridors?",
     "The corridors have taken seven civilians out of the war zone.", False),
    ("How many humanitarian corridors had been established?",
     "Seven humanitarian corridors had been established.", True),
    # a value that counts nothing the question asks about is for the other checks
    ("How many civilians were evacuated?", "Zelensky spoke on March 18.", True),
    ("How much were the exports worth?", "The corridors took seven civilians out.", True),
])
def test_a_count_rests_on_a_quote_that_counts_the_same_thing(question, sentence, counted):
    assert counts_as_quoted(sentence, CORRIDORS, question) is counted


@pytest.mark.parametrize(("answer", "fits"), [
    ("The call took place on Wednesday.", True),
    ("The conference was held on March 31.", True),
    ("The trip came days after Wang held talks in Malta.", False),
    ("They spoke this week.", False),
])
def test_a_question_for_a_day_wants_a_day(answer, fits):
    assert fits_question(answer, "On what day of the week did they speak?") is fits
    assert fits_question(answer, "On what date did they speak?") is fits


@pytest.mark.parametrize(("answer", "fits"), [
    ("Wang Yi said so in early March.", True),
    ("The call took place on Wednesday.", True),
    ("They met two years ago.", True),
    ("They will meet next week.", True),
    # these only say that something came first
    ("Earlier, during his video conversation with Borrell, Wang called sanctions unacceptable.",
     False),
    ("The trip came days after Wang held talks in Malta.", False),
])
def test_a_when_question_wants_a_time_that_says_when(answer, fits):
    assert fits_question(answer, "When did Wang Yi hold his video call with Borrell?") is fits


def test_a_quote_that_shares_nothing_with_the_question_backs_nothing():
    """"Held in Beijing" on "Moscow and Beijing officially denied this information": the
    sentence's other words echo the question, and its quote is about something else."""
    text = (SEEDS / "002_0385020f3bcde863.txt").read_text(encoding="utf-8")

    def src(n: int, needle: str) -> Source:
        a = text.index(needle)
        return Source(n, "002_0385020f3bcde863.txt", "Staying the course", None, None, needle,
                      a, a + len(needle), 1.0)

    shown = [src(1, "On March 31, the Ministerial Conference of Afghanistan’s Neighboring "
                    "Countries was held."),
             src(2, "Moscow and Beijing officially denied this information.")]
    q = ("In which Chinese city was the conference of Afghanistan's neighboring countries held "
         "when Lavrov visited in March?")
    assert verify("The conference of Afghanistan's neighboring countries was held in Beijing "
                  "[2].", shown, q).refused
