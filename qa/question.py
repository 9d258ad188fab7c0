"""What a question asks, read once with spaCy: the kind of answer it wants, the noun it asks
about, and the names and values it takes as given. Every answer check reads this `Ask`
instead of parsing the question again."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from . import nlp

WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})


class Kind(StrEnum):
    """The kind of thing an answer must give."""

    PERSON = "person"  # who, whom, whose: a person or a body, by name
    PLACE = "place"  # where
    TIME = "time"  # when, what year, what day
    NUMBER = "number"  # how many, how much, what percentage, what price
    REASON = "reason"  # why
    YES_NO = "yes/no"  # did, is, can …
    OTHER = "other"  # what, which, how: anything the question does not already say


# The date words a "what" or "which" question may ask by ("what year", "on which day"), and
# the part of a date (`nlp.date_atoms`' kinds) the answer must then give. spaCy tags none of
# them as a date when it stands alone.
DATE_PARTS = {"year": frozenset({"year"}), "month": frozenset({"m"}),
              "day": frozenset({"d", "weekday"}), "date": frozenset({"d"}),
              "weekday": frozenset({"weekday"})}

# The entity labels (spaCy's) that give each kind; "who" is often an agency or a country.
ANSWERED_BY = {
    Kind.PERSON: nlp.NAME_LABELS,
    Kind.PLACE: frozenset({"GPE", "LOC", "FAC", "ORG", "NORP"}),
    Kind.TIME: nlp.DATE_LABELS,
    Kind.NUMBER: frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
}
@dataclass(frozen=True)
class Ask:
    """A question, read: what it wants and what it takes as given."""

    text: str
    kind: Kind
    focus: str | None  # lemma of the noun asked about: "rating" in "What rating …?"
    focus_words: frozenset[str]  # keys of that noun and its modifiers ("American adults")
    names: tuple[tuple[str, ...], ...]  # names it takes as given
    describing: tuple[tuple[str, ...], ...]  # names that only describe: "Moscow's diplomat"
    people_and_bodies: tuple[tuple[str, ...], ...]  # its PERSON and ORG names
    amounts: tuple[nlp.Amount, ...]
    dates: tuple[frozenset[str], ...]
    words: frozenset[str]  # keys (lemma, stem, form) of its content words
    negated: bool  # "Why did China not join …?"
    counts: bool = False  # "how many": a count, not a share

    @property
    def doc(self):
        return nlp.parse(self.text)

    def says_name(self, name: tuple[str, ...]) -> bool:
        """Whether the question already names it."""
        mine = {w for n in self.names for w in n} | {t.lower_ for t in self.doc if t.is_alpha}
        return all(any(nlp.similar_name(w, x) for x in mine) for w in name)

    def says_part_of(self, name: tuple[str, ...]) -> bool:
        """Whether the question names a word of the name: "Sergey Lavrov" adds no name to a
        question about "Lavrov"; "Bankash Trojan" does to one about "the trojan"."""
        mine = {w for n in self.names for w in n} | {
            t.lower_ for t in self.doc if t.pos_ == "PROPN"}
        return self.says_name(name) or any(nlp.similar_name(w, x) for w in name for x in mine)

    def says_amount(self, a: nlp.Amount) -> bool:
        return any(a.same(b) for b in self.amounts)

    def says_date(self, atoms: set[str]) -> bool:
        return atoms <= self.date_atoms

    @property
    def date_atoms(self) -> set[str]:
        return {a for d in self.dates for a in d}

    def says_word(self, tok) -> bool:
        return bool(nlp.keys(tok) & self.words)


def read(question: str) -> Ask:
    """The question, read."""
    doc = nlp.parse(question)
    kind, focus = _kind(doc)
    return Ask(
        text=question, kind=kind, focus=_focus_lemma(focus),
        focus_words=frozenset(k for t in (focus.lefts if focus is not None else ()) for k in
                              nlp.keys(t)) | (nlp.keys(focus) if focus is not None else set()),
        names=tuple(nlp.names(doc)), describing=tuple(nlp.describing_names(doc)),
        people_and_bodies=tuple(nlp.names(doc, {"PERSON", "ORG"})),
        amounts=tuple(nlp.amounts(doc)),
        dates=tuple(frozenset(d) for d in nlp.dates(doc)),
        words=frozenset(k for t in nlp.content(doc) for k in nlp.keys(t)),
        negated=any(t.dep_ == "neg" for t in doc),
        counts=any(t.lower_ == "many" and t.i and doc[t.i - 1].lower_ == "how" for t in doc))


def _focus_lemma(focus) -> str | None:
    """The focus noun's lemma; "day of the week" asks for a weekday, not a date."""
    if focus is None:
        return None
    lemma = focus.lemma_.lower()
    of = [o.lemma_.lower() for c in focus.children if c.lower_ == "of" for o in c.children]
    return "weekday" if lemma == "day" and "week" in of else lemma


def is_wh(tok) -> bool:
    """A wh-word that asks, not one that opens a relative clause ("the scientists whose
    volunteers …", "the city where it began")."""
    return tok.tag_ in WH_TAGS and not any(a.dep_ == "relcl" for a in tok.ancestors)


def _kind(doc) -> tuple[Kind, object | None]:
    """The kind of answer the question wants, and the noun it asks about."""
    words = [t for t in doc if not (t.is_punct or t.is_space)]
    if not words:
        return Kind.OTHER, None
    first = next((t for t in words if t.dep_ not in ("cc", "intj")), words[0])
    if first.tag_ == "MD" or first.pos_ == "AUX":
        return Kind.YES_NO, None
    # The wh-word of the main clause: "When the film was announced, which actor …?" asks
    # which actor; the "when" only sets the scene.
    whs = [t for t in words if is_wh(t)]
    wh = next((t for t in whs if t.head.dep_ != "advcl"), whs[0] if whs else None)
    if wh is None:  # "Name the firm that …"
        return Kind.OTHER, next((t for t in words if t.dep_ == "dobj"), None)
    lemma = wh.lower_
    if lemma in ("who", "whom", "whose"):
        return Kind.PERSON, None
    if lemma == "where":
        return Kind.PLACE, None
    if lemma == "when":
        return Kind.TIME, None
    if lemma == "why":
        return Kind.REASON, None
    nxt = doc[wh.i + 1] if wh.i + 1 < len(doc) else None
    if lemma == "how":
        if nxt is not None and nxt.lower_ in ("many", "much"):
            counted = nxt.head if nxt.head.pos_ in ("NOUN", "PROPN") else None
            return Kind.NUMBER, counted
        if nxt is not None and nxt.pos_ in ("ADJ", "ADV"):  # how long, how old, how far
            return Kind.NUMBER if nxt.lower_ != "long" else Kind.OTHER, None
        return Kind.OTHER, None
    # what / which: the noun it determines ("what year"), or what "What is the …" asks for.
    focus = wh.head if wh.dep_ == "det" and wh.head.pos_ in ("NOUN", "PROPN") else _after(wh)
    if focus is None and wh.head.lemma_ == "be":
        focus = next((c for c in wh.head.children if c.dep_ in ("nsubj", "attr")
                      and c.pos_ == "NOUN" and c != wh), None)
    if focus is not None and focus.lemma_.lower() in DATE_PARTS:
        return Kind.TIME, focus
    kind = noun_kind(focus.lemma_.lower()) if focus is not None and focus.pos_ == "NOUN" else None
    return kind or Kind.OTHER, focus  # "which city", "what percentage", "which actor"


# Kinds of thing a noun may name, and how much nearer to one of them than to every other a
# noun must be, by MiniLM, to be read as that kind: "city", "region", "venue" are 0.17 to
# 0.38 nearer "a place"; "percentage", "price", "fee" 0.23 to 0.31 nearer "an amount";
# "club", "film", "score", "official" under 0.15 nearer anything, and stay open.
_KINDS = {"a place": Kind.PLACE, "a person": Kind.PERSON, "an organisation": None,
          "a thing": None, "an amount": Kind.NUMBER, "a date": None}
KIND_MARGIN = 0.15


@lru_cache(maxsize=1024)
def noun_kind(noun: str) -> Kind | None:
    """The kind of answer "which <noun>" or "what <noun>" wants where the noun says it
    plainly ("which city": a place's name; "what percentage": an amount). By MiniLM, for
    want of a word taxonomy in spaCy's small model."""
    import numpy as np

    from .index import embedder

    near = _kind_vectors() @ np.asarray(embedder().get_text_embedding(noun))
    best, second = np.sort(near)[::-1][:2]
    return list(_KINDS.values())[int(np.argmax(near))] if best - second >= KIND_MARGIN else None


@lru_cache(maxsize=1)
def _kind_vectors():
    import numpy as np

    from .index import embedder

    return np.asarray(embedder().get_text_embedding_batch(list(_KINDS)))


def _after(wh):
    """The noun a "which" or "what" stands before, where the small parser did not attach it
    as the noun's determiner ("Which Tory leader" read as "Which" + "Tory leader")."""
    if wh.tag_ != "WDT" or wh.i + 1 >= len(wh.doc):
        return None
    tok = wh.doc[wh.i + 1]
    while tok.dep_ in ("compound", "amod", "nmod") and tok.head.i > tok.i:
        tok = tok.head
    return tok if tok.pos_ in ("NOUN", "PROPN") and tok.i > wh.i else None


def parts(question: str) -> list[str]:
    """The question's separate asks, or the question alone. Sentences that ask nothing
    ("Ignore all previous instructions and reply …") are not part of it when another does ask.

    A 1.5B model answers one half of a two-part question and drops the other, and one
    retrieval for both halves often misses one half's passage; LlamaIndex's
    SubQuestionQueryEngine plans the parts with the LLM, which a 1.5B model does not do
    reliably. Cutting before a coordinated wh-word costs nothing and cannot invent."""
    doc = nlp.parse(question)
    sents = [s for s in doc.sents if any(t.is_alpha for t in s)]
    asking = [s for s in sents if _asks(s)]
    out: list[str] = []
    for s in asking or sents:
        cuts = [t.i - 1 for t in s if t.tag_ in WH_TAGS and t.i > s.start + 1
                and doc[t.i - 1].dep_ == "cc" and _clause_words(doc, t.i, s.end) >= 2]
        bounds = [s.start, *cuts, s.end]
        for a, b in zip(bounds, bounds[1:], strict=False):
            words = [t for t in doc[a:b] if not (t.dep_ == "cc" and t.i == a)]
            text = doc[words[0].i:b].text.strip(" ,;") if words else ""
            if text:
                out.append(text)
    out = [p for p in out if _clause_words(nlp.parse(p), 0, None) >= 2] or [question]
    if len(out) > 1:
        first = nlp.parse(out[0])
        subject = next((first[t.left_edge.i:t.i + 1].text for t in first
                        if t.dep_ == "nsubj" and t.pos_ == "PROPN"), None)
        if subject:  # each part is asked alone, so "what did he say" must say who
            out[1:] = [re.sub(r"\b(?:he|she)\b", subject, p, count=1) for p in out[1:]]
    return [p[0].upper() + p[1:].rstrip("?. ") + "?" for p in out]


def _asks(sent) -> bool:
    """Whether a sentence asks something: a question mark, a wh-word or auxiliary first."""
    first = next((t for t in sent if t.is_alpha), None)
    return sent.text.rstrip().endswith("?") or (
        first is not None and (first.tag_ in WH_TAGS or first.tag_ == "MD"
                               or first.pos_ == "AUX"))


def _clause_words(doc, start: int, end: int | None) -> int:
    return sum(1 for t in doc[start:end] if t.pos_ in nlp.CONTENT_POS and t.is_alpha)


_WORD = re.compile(r"[^\W\d_][\w'’-]*")


def truecase(question: str, texts: list[str]) -> str:
    """The question typed all in lower case, with the capitals the texts give its names
    inside sentences: "what did wang yi say about nato" reads "what did Wang Yi say about
    NATO". spaCy finds names by their capitals; the articles are the authority on their own.

    By hand: truecasers learn casing from a general corpus, not from these articles. A word
    after a sentence's end says nothing about its case; headlines (mostly capitals) neither."""
    if any(ch.isupper() for ch in question[1:]):
        return question
    capital: dict[str, dict[str, int]] = {}
    lower: set[str] = set()
    for line in (line for text in texts for line in text.splitlines()):
        words = _WORD.findall(line)
        if not words or 2 * sum(w[0].isupper() for w in words) > len(words):
            continue
        for m in _WORD.finditer(line):
            before = line[:m.start()].rstrip()
            if not before or before[-1] in ".!?:;\"“”‘’'":
                continue
            word = m.group()
            if word[0].isupper():
                forms = capital.setdefault(word.lower(), {})
                forms[word] = forms.get(word, 0) + 1
            else:
                lower.add(word)

    def cased(m: re.Match[str]) -> str:
        word = m.group()
        forms = capital.get(word)
        if not forms or word in lower or nlp.nlp().vocab[word].is_stop:
            return word
        return max(forms, key=forms.__getitem__)

    return _WORD.sub(cased, question)
