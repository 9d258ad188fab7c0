"""Deterministic support check: does a passage back a sentence's content words, numbers, names?

No library checks a claim against a passage without a model (NLI models are too slow for a
2-core answer budget), so this is hand-written: it is shared by the answerer, which uses it to
keep, move or drop citations, and by the eval suite, which scores citations with it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache

from .cite import sentence_spans

# A name with digits ("G7", "G20") is one word: cut at the digit, "G" is too short to count
# and the answer "the G7" says nothing the checks can see.
_WORD = re.compile(r"[^\W\d_]+\d[^\W_]*|[^\W\d_]+(?:['’][^\W\d_]+)?|\d[\d,]*(?:\.\d+)?",
                   re.UNICODE)
_NUMBER = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(%|percent|per cent|trillion|tn|billion|bn|"
    r"million|mn|m\b|thousand|k\b)?",
    re.I,
)
_SCALE = {
    "trillion": 1e12, "tn": 1e12, "billion": 1e9, "bn": 1e9, "million": 1e6, "mn": 1e6,
    "m": 1e6, "thousand": 1e3, "k": 1e3,
}
_NUMBER_WORDS = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_NUMBER_WORDS.update({"dozen": "12", "hundred": "100"})
# Words that say nothing about whether a passage backs a claim.
_FILLER = {
    "article", "articles", "source", "sources", "according", "stated", "states", "said", "says",
    "mentioned", "reported", "also", "would", "could", "however", "text", "provided", "passage",
    # units belong to the numbers, which are checked as values
    "billion", "bn", "million", "mn", "trillion", "tn", "thousand", "dollar", "dollars", "usd",
    "percent", "per", "cent",
    # the polarity of an answer to a yes/no question, never a word a passage holds
    "yes",
}


# Words that make the number after them a bound, not a value: "over a dozen", "more than $200
# billion", "nearly 40%".
_BOUND = re.compile(
    r"\b(over|more than|less than|fewer than|nearly|almost|about|around|roughly|some|up to|"
    r"at least|at most|above|below|under|approximately|close to|upwards of|"
    r"exceed(?:ed|s|ing)?|surpass(?:ed|es|ing)?)\s+(?:an?\s+)?[$€£]?\s*$", re.I)
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b")


@dataclass(frozen=True)
class Number:
    """A number as written and as a value (scale applied): 79.3 billion == 79,300 million."""

    raw: float
    value: float
    word: bool = False  # written as a word ("two"), not digits
    bound: bool = False  # "over a dozen": at least that many, not exactly
    day: bool = False  # a day of a month ("March 30", "30 March"), not an amount


_MONTH = (r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
          r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?")
_MONTH_BEFORE = re.compile(  # "March 30", or the second day of "March 30–31"
    rf"\b{_MONTH}\s+(?:\d\d?(?:st|nd|rd|th)?\s*(?:[-–—]|to|and|or)\s*)?$")
_MONTH_AFTER = re.compile(rf"(?:st|nd|rd|th)?\s*(?:of\s+)?{_MONTH}\b")


def _is_day(text: str, m: re.Match[str]) -> bool:
    return (not m.group(2) and not m.group(3) and 1 <= int(m.group(1).replace(",", "")) <= 31
            and bool(_MONTH_BEFORE.search(text[max(0, m.start() - 24):m.start()])
                     or _MONTH_AFTER.match(text, m.end())))


def _is_bound(text: str, start: int, written: str) -> bool:
    return not _YEAR.fullmatch(written) and bool(_BOUND.search(text[max(0, start - 30):start]))


def extract_numbers(text: str) -> list[Number]:
    """Numbers in text, digits or small number words, with billion/million scales applied."""
    out: list[Number] = []
    for m in _NUMBER.finditer(text):
        raw = float(m.group(1).replace(",", "") + (m.group(2) or ""))
        unit = (m.group(3) or "").lower()
        out.append(Number(raw, raw * _SCALE.get(unit, 1.0),
                          bound=_is_bound(text, m.start(), m.group(1)), day=_is_day(text, m)))
    for m in _WORD.finditer(text):
        w = m.group().lower()
        if w in _NUMBER_WORDS:
            v = float(_NUMBER_WORDS[w])
            out.append(Number(v, v, word=True, bound=_is_bound(text, m.start(), w)))
    return out


def numbers_match(a: Number, pool: Sequence[Number]) -> bool:
    return any(abs(a.value - b.value) <= 1e-6 * max(1.0, abs(b.value)) or a.raw == b.raw
               for b in pool)


def number_backed(a: Number, pool: Sequence[Number]) -> bool:
    """Whether the pool states a: a bound there backs only a bound here, so "12 agreements"
    is not backed by "over a dozen agreements", and a day of a month only a day, so "30
    minutes" is not backed by "On March 30"."""
    return any(numbers_match(a, [b]) and (a.bound or not b.bound) and (a.day or not b.day)
               for b in pool)


@cache
def _stopwords() -> frozenset[str]:
    # NLTK's English list, shipped offline inside llama-index-core.
    from llama_index.core.utils import globals_helper

    return frozenset(globals_helper.stopwords) | _FILLER


@cache
def _stemmer():
    from nltk.stem import PorterStemmer

    return PorterStemmer()


@cache
def _stem(word: str) -> str:
    return _stemmer().stem(word)


def _base(word: str) -> str:
    """The word without its possessive or contraction: "Wang's" is "Wang"."""
    return re.split("['’]", word, maxsplit=1)[0]


def terms(text: str) -> list[str]:
    """Stemmed content words of text: no stopwords, no numbers."""
    stop = _stopwords()
    out = []
    for w in _WORD.findall(text):
        lw = w.lower().replace("’", "'")
        if lw[0].isdigit() or lw in stop or lw in _NUMBER_WORDS or len(lw) < 2:
            continue
        out.append(_stem(_base(lw)))
    return out


def names(text: str) -> list[str]:
    """Stems of capitalised words (people, places, bodies) after the first word of the text."""
    return [t for _, t in _capitalised(" ".join(_WORD.findall(text)[1:]))]


def _capitalised(text: str) -> list[tuple[str, str]]:
    """Capitalised words of text that are no stopwords, each with its stem ("Wang's": wang)."""
    stop = _stopwords()
    return [(w, _stem(_base(w.lower()))) for w in _WORD.findall(text)
            if w[:1].isupper() and w.lower() not in stop]


# A character before a word that may open a sentence, where any word is capitalised.
_OPENS = set(".!?:;\"“”‘’'")


def truecase(question: str, texts: Sequence[str]) -> str:
    """The question with each lower-case word that the texts always capitalise inside a
    sentence written their way: "what did wang yi say about nato" reads "what did Wang Yi say
    about NATO". The checks below find names by their capitals, so a question typed in lower
    case would let its names pass as common words, which an answer may repeat unbacked.

    By hand: truecasers (the `truecase` package, Stanford's) learn casing from a general
    corpus, while the articles are the authority on their own names. Title-case lines
    (headlines) and words that may open a sentence say nothing about a word's case. A
    question with capitals of its own is taken as written: "Which Russian prime minister …?"
    is not "Prime" because the articles write "Prime Minister Mikhail Mishustin"."""
    if any(w[0].isupper() for w in _WORD.findall(question)[1:]):
        return question
    stop = _stopwords()
    capital: dict[str, Counter[str]] = {}
    lower: set[str] = set()
    for line in (line for text in texts for line in text.splitlines()):
        words = [w for w in _WORD.findall(line) if w[0].isalpha()]
        if not words or 2 * sum(w[0].isupper() for w in words) > len(words):
            continue
        for m in _WORD.finditer(line):
            base = _base(m.group())
            before = line[:m.start()].rstrip()
            if not base[0].isalpha() or not before or before[-1] in _OPENS:
                continue
            if base[0].isupper():
                capital.setdefault(base.lower(), Counter())[base] += 1
            else:
                lower.add(base.lower())

    def cased(m: re.Match[str]) -> str:
        word = m.group()
        base = _base(word)
        key = base.lower()
        if (not base.islower() or key in stop or len(key) < 2 or key in lower
                or key not in capital):
            return word
        return capital[key].most_common(1)[0][0] + word[len(base):]

    return _WORD.sub(cased, question)


_CAPITALISED_RUN = re.compile(r"\b[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*")
# Nationality adjectives ("the American president") describe; the article may say "US".
_DEMONYM = re.compile(r"(?:an|ese|ish|i)$")


# "Asia-Pacific Economic Cooperation", "Commonwealth of Independent States": a name of
# several capitalised words, "of" or "for" between them.
_LONG_NAME = re.compile(r"\b[A-Z][\w'’-]*(?:\s+(?:(?:of|for)\s+(?:the\s+)?)?[A-Z][\w'’-]*)+")


def initials(text: str) -> set[str]:
    """The stems of the acronyms the text's long names make: an article names "the
    Asia-Pacific Economic Cooperation summit" where a question or an answer writes APEC."""
    out = set()
    for m in _LONG_NAME.finditer(text):
        words = [w for w, _ in _capitalised(m.group())]
        if len(words) > 1:
            out.add(_stem(_base("".join(w[0] for w in words).lower())))
    return out


def _unknown_asked_name(sentence: str, asked_names: set[str], shown: str,
                        seats: dict[str, str]) -> bool:
    """Whether the sentence repeats a name from the question that no name in `shown` (what
    was shown of the cited articles) matches: "India should chair the SCO" for "What did
    they agree about India's chairmanship of the SCO?" from an article without India. A name
    of several words ("Wang Yi") counts as shown when one of them is, and an acronym
    ("APEC") when `shown` writes its long name."""
    shown_names = {t for _, t in _capitalised(shown)} | initials(shown)
    for m in _CAPITALISED_RUN.finditer(sentence):
        found = _capitalised(m.group())
        words, stems = [w for w, _ in found], [t for _, t in found]
        if not any(_fuzzy_in(t, asked_names) for t in stems):
            continue
        if any(_name_shown(t, shown_names, seats) for t in stems):
            continue
        after = sentence[m.end():].split(maxsplit=1)
        if (after and after[0][:1].islower()
                and all(_DEMONYM.search(w.lower()) for w in words)):
            continue
        return True
    return False


def _fuzzy_in(term: str, pool: set[str]) -> bool:
    """Exact stem match, or a shared prefix covering most of both (Russia/Russian, Sergei/Sergey)"""
    if term in pool:
        return True
    for p in pool:
        k = 0
        for x, y in zip(term, p, strict=False):
            if x != y:
                break
            k += 1
        if k >= 4 and k >= 0.8 * min(len(term), len(p)):
            return True
    return False


# News writes a capital for its country ("commerce between Moscow and Beijing", "Beijing's
# customs figures"), so such a name in a question stands in a passage that names its country.
# Not where it names a place ("his press conference in Beijing": a premise the sources must
# show as written), and only for what the question brings: "Wang visited Moscow" is no claim
# that "Wang visited Russia" backs. By hand: a handful of seats of government, no gazetteer.
_SEATS = {"Moscow": "Russia", "Kremlin": "Russia", "Beijing": "China", "Kyiv": "Ukraine",
          "Kiev": "Ukraine", "Washington": "America", "London": "Britain", "Paris": "France",
          "Berlin": "Germany", "Tokyo": "Japan", "Tehran": "Iran", "Ankara": "Turkey",
          "Delhi": "India", "Brussels": "EU"}
_SEAT = re.compile(rf"\b({'|'.join(_SEATS)})\b")
# "in Beijing", "flew to Beijing" name a place; "sales to Beijing" names a country.
_PLACE_BEFORE = re.compile(
    r"(?:\b(?:in|at|near|inside|outside)|\b(?:visit\w*|arriv\w*|travel\w*|trips?|left|leav\w*|"
    r"went|go|goes|going|gone|came|come|comes|coming|flew|fly|flies|flying|flown|head\w*|"
    r"return\w*|move\w*|back)(?:\s+(?:to|from|into|in|at))?)\s+(?:the\s+)?$", re.I)


def stands_for(question: str) -> dict[str, str]:
    """Stems of the capitals the question uses for their countries, each with its country's."""
    return {_stem(m.group().lower()): _stem(_SEATS[m.group()].lower())
            for m in _SEAT.finditer(question) if not _PLACE_BEFORE.search(question[:m.start()])}


# "In which Chinese city …?": the country whose place is asked for, by its adjective.
_PLACE_IN = re.compile(r"\b(?i:which|what)\s+([A-Z][a-z]+)\s+(?i:city|capital|town)\b")


def seat_elsewhere(answer: str, question: str) -> bool:
    """Whether the answer gives only capitals of other countries than the one whose city the
    question asks for: "held in Moscow" for "In which Chinese city was the conference held?"."""
    m = _PLACE_IN.search(question)
    given = _SEAT.findall(answer)
    if not m or not given:
        return False
    adjective = _stem(m.group(1).lower())
    countries = {_stem(c.lower()) for c in _SEATS.values()}
    if not _fuzzy_in(adjective, countries):
        return False  # not a country the list knows ("which major city")
    return not any(_fuzzy_in(_stem(_SEATS[s].lower()), {adjective}) for s in given)


def _name_shown(term: str, pool: set[str], seats: dict[str, str]) -> bool:
    """Whether a name the question brings stands in pool, itself or as the country it
    stands for (`stands_for`)."""
    return _fuzzy_in(term, pool) or (term in seats and _fuzzy_in(seats[term], pool))


_ISO_DATE = re.compile(r"\b((?:1[89]|20)\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")
_MONTHS = ("January February March April May June July August September October November "
           "December").split()


def _spell_dates(text: str) -> str:
    """The text with each ISO date also spelled out ("2023-09-19 (September 19, 2023)"), as
    an answer writes it: dated labels and datelines use the ISO form."""
    return _ISO_DATE.sub(lambda m: f"{m.group()} ({_MONTHS[int(m.group(2)) - 1]} "
                                   f"{int(m.group(3))}, {m.group(1)})", text)


@dataclass(frozen=True)
class Support:
    supported: bool
    coverage: float  # share of the sentence's content words found in the passages
    missing_numbers: tuple[float, ...]
    missing_names: tuple[str, ...]

    @property
    def score(self) -> float:
        return self.coverage - 0.5 * len(self.missing_numbers) - 0.25 * len(self.missing_names)


MIN_COVERAGE = 0.6


def support(sentence: str, passages: Sequence[str], question: str = "",
            context: str = "") -> Support:
    """How well the passages together back the sentence.

    Common words the answer borrowed from the question ("dependable groundwork" for the
    article's "reliable foundations") are neutral: they neither count for nor against it,
    except after a yes/no question, where "Yes, China sent weapons" asserts the question itself.
    Names the sentence echoes from the question get that pass only when all of them stand in
    `context`, what the model was shown of the cited articles: "the Xi-Putin meeting in
    Moscow" stands in the passage before "the encounter culminated in over a dozen
    agreements". One echoed name those articles lack may be a false premise ("Tokyo" for a
    meeting they place in Moscow): then none gets the pass, and the sentence fails, since
    it repeats the premise as fact. A name inside the asked-for phrase ("which Middle East
    dispute") says what kind of answer is wanted, not what happened, so it is neutral like a
    common word. Numbers never get the pass."""
    joined = _spell_dates("\n".join(passages))
    pool = set(terms(joined)) | initials(joined)
    pool_numbers = extract_numbers(joined)
    kind = _kind_names(question)
    sent_names = names(sentence)
    # A word the question left in lower case ("in tokyo") that the sentence writes as a name
    # is a name asked about: `truecase` capitalises only the names the passages hold, and
    # only in a question typed all in lower case.
    question_names, question_terms = set(names(question)), set(terms(question))
    plain = question_terms - question_names
    asked_names = (question_names | {n for n in sent_names if n in plain}) - kind
    asked = set() if is_yes_no_question(question) else question_terms - asked_names
    shown = set(terms(context)) | initials(context) | pool
    echoed_names = [n for n in sent_names if _fuzzy_in(n, asked_names)]
    seats = stands_for(question)
    premise = (set(echoed_names) if all(_name_shown(n, shown, seats) for n in echoed_names)
               else set())
    sent_terms = [t for t in dict.fromkeys(terms(sentence))]
    found = [t for t in sent_terms if _fuzzy_in(t, pool)]
    judged = [t for t in sent_terms
              if t in found or not (t in asked or _fuzzy_in(t, premise))]
    coverage = len(found) / len(judged) if judged else 0.0
    # "the two ministers", echoed from the question, describes; digits always claim.
    values, asked_values = extract_numbers(sentence), extract_numbers(question)
    echoed = [n for n in asked_values if n.word]
    missing_numbers = tuple(n.raw for n in values
                            if not number_backed(n, pool_numbers)
                            and not (n.word and numbers_match(n, echoed)))
    if question and not sent_terms and values and not missing_numbers:
        # A bare value ("56%") answers the question: it claims the question with the value.
        fits = (_bare_value_fits(sentence, joined, pool_numbers, question, shown, seats)
                and not reverses(question, joined))
        return Support(fits, 1.0, (), ())
    missing_names = tuple(dict.fromkeys(n for n in sent_names
                                        if not _fuzzy_in(n, pool | premise | kind)))
    all_names = {n for n in sent_names if _fuzzy_in(n, pool) or not _fuzzy_in(n, premise | kind)}
    ok = (
        bool(found)
        and coverage >= MIN_COVERAGE
        and _adds_backed(sent_terms, found, question_terms, values, asked_values)
        and not missing_numbers
        and len(missing_names) <= 1
        and not (all_names and len(missing_names) == len(all_names))
        and not (context and _unknown_asked_name(sentence, asked_names, f"{context}\n{joined}",
                                                 seats))
        and not reverses(question, joined)
    )
    return Support(ok, coverage, missing_numbers, missing_names)


def _adds_backed(said: Sequence[str], found: Sequence[str], asked: set[str],
                 values: Sequence[Number], asked_values: Sequence[Number]) -> bool:
    """Whether the passages hold something the sentence adds to the question: a word, or a
    value. What it adds is its answer; echoed words found in a passage about something else
    ("Lavrov commented on bilateral relations") can lift coverage over the bar for "trade and
    economic cooperation had coped with external challenges" when "external challenges",
    the answer, is nowhere in it."""
    added = [t for t in said if not _fuzzy_in(t, asked)]
    return (not added or any(t in found for t in added)
            or any(not numbers_match(n, asked_values) for n in values))


# "Russian exports to China": a name, at most three lower-case words, then to/from/into a name.
_DIRECTED = re.compile(
    r"\b([A-Z][\w'’-]*)\s+((?:[a-z][\w'’-]*\s+){1,3}?)(?:to|from|into)\s+(?:the\s+)?"
    r"([A-Z][\w'’-]*)")


def _directed(text: str) -> list[tuple[str, set[str], str]]:
    """(who, what, whom) for each "A <verb> to/from B" in the text, as stems."""
    out = []
    for m in _DIRECTED.finditer(text):
        what = set(terms(m.group(2)))
        ends = [_capitalised(g) for g in (m.group(1), m.group(3))]
        if what and all(ends):
            out.append((ends[0][0][1], what, ends[1][0][1]))
    return out


def reverses(question: str, passage: str) -> bool:
    """Whether the passage has the question's "A <verb> to B" only the other way round:
    "Russian exports to China" answers nothing about "How much did China export to Russia?"."""
    def same(x: tuple[str, set[str], str], y: tuple[str, set[str], str], flip: bool) -> bool:
        a, b = (y[2], y[0]) if flip else (y[0], y[2])
        return (_fuzzy_in(x[0], {a}) and _fuzzy_in(x[2], {b})
                and any(_fuzzy_in(t, y[1]) for t in x[1]))

    held = _directed(passage)
    return any(any(same(asked, h, True) for h in held)
               and not any(same(asked, h, False) for h in held)
               for asked in _directed(question))


# "Which Middle East dispute …?": a name inside the asked-for phrase says what kind of answer
# is wanted, and the article may name the answer ("the Israeli-Palestinian conflict") without it.
_KIND = re.compile(r"\b(?:[Ww]hich|[Ww]hat)\s+((?:[A-Z][\w'’-]*\s+)+)(?=[a-z])")


def _kind_names(question: str) -> set[str]:
    return {t for m in _KIND.finditer(question) for _, t in _capitalised(m.group(1))}


_HOW_MANY = re.compile(r"\bhow many\s+([^\W\d_]+)", re.I)


def _bare_value_fits(sentence: str, passage: str, pool_numbers: Sequence[Number],
                     question: str, shown: set[str], seats: dict[str, str]) -> bool:
    """Whether a bare value answers the question from the passage: the question's digits
    stand in the passage and its names in what was shown of the article, and for "how many
    civilians", "civilians" follows the value in the passage ("seven humanitarian corridors"
    does not count civilians)."""
    if not all(n.word or number_backed(n, pool_numbers) for n in extract_numbers(question)):
        return False
    if not all(_name_shown(n, shown, seats) for n in names(question)):
        return False
    counted = _HOW_MANY.search(question)
    return not counted or _counts(passage, extract_numbers(sentence), counted.group(1))


def _counts(text: str, values: Sequence[Number], noun: str) -> bool:
    """Whether one of the values stands in the text within three words before the noun:
    "seven humanitarian corridors" counts corridors, not civilians."""
    want = {_stem(noun.lower())}
    words = _WORD.findall(text)
    return any(any(numbers_match(v, extract_numbers(w)) for v in values) and
               any(_fuzzy_in(_stem(x.lower()), want) for x in words[i + 1:i + 4])
               for i, w in enumerate(words))


def counts_as_quoted(sentence: str, quote: str, question: str) -> bool:
    """For "how many X", whether a value the sentence gives as a count of X counts X in its
    quote too: "taken seven civilians out" does not rest on "seven humanitarian corridors had
    been established … to take civilians out", as a bare "seven" does not."""
    counted = _HOW_MANY.search(question)
    if not counted:
        return True
    noun = counted.group(1)
    values = [v for v in extract_numbers(sentence) if _counts(sentence, [v], noun)]
    return not values or _counts(quote, values, noun)


def on_topic(text: str, question: str) -> bool:
    """Whether text shares a content word with the question: evidence must be about it. A
    capital the question uses for its country ("goods Moscow sold to Beijing") is shared by
    the country's name ("Russian exports to China")."""
    asked = set(terms(question)) | set(stands_for(question).values())
    return not asked or any(_fuzzy_in(t, asked) for t in terms(text))


def supported(sentence: str, passages: Sequence[str], question: str = "",
              context: str = "") -> bool:
    return support(sentence, passages, question, context).supported


def best_quote(sentence: str, passage: str) -> tuple[int, int]:
    """Span, within `passage`, of the fewest whole sentences that best back `sentence`."""
    spans = sentence_spans(passage) or [(0, len(passage))]
    want_terms = set(terms(sentence))
    want_numbers = extract_numbers(sentence)

    def score(a: int, b: int) -> float:
        chunk = passage[a:b]
        got = set(terms(chunk))
        nums = extract_numbers(chunk)
        hit = sum(1 for t in want_terms if _fuzzy_in(t, got))
        return hit + 2 * sum(1 for n in want_numbers if numbers_match(n, nums))

    i = j = max(range(len(spans)), key=lambda k: score(*spans[k]))
    base = score(*spans[i])
    # Grow to at most three sentences, only when that adds what the sentence claims; a step
    # may take two sentences, to reach past one that adds nothing (a byline under a headline).
    while j - i < 2:
        options = [(x, y) for x, y in ((i - 1, j), (i - 2, j), (i, j + 1), (i, j + 2))
                   if x >= 0 and y < len(spans) and y - x <= 2]
        if not options:
            break
        gain, _, x, y = max((score(spans[x][0], spans[y][1]), x - y, x, y) for x, y in options)
        if gain < base + 1:
            break
        base, i, j = gain, x, y
    return spans[i][0], spans[j][1]


_YES_NO_QUESTION = re.compile(  # a decimal point ("$79.3 billion") ends no sentence
    r"(?:^|[.!?]\s+)(?:did|does|do|is|are|was|were|has|have|had|can|could|will|would|should)"
    r"\b(?:[^.!?]|(?<=\d)\.(?=\d))*\?\s*$", re.I)


def is_yes_no_question(question: str) -> bool:
    """Whether the question's (last) ask opens with an auxiliary verb: "Did it happen?"."""
    return bool(_YES_NO_QUESTION.search(question.strip()))


_NEGATORS = r"not|no|never|neither|nor|none"
_NEGATION = re.compile(rf"\b({_NEGATORS})\b|n['’]t\b", re.I)
# The same, less "not only … but also", which adds and denies nothing.
_DENIAL = re.compile(rf"\b(?:{_NEGATORS})\b(?!\s+(?:only|just)\b)|n['’]t\b", re.I)
_YES_NO = re.compile(r"^\W*(yes|no)\b", re.I)


def adds_to(answer: str, question: str) -> bool:
    """Whether the answer says something the question did not: a new content word or number,
    a yes/no, or a negation of a yes/no question. "The side supported Russia's chairmanship"
    for "Which group's chairmanship did the side support?" restates the question and answers
    nothing; "China did not condemn the invasion" for "Why did China condemn the invasion?"
    denies its premise, and a false premise is refused."""
    if _YES_NO.search(answer) or (_NEGATION.search(answer) and not _NEGATION.search(question)
                                  and is_yes_no_question(question)):
        return True
    asked = set(terms(question))
    if any(not _fuzzy_in(t, asked) for t in terms(answer)):
        return True
    in_question = extract_numbers(question)
    return any(not numbers_match(n, in_question) for n in extract_numbers(answer))


def addresses(answer: str, question: str) -> bool:
    """Whether the answer uses a common word of the question, or is bare names and values: "The
    71-year-old diplomat accused Washington …" shares only names with "What did Zelensky
    propose, according to Lavrov?". Paraphrase can share none: on its own this only asks for a
    second reply, and `verify` refuses only an answer that fails `answers_kind` too."""
    capitalised = {t for _, t in _capitalised(answer)}
    said = terms(answer)
    asked = set(terms(question)) - set(names(question))
    return (not asked or all(t in capitalised for t in said)
            or any(_fuzzy_in(t, asked) for t in said))


_QUANTITY_Q = re.compile(
    r"\bhow (much|many|long|far|old|big|large|high)\b|"
    r"\bwhat (share|percentage|proportion|portion|fraction|amount|number|sum|value|age|size|"
    r"price|cost|total|figure|volume)\b", re.I)
_QUANTITY_WORDS = re.compile(
    r"\b(half|third|quarter|fifth|tenth|dozens?|hundreds|thousands|millions|billions|several|"
    r"few|majority|minority|most|double|twice|triple)\b", re.I)
# "When did …?", "When and where …?", "… and when?" ask for a time. "What did Wang hail when he
# opened the talks?" asks what: there "when" opens a clause, so its subject follows it, not
# one of these words.
_ASKS_WHEN = (r"(?:and|did|does|do|is|are|was|were|has|have|had|will|would|can|could|should|"
              r"might|must)\b")
_TIME_Q = re.compile(
    rf"\bwhen\s+{_ASKS_WHEN}|\bwhen\s*(?:[?,]|$)|"
    r"\b(what|which) (year|month|day|date|time|week|weekday)\b|\buntil what\b", re.I)
# "On what day of the week …?", "On what date …?": a day, not "days after" or "this week".
_DAY_Q = re.compile(r"\b(?:what|which)\s+(?:(?:week)?days?|dates?)\b|\bday of the week\b", re.I)
_DAY_WORDS = re.compile(
    rf"\b(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|today|tonight|yesterday|"
    rf"tomorrow|{_MONTH})\b|{_ISO_DATE.pattern}", re.I)
# "When …?" is answered by a time that says when: "earlier", "later" or "days after" only say
# that something came first.
_WHEN_WORDS = re.compile(
    rf"{_DAY_WORDS.pattern}|\b(?:(?:1[89]|20)\d\d|decades?|century|ago|morning|afternoon|"
    r"evening|night|spring|summer|autumn|fall|winter|weekend|\d{1,2}(?:st|nd|rd|th)|"
    r"(?:this|last|next|past|coming|same)\s+(?:week|month|year|weekend))\b", re.I)
_TIME_WORDS = re.compile(
    r"\b(january|february|march|april|may|june|july|august|september|october|november|"
    r"december|monday|tuesday|wednesday|thursday|friday|saturday|sunday|(1[89]|20)\d\d|"
    r"days?|weeks?|months?|years?|decades?|century|today|tonight|yesterday|tomorrow|ago|"
    r"after|before|since|until|till|during|earlier|later|recently|previous|next|last|"
    r"morning|afternoon|evening|night|spring|summer|autumn|fall|winter|time|when|while|"
    r"soon|weekend|period|\d{1,2}(st|nd|rd|th))\b", re.I)


# "… when they met in Vladivostok?": a clause the question takes as given, not what it asks.
_WHEN_CLAUSE = re.compile(rf"\bwhen\s+(?!{_ASKS_WHEN})([^,?;]+)", re.I)


def premise_shown(question: str, shown: str) -> bool:
    """Whether every name in the question's "when" clause stands in `shown`, the sources the
    model was shown. "What did they agree when they met in Vladivostok?" answered from sources
    that never name Vladivostok accepts a meeting they never report."""
    given = {t for m in _WHEN_CLAUSE.finditer(question) for _, t in _capitalised(m.group(1))}
    if not given:  # most questions: no need to stem every source
        return True
    pool = set(terms(shown)) | {t for _, t in _capitalised(shown)}
    seats = stands_for(question)
    return all(_name_shown(t, pool, seats) for t in given)


# "in 2022" pins the question to a year; "since 2021" or "by 2024" opens a span, which a
# later year may answer.
_SPAN_BEFORE = re.compile(r"\b(?:since|after|before|until|till|by|from|through|between|to|"
                          r"and)\s+(?:\w+\s+)?$", re.I)


def _pinned_years(question: str) -> set[str]:
    return {m.group() for m in _YEAR.finditer(question)
            if not _SPAN_BEFORE.search(question[:m.start()])}


# "Who headed …?", "Whom did Lavrov meet?": the answer is someone, so it names someone.
_WHO_FIRST = re.compile(r"^\s*(?:who|whom)\b", re.I)


def _adds_name(answer: str, question: str) -> bool:
    """Whether the answer has a capitalised word the question lacks, other than a first name
    or title before a name it has: "Sergey Lavrov" names no one new for "Who did Lavrov say
    first proposed the talks?"."""
    return bool(_new_names(answer, question))


def _new_names(answer: str, question: str) -> set[str]:
    """The stems of the answer's capitalised words that the question lacks, less first names
    and titles before a name it has."""
    asked = set(names(question)) | set(terms(question))
    out: set[str] = set()
    for m in _CAPITALISED_RUN.finditer(answer):
        stems = [t for _, t in _capitalised(m.group())]
        last = max((i for i, t in enumerate(stems) if _fuzzy_in(t, asked)), default=-1)
        out.update(t for t in stems[last + 1:] if not _fuzzy_in(t, asked))
    return out


def fits_question(answer: str, question: str) -> bool:
    """Whether the answer is the kind of thing the question asks for: an amount for "how
    much", a time for "when", a reason for "why", a city of the asked country for "which
    Chinese city", a yes or no, or the question's names, for "Did …?". A 1.5B model often
    answers a nearby fact instead; this catches the plain cases without a model
    (question-type checking, as classic QA systems do)."""
    values = extract_numbers(answer)
    if _QUANTITY_Q.search(question) and not (values or _QUANTITY_WORDS.search(answer)):
        return False
    counted = _HOW_MANY.search(question)
    if counted and values and terms(answer) and not _counts(answer, values, counted.group(1)):
        return False  # "Seven humanitarian corridors …" for "How many civilians …?"
    if is_yes_no_question(question) and not _YES_NO.search(answer):
        # Neither yes nor no, so it must state or deny the question, which takes its names:
        # "Russia talks more to America" does not answer "Did Russia and China talk about
        # Ukraine?".
        said = set(terms(answer))
        if not all(_fuzzy_in(n, said) for n in set(names(question)) - _kind_names(question)):
            return False
    if _WHO_FIRST.search(question) and not _adds_name(answer, question):
        return False  # "The Russian delegation led the talks" names no one for "Who headed …?"
    asked, dated = _pinned_years(question), set(_YEAR.findall(answer))
    if asked and dated and not asked & dated:
        return False  # "56 percent in 2021" answers nothing about 2022
    if seat_elsewhere(answer, question):
        return False
    if _WHY_Q.search(question) and not _REASON.search(answer):
        # "China did not support Western sanctions" gives no reason for "Why did China join
        # the Western sanctions?": it denies the premise, and a false premise is refused.
        return False
    if _DAY_Q.search(question) and not _DAY_WORDS.search(answer):
        return False  # "days after Wang held talks in Malta" for "On what weekday …?"
    return not (_TIME_Q.search(question) and not _WHEN_WORDS.search(answer))


# "Apart from Lavrov, which officials …?": what the question sets aside, up to its comma,
# its verb or its wh-word.
_SET_ASIDE = re.compile(
    r"\b(?:besides|apart from|aside from|other than|except(?: for)?|in addition to|alongside)"
    r"\s+(.+?)(?=[,?;]|\s+(?:did|does|do|is|are|was|were|has|have|had|will|would|can|could|"
    r"which|what|who|whom|whose|when|where|why|how)\b|$)", re.I)


def _entities(text: str) -> list[set[str]]:
    """The stems of each run of capitalised words, with its initials when it has two or more
    ("Shanghai Cooperation Organization": sco)."""
    out = []
    for m in _CAPITALISED_RUN.finditer(text):
        found = _capitalised(m.group())
        stems = {t for _, t in found}
        if len(found) > 1:
            stems.add("".join(w[0] for w, _ in found).lower())
        if stems:
            out.append(stems)
    return out


def gives_back_set_aside(answer: str, question: str) -> bool:
    """Whether every name the answer gives is one the question set aside: "Sergey Lavrov" for
    "Apart from Lavrov, which Russian officials …?", "the Shanghai Cooperation Organization
    (SCO)" for "Which forum besides BRICS and the SCO …?". Such an answer names nothing new."""
    aside = {t for m in _SET_ASIDE.finditer(question) for e in _entities(m.group(1)) for t in e}
    given = _entities(answer)
    return bool(aside and given) and all(any(_fuzzy_in(t, aside) for t in e) for e in given)


# "the Kharkiv region", "the chairmanship of the SCO", "a press conference in Beijing": a
# name and the word it fills a place beside.
_FILLS_AFTER = re.compile(r"(?:['’]s?)?\s+([a-z][\w-]*)")
_FILLS_BEFORE = re.compile(r"\b([a-z][\w-]*)\s+(of|in|at)\s+(?:the\s+)?$")


def _filled_places(text: str) -> list[tuple[set[str], tuple[str, str]]]:
    """Each run of capitalised words with the place it fills: the content word after it, or
    the one before "of", "in" or "at" and it."""
    out = []
    for m in _CAPITALISED_RUN.finditer(text):
        stems = {t for _, t in _capitalised(m.group())}
        if not stems:
            continue
        beside = []
        if after := _FILLS_AFTER.match(text, m.end()):
            beside.append(("after", after.group(1)))
        if before := _FILLS_BEFORE.search(text[:m.start()]):
            beside.append((before.group(2), before.group(1)))
        out.extend((stems, (how, place[0])) for how, word in beside if (place := terms(word)))
    return out


def swaps_name(answer: str, question: str) -> bool:
    """Whether the answer puts another name where the question has one and never names the
    question's: "six in the Sumy region" for "How many corridors were set up in the Kharkiv
    region?", "Russia's chairmanship of BRICS" for "… the chairmanship of the SCO?". It
    answers about something else, often because the question's premise is false."""
    said = set(terms(answer)) | {t for _, t in _capitalised(answer)}
    seats = stands_for(question)
    given = _filled_places(answer)
    return any(place == other and not stems & theirs
               for stems, place in _filled_places(question)
               if not any(_name_shown(t, said, seats) for t in stems)
               for theirs, other in given)


# "What is the date of …?", "On which days …?"
_TIME_NOUN = re.compile(r"\b(?:dates?|days?|years?|months?)\b", re.I)
_WHY_Q = re.compile(r"\bwhy\b|\bfor what reason\b", re.I)
_REASON = re.compile(r"\b(?:because|due to|owing to|since|as a result of|in response to|"
                     r"in order to|so as to|so that|aimed at|amid|citing|thanks to|"
                     r"in light of|in view of|in a bid to|with the aim of|as part of|given that|"
                     r"on the grounds that|for fear|the reason|reasons?\s+(?:is|was|were))\b",
                     re.I)
# "Which outlets …?", "Who …?", "What forum …?": the question asks for a name.
_NAME_Q = re.compile(
    r"\b(?:who|whom|whose|which)\b|\bwhat\s+(?!(?:did|does|do|is|are|was|were|has|have|had|"
    r"will|would|can|could|should|may|might)\b)[^\W\d_]+", re.I)


_WHOSE_Q = re.compile(r"^\s*whose\b", re.I)


def answers_kind(answer: str, question: str) -> bool:
    """Whether the answer gives what kind of thing the question asks for: a time for "when", an
    amount for "how much", a reason for "why" ("because …"), words of the asked speaker for
    "What did Wang Yi say …?" ("Wang Yi made it clear that …"), a word the question lacks for
    "whose", a name the question lacks for "which" or "who" ("The Wall Street Journal and CNN"
    for "Which two US news outlets …?")."""
    if _ASKED_SPEAKER.search(question) and speakers(answer) and speaks_as_asked(answer, question):
        return True
    if _WHY_Q.search(question) and _REASON.search(answer):
        return True
    if _TIME_Q.search(question) or _TIME_NOUN.search(question):
        return bool(_TIME_WORDS.search(answer))
    if _QUANTITY_Q.search(question):
        return bool(extract_numbers(answer) or _QUANTITY_WORDS.search(answer))
    if _WHOSE_Q.search(question):
        # An owner is often a body written in lower case: "China's customs authorities".
        asked = set(terms(question))
        return any(not _fuzzy_in(t, asked) for t in terms(answer))
    return bool(_NAME_Q.search(question)) and _adds_name(answer, question)


def new_names_quoted(sentence: str, quote: str, question: str) -> bool:
    """Whether every name the sentence adds to the question stands in its quote: a name met
    elsewhere in the passage ("China" for the "India" the quote names) is a wrong pick."""
    asked = set(names(question)) | set(terms(question))
    quote = _spell_dates(quote)
    got = set(terms(quote)) | set(names(quote))
    return all(_fuzzy_in(n, got) for n in names(sentence) if not _fuzzy_in(n, asked))


# "Which agency wrote the report about the call?" and "the Vietnamese report on his comments
# about ties" ask about a piece of writing, whose topic is the article's, not the quote's: a
# "report" after "the" or "a" is no verb, and "about" after a document noun describes it.
_DOCUMENT = r"(?:report|article|piece|story|statement|readout|interview|comments?|remarks?)"
_SAID_ABOUT = re.compile(
    r"(?<!\bthe )(?<!\ba )(?<!\ban )"
    r"\b(?:say|said|says|tell|told|think|thinks|thought|warn|warned|write|wrote|report|"
    r"reported|agree|agreed|claim|claimed|argue|argued)\b"
    rf"(?:(?!\b{_DOCUMENT}\b)[^?])*?\babout\s+([^?]+)", re.I)


def about_quoted(quote: str, question: str) -> bool:
    """Whether the quote is about what the question asks someone said about: "What did Zhao
    Lijian say about sanctions?" needs sanctions in the quote, not only Zhao. A topic with a
    name ("the European Union's energy policy") needs one of its names there."""
    m = _SAID_ABOUT.search(question)
    if not m:
        return True
    topic_names = {t for _, t in _capitalised(m.group(1))}
    topic = topic_names or set(terms(m.group(1)))
    got = set(terms(quote))
    return not topic or any(_fuzzy_in(t, got) for t in topic)


# "What did Xi Jinping tell Biden …?": who the question asks about, before a verb of saying.
_ASKED_SPEAKER = re.compile(
    r"\b(?:did|does|do|will|would|has|have)\s+((?:[A-Z][\w'’-]*\s+)+)(?:say|tell|warn|claim|"
    r"stress|emphasi[sz]e|note|describe|call|propose|announce|urge|accuse|hope|insist|argue|"
    r"declare|deny|add|agree|discuss|think|write|report|express)\b")


def speaks_as_asked(sentence: str, question: str) -> bool:
    """Whether a sentence that names who spoke names whom the question asks about: "Biden
    said …" does not tell what Xi told Biden. A sentence that names no speaker passes, and so
    does any speaker when the question asks who: in "Who did Lavrov say first proposed the
    talks?" the one asked for is the subject of what Lavrov said ("Zelensky proposed …")."""
    m = _ASKED_SPEAKER.search(question)
    who = speakers(sentence)
    if not (m and who) or _WHO_FIRST.search(question):
        return True
    asked = {t for _, t in _capitalised(m.group(1))}
    return any(_fuzzy_in(w, asked) for person in who for w in person)


# Verbs of saying and agreeing, lower case only: "United States" is not "states".
_ATTRIBUTION = re.compile(
    r"\b(said|says|say|told|tells|tell|stated|claimed|claims|called|calls|warned|warns|noted|"
    r"notes|stressed|stresses|emphasi[sz]ed|emphasi[sz]es|expressed|expresses|added|reported|"
    r"reports|described|describes|agreed|agrees|discussed|announced|urged|accused|hoped|hopes|"
    r"insisted|argued|declared|affirmed|confirmed|denied|proposed|made it clear|believes?|"
    r"reiterated|reiterates|asserted|asserts|remarked|commented|explained|acknowledged|"
    r"admitted|pointed out|underlined|underscored|assured|vowed|pledged|promised)\b")


_PASSIVE = re.compile(r"\b(?:is|are|was|were|be|been|being)\s+(?:\w+ly\s+)?$", re.I)
# What marks a quote as someone's words: a verb of saying, quotation marks, "according to".
_REPORTED = re.compile(r"[“”\"«»]|\baccording to\b|\bin (?:his|her|their) view\b", re.I)


def speakers(sentence: str, whole: bool = False) -> list[list[str]]:
    """Stems of who the sentence says said or agreed something, one list per person or body
    ("Lavrov and Wang agreed": two), each its last two capitalised words ("Wang Yi", "Foreign
    Ministry"), or with `whole` every word of the name ("Russian Foreign Minister Sergey
    Lavrov"). Empty when no name is the speaker ("the American president warned")."""
    m = _ATTRIBUTION.search(sentence)
    if not m or _PASSIVE.search(sentence[:m.start()]):
        return []  # "the statement was discussed" names no speaker
    part = sentence[:m.start()]
    runs = [(r, [t for _, t in _capitalised(r.group())])
            for r in _CAPITALISED_RUN.finditer(part)]
    runs = [(r, stems) for r, stems in runs if stems]
    if not runs:
        return []
    after = _WORD.findall(part[runs[-1][0].end():])
    if after and not (after[0].lower() in _stopwords() or after[0].endswith("ly")):
        return []  # the run modifies a common noun: "the Russian side", "Chinese customs"
    keep = slice(None) if whole else slice(-2, None)
    out = [runs[-1][1][keep]]
    # "Lavrov, Wang and Putin", not "In Moscow, Lavrov": a comma joins only before an "and".
    joiner = r"\s*,?\s*and\s*"
    for (r, stems), (nxt, _) in zip(runs[-2::-1], runs[::-1], strict=False):
        if not re.fullmatch(joiner, part[r.end():nxt.start()]):
            break
        out.append(stems[keep])
        joiner = r"\s*(?:,|,?\s*and)\s*"
    return out


_PRONOUN = re.compile(r"\b(he|she|they|his|her|their)\b", re.I)


def speakers_quoted(sentence: str, quote: str, context: str = "") -> bool:
    """Whether each speaker the sentence names stands in the quote's sentence that holds the
    claim (or, when that one says "he said", the one before), even a speaker the question
    names: "Putin told Wang Yi that …" on what Wang said alone is a misattribution, the kind a
    small model writes when asked "What did Putin tell Wang Yi?". When that sentence's
    speaker goes unnamed ("the 71-year-old diplomat accused …"), the name may stand in
    `context`, what was shown of the article; when it reports no speaker at all, the
    article's own words are no one's quote. A quote that names who spoke is that speaker's
    alone ("Biden said during his talks with Xi …" backs no "Xi told Biden"), and one that
    reports no one's words at all (no verb of saying, no quotation marks) backs no "X said":
    "Jake Sullivan said he held talks in Malta" on "Wang held talks with … Jake Sullivan in
    Malta"."""
    who = speakers(sentence)
    if not who:
        return True
    spans = sentence_spans(quote) or [(0, len(quote))]
    said = [t for t in terms(sentence) if not any(_fuzzy_in(t, set(w)) for w in who)]
    span_terms = [set(terms(quote[a:b])) for a, b in spans]
    overlap = [sum(_fuzzy_in(t, have) for t in said) for have in span_terms]
    best = overlap.index(max(overlap))
    a, b = spans[best]
    if best and _PRONOUN.search(quote[a:b]):
        a = spans[best - 1][0]
    window = quote[a:b]
    attributed = _ATTRIBUTION.search(window)
    if not (attributed or _REPORTED.search(window)):
        return False  # "Sullivan said he held talks …" on a sentence that reports no one's words
    said_by = {w for x, y in sentence_spans(window) or [(0, len(window))]
               for person in speakers(window[x:y], whole=True) for w in person}
    if said_by:
        # The quote names who spoke: "Biden said during his talks with Xi …" is Biden's alone.
        got = said_by
    else:
        if attributed:
            window = f"{window}\n{context}"
        got = set(terms(window)) | set(names(window))
    return all(any(_fuzzy_in(w, got) for w in person) for person in who)


# "Who headed the Russian delegation?" answered "The head of the Russian delegation is
# Vladimir Putin", or just "Vladimir Putin", from "the head of the Russian delegation
# emphasized that the meeting between President Vladimir Putin and …": every word stands in
# the quote, but the name holds no role there. A sentence that says who holds a role, either
# way round, and a question that asks who does:
# _CAPITALISED_RUN with dots too, so that the whole answer may be a name ("Jake Sullivan.").
_NAME_RUN = r"[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*)*"
_LED = "headed|led|chaired"
_LEADS = f"{_LED}|heads|leads|chairs"
_HOLDS_ROLE = (
    re.compile(rf"^(?P<role>[^,;:]+?)\s+(?:is|was|are|were)\s+(?:(?:{_LED})\s+by\s+)?"
               rf"(?P<name>{_NAME_RUN})(?:,\s+(?:the|an?)\s+[^,;:]+)?\s*[.!]?$"),
    re.compile(rf"^(?P<name>{_NAME_RUN})\s+(?:is|was|are|were|(?:had\s+)?(?:{_LED})|heads|leads|"
               rf"chairs)\s+(?P<role>[^,;:]+?)\s*[.!]?$"),
)
_ROLE_Q = re.compile(rf"^\s*(?:who\s+(?:is|was|are|were|{_LEADS})|"
                     r"what\s+(?:is|was|are|were)\s+the\s+names?\s+of)\s+(?P<role>[^?]+)", re.I)
_WHO_Q = re.compile(r"\bwho(?:m|se)?\b|\bname\s+of\b", re.I)
# What qualifies a role ("of the Russian delegation", "to Russia") is no part of its title.
_QUALIFIER = re.compile(r"\s+(?:of|to|in|at|for|with|on|from|during|under|who|that|which|whose)"
                        r"\b.*$", re.I | re.S)
# Words that may stand between a name and its role: "Foreign Minister Sergey Lavrov",
# "Lavrov, the 71-year-old diplomat", "Putin, who heads the delegation", "the delegation,
# headed by Medinsky". Any other lower-case word (a verb: "emphasized that the meeting
# between") puts them in different clauses.
_BETWEEN_ROLE_AND_NAME = frozenset(
    "the a an of to for and by 's is was are were who which as its his her their former then "
    "current new".split()) | frozenset(_LEADS.split("|"))


def _role_words(role: str) -> set[str]:
    """Stems of the role's common words before what qualifies it: "national", "security" and
    "adviser" in "the US national security adviser"; "head" in "the head of the delegation"."""
    core = _QUALIFIER.sub("", role)
    return {t for w in _WORD.findall(core) if w[:1].islower() for t in terms(w)}


def holds_role_as_quoted(sentence: str, quote: str, question: str) -> bool:
    """Whether a sentence that answers "who" by naming who holds a role finds, in its quote,
    the name beside the role's words: as a title, an apposition or "who heads …", at most
    four words apart with no other verb between. For a question that asks who holds a role
    ("Who headed the delegation?"), the names any answer adds must stand so beside the role
    the question names. Any other sentence passes."""
    if not _WHO_Q.search(question):
        return True
    text = sentence.strip()
    m = next((m for p in _HOLDS_ROLE if (m := p.match(text))), None)
    asked = _ROLE_Q.match(question)
    if not (m or asked):
        return True
    role: set[str] = set()
    if asked:
        # The question's verb ("Who headed …?"), or one past a qualifier ("the person who led
        # Russia's delegation"), names the role too.
        role = _role_words(asked.group("role")) | {
            _stem(v) for v in re.findall(r"\b(?:head|lead|chair)(?:ed|s)?\b|\bled\b",
                                        question.lower())}
    if m:
        role |= _role_words(m.group("role"))
        role |= {_stem(v.lower()) for v in re.findall(rf"\b(?:{_LED})\b", text)}
        name = {t for _, t in _capitalised(m.group("name"))}
    else:
        # Any other answer to "Who headed …?" ("The delegation headed the talks by Sergey
        # Lavrov"): the names it adds to the question are its answer.
        given = set(names(question)) | set(terms(question))
        name = {t for _, t in _capitalised(text) if not _fuzzy_in(t, given)}
    role = {t for t in role if t and not _fuzzy_in(t, name)}
    if not name or not role:
        return True
    words = [(w.start(), w.end(), _stem(_base(w.group().lower())))
             for w in _WORD.finditer(quote)]
    at_name = [(a, b) for a, b, t in words if _fuzzy_in(t, name)]
    at_role = [(a, b) for a, b, t in words if _fuzzy_in(t, role)]
    for na, nb in at_name:
        for ra, rb in at_role:
            gap = quote[min(nb, rb):max(na, ra)].split()
            if len(gap) <= 4 and all(
                    g.strip(",()—–-") == "" or g[:1].isupper() or "-" in g or g[:1].isdigit()
                    or g.lower().strip(",") in _BETWEEN_ROLE_AND_NAME for g in gap):
                return True
    return False


def keeps_denial(sentence: str, quote: str) -> bool:
    """Whether the sentence keeps each denial of the quote that it repeats: "cooperation
    targets other nations" on "the cooperation … is not aimed at any other nations" says the
    opposite of its quote in the quote's words."""
    return dropped_denial(sentence, quote) is None


def dropped_denial(sentence: str, quote: str) -> str | None:
    """The quote's sentence whose denial the sentence repeats without it, or None. A denial
    is repeated when the sentence holds one of the (up to three) words it governs and half
    its words stand in the denial's sentence."""
    if _DENIAL.search(sentence):
        return None
    said = terms(sentence)
    said_set = set(said)
    for a, b in sentence_spans(quote) or [(0, len(quote))]:
        part = quote[a:b]
        have = set(terms(part))
        if 2 * sum(_fuzzy_in(t, have) for t in said) < len(said):
            continue
        if _denies(part, said_set):
            return part.strip()
    return None


def _denies(text: str, words: set[str]) -> bool:
    """Whether the text denies one of the words: a negator with one of them among the (up to
    three) words it governs, up to the clause's end."""
    for m in _DENIAL.finditer(text):
        governed = terms(re.split(r"[.!?;,]|\bbut\b", text[m.end():], maxsplit=1)[0])[:3]
        if any(_fuzzy_in(t, words) for t in governed):
            return True
    return False


def decides_as_quoted(sentence: str, quote: str, question: str, context: str = "") -> bool:
    """For a yes/no question, whether the sentence's yes or no rests on its quote.

    A sentence that adds a fact of its quote to the question ("Yes, oil and gas accounted for
    56 percent") is judged by the support checks like any other. One that only says the
    question back with a yes or no ("Yes, Wang Yi will attend the APEC summit in person")
    claims the question itself: all of its words must stand in its quote, not most of them
    (its names may stand elsewhere in what was shown of the article), and its quote must deny
    what it denies, and the article shown nothing that it affirms ("Yes, the delegations
    agreed on a ceasefire" on "… not on a ceasefire")."""
    if not is_yes_no_question(question):
        return True
    polar = _YES_NO.search(sentence)
    body = sentence[polar.end():] if polar else sentence
    asked, quoted = set(terms(question)), set(terms(quote)) | initials(quote)
    said, cited_names = terms(body), set(names(body))
    # "Sergey" before the question's "Lavrov" adds no fact.
    plain_or_new = (set(said) - cited_names) | _new_names(body, question)
    added = [t for t in said if t in plain_or_new and not _fuzzy_in(t, asked)]
    asked_values = extract_numbers(question)
    if (any(_fuzzy_in(t, quoted) for t in added)
            or any(not numbers_match(n, asked_values) for n in extract_numbers(body))):
        return True
    # Names may stand elsewhere in what was shown of the article ("Wang Yi" where the quote
    # says "Wang"); the claim's other words must stand in the quote the user sees.
    shown = _spell_dates(f"{quote}\n{context}")
    pool = set(terms(shown)) | initials(shown)
    if not said or not all(_fuzzy_in(t, pool if t in cited_names else quoted) for t in said):
        return False
    quoted_values = extract_numbers(_spell_dates(quote))
    if any(not number_backed(n, quoted_values) for n in extract_numbers(body)):
        return False
    words = set(said)
    if (polar and polar.group(1).lower() == "no") or (_DENIAL.search(body)
                                                        and not _DENIAL.search(question)):
        return _denies(quote, words)
    # A yes that another shown sentence of the article denies ("China did not support
    # Western sanctions") is refused even when its quote is a sentence that does not.
    return not _denies(shown, words)
