"""The answer checks: a sentence of the model's reply stands only where the quote it cites
backs it, and the reply as a whole only where it answers the question.

No library checks a claim against a passage without a model, and the NLI models that do are
neither on PyPI with their weights nor fast enough on two cores. So the checks are written by
hand, each short and general, over spaCy's parse (`qa.nlp`) of the quote, the sentence and
the question, which is read once (`qa.question.Ask`): values are compared by value, names by
entity, words by lemma, and negation, modality and attribution by the dependency tree.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from functools import lru_cache

from . import nlp
from .question import ANSWERED_BY, DATE_PARTS, WH_TAGS, Ask, Kind, is_wh

# Share of the words a sentence adds to the question that its quote must hold.
MIN_COVERAGE = 0.6


@dataclass(frozen=True)
class Evidence:
    """What a sentence may rest on: its quote, the article's heading as the prompt showed it
    (title, publisher, date), everything the prompt showed of that article, and of all."""

    quote: str
    header: str
    shown: str
    prompt: str = ""
    lead: str = ""  # the sentence before the quote, which its "she" or "it" may refer to


class Verdict(Enum):
    BACKED = "backed"
    STANCE = "stance"  # backed, but drops the quote's "not", "could" or "X said"
    UNBACKED = "unbacked"


def check(sentence: str, ev: Evidence, ask: Ask) -> Verdict:
    """Whether the evidence backs the sentence as an answer to the question."""
    claim, quote = nlp.parse(_claim(sentence, ask)), nlp.parse(ev.quote)
    if not ((on_topic(quote, ask) or _refers_back(quote) and on_topic(nlp.parse(ev.lead), ask))
            and same_direction(quote, ask)
            and grounded(claim, ev, ask) and keeps_premise(claim, ev, ask)
            and covered(claim, ev, ask) and counts_focus(claim, quote, ask)
            and not in_other_role(claim, ev, ask) and same_kind(claim, quote, ev)
            and same_years(quote, ask)):
        return Verdict.UNBACKED
    stance = _stance(quote, claim, ask)
    polarity = yes_or_no(sentence) if ask.kind is Kind.YES_NO else None
    if polarity is not None and polarity != (not stance.negated):
        return Verdict.UNBACKED  # "Yes" where the quote says "not", or "No" where it does not
    if stance.hedged and not _hedged(ask.doc):
        return Verdict.UNBACKED  # a hope or a guess ("could reach", "is expected to") for a fact
    return Verdict.BACKED if keeps_stance(claim, quote, ask) else Verdict.STANCE


def _article(ev: Evidence):
    """What the prompt showed of the quote's article, parsed only where a check needs it
    (`nlp.parse` caches it)."""
    return nlp.parse(ev.shown or ev.quote)


def yes_or_no(sentence: str) -> bool | None:
    """True for a sentence that opens with "Yes", False for "No", else None."""
    first = next((t for t in nlp.parse(sentence) if t.is_alpha), None)
    if first is None or first.lower_ not in ("yes", "no") or first.dep_ == "det":
        return None
    return first.lower_ == "yes"


def _claim(sentence: str, ask: Ask) -> str:
    """What the sentence claims. After a yes/no question, a bare "Yes, it did." claims the
    question itself."""
    if ask.kind is not Kind.YES_NO or yes_or_no(sentence) is None:
        return sentence
    rest = nlp.parse(sentence)
    adds = [t for t in nlp.content(rest) if not ask.says_word(t) and t.lower_ not in ("yes", "no")]
    return sentence if adds or nlp.amounts(rest) else ask.text.rstrip("?")


@lru_cache(maxsize=1024)
def _pool(*texts: str) -> nlp.Pool:
    return nlp.Pool(texts)


def _refers_back(doc) -> bool:
    """Whether a sentence's subject is a third-person pronoun ("she confesses"), whose
    sentence before says what it is about."""
    return any(t.tag_ == "PRP" and t.morph.get("Person") == ["3"] and t.dep_ == "nsubj"
               for t in doc)


def on_topic(quote, ask: Ask) -> bool:
    """The quote shares a word, a name, a value or a date with the question, or says the
    same in other words ("the lifts' top speed" for "how fast do the elevators travel"): an
    answer's evidence is about what was asked, not a line planted in an article or one
    picked at random."""
    return (any(ask.says_word(t) for t in nlp.content(quote))
            or any(ask.says_name(n) for n in nlp.names(quote))
            or any(ask.says_amount(a) for a in nlp.amounts(quote))
            or bool(nlp.date_atoms(quote) & ask.date_atoms)
            or _near(quote.text, ask.text))


# MiniLM similarity between a question and a sentence about the same thing in other words:
# 0.5-0.7 on paraphrases, below 0.2 for an unrelated line or a planted instruction.
NEAR = 0.5


@lru_cache(maxsize=4096)
def _near(text: str, question: str) -> bool:
    from .index import nearness

    return bool(nearness(question, [text])[0] >= NEAR)


def grounded(claim, ev: Evidence, ask: Ask) -> bool:
    """Every amount, date and name the sentence states stands in its quote or the article's
    heading; or it is the question's, and stands in what was shown of the article. A name or
    value the question brings that the article never mentions is a false premise, which the
    answer may not repeat as fact."""
    quoted, shown = _pool(ev.quote, ev.header), _pool(ev.shown, ev.header)
    said = {t.lower_ for t in claim}
    for a in nlp.amounts(claim):
        if not (quoted.has_amount(a, said) or ask.says_amount(a) and (shown.has_amount(a)
                                                                 or not a.text[:1].isdigit())):
            return False
    # A date the question gives may be echoed ("in March, 2023") unless the article shows a
    # different one of its kind: many articles never say the year the question knows.
    asked = ask.date_atoms
    for atom in {a for d in nlp.dates(claim) for a in d}:
        if not (quoted.has_date({atom}) or atom in asked and (
                shown.has_date({atom}) or not any(_kind(x) == _kind(atom) for x in shown.dates))):
            return False
    anywhere = _pool(ev.prompt, ev.shown, ev.header)
    described = {w for n in ask.describing for w in n}
    describing = nlp.describing_names(claim)
    for name in nlp.names(claim):
        if name in describing and shown.has_name(name):
            continue  # "the Veritas leader": the article names him so elsewhere
        # A first name or title the article gives elsewhere ("Sergey Lavrov" on "Lavrov").
        in_quote = quoted.has_name(name) or quoted.has_name(name[-1:]) and shown.has_name(name)
        # A nationality, or a name that describes in the question ("Moscow's top diplomat"),
        # may stand in any source: the article may say "Lavrov" or "the US".
        describes = set(name) <= described or _is_nationality(claim, name)
        if not (in_quote or ask.says_name(name) and shown.has_name(name)
                or describes and (anywhere.has_name(name) or ask.says_name(name))):
            return False
    # Capitalised words outside any entity are mostly titles ("Foreign Minister"): the
    # article must give them, if not the quote.
    return all(anywhere.has_name((w,)) for w in nlp.proper_words(claim))


def _is_nationality(doc, name: tuple[str, ...]) -> bool:
    return any(e.label_ == "NORP" and nlp.names(e.as_doc()) == [name] for e in doc.ents)


def _kind(atom: str) -> str:
    """year, month, day or weekday: which part of a date an atom gives."""
    return "year" if atom.isdigit() else atom[0] if atom[1:].isdigit() else "weekday"


def covered(claim, ev: Evidence, ask: Ask) -> bool:
    """Most of the words the sentence adds to the question, and one at least, stand in the
    quote: what it adds is its answer. One may be missing where the quote holds the value or
    name it adds ("took place in March"). Words echoed from the question need not stand
    there (the question may paraphrase the article), except after a yes/no question, whose
    answer asserts the question itself."""
    quoted = _pool(ev.quote, ev.header)
    added = [t for t in nlp.content(claim) if t.pos_ != "PROPN"
             and (not t.ent_type_ or t.ent_type_ in nlp.DATE_LABELS and not t.like_num)
             and (ask.kind is Kind.YES_NO or not ask.says_word(t))
             and t.lower_ not in ("yes", "no")]
    if not added:
        return True
    found = sum(quoted.has_word(t) for t in added)
    if found >= max(1, MIN_COVERAGE * len(added)):
        return True
    return len(added) - found == 1 and _adds_value(claim, ask)


def _adds_value(claim, ask: Ask) -> bool:
    """Whether the sentence gives an amount, a date or a name the question lacks; "Sergey
    Lavrov" for the question's "Lavrov" gives none."""
    return (any(not ask.says_amount(a) for a in nlp.amounts(claim))
            or any(not atoms <= ask.date_atoms for atoms in nlp.dates(claim))
            or any(not ask.says_part_of(n) for n in nlp.names(claim)))


def same_direction(quote, ask: Ask) -> bool:
    """The quote does not hold the question's "A <verb> to B" only the other way round:
    "Russian exports to China" says nothing of "How much did China export to Russia?"."""
    asked, held = _roles(ask.doc), _roles(quote)
    for head, roles in asked.items():
        other = held.get(head, {})
        swapped = [(a, b) for a, ra in roles.items() for b, rb in roles.items() if ra != rb
                   and _role(other, a) == rb and _role(other, b) == ra]
        if swapped:
            return False
    return True


def _role(roles: dict[str, str], name: str) -> str | None:
    return next((r for n, r in roles.items() if nlp.similar_name(n, name)), None)


def _roles(doc) -> dict[str, dict[str, str]]:
    """For each word (by stem) that names take part in, each name's part: "agent" (its
    subject or modifier: "China exported", "Russian exports") or the preposition that
    links it ("to" in "exports to China")."""
    out: dict[str, dict[str, str]] = {}
    for tok in doc:
        if tok.ent_type_ not in nlp.NAME_LABELS:
            continue
        head, role = tok.head, None
        if tok.dep_ == "pobj" and head.dep_ == "prep":
            head, role = head.head, head.lower_
        elif tok.dep_ in ("nsubj", "amod", "poss", "compound"):
            role = "agent"
        if role and head.pos_ in ("NOUN", "VERB"):
            out.setdefault(nlp.stem(head.text), {})[tok.lower_] = role
    return out


def keeps_premise(claim, ev: Evidence, ask: Ask) -> bool:
    """The sentence does not put something else in the place of a thing the question takes
    as given and its article never mentions: "Mutu was banned for taking cocaine" does not
    answer "Why was Mutu banned for taking steroids?", nor "Turkmenistan cut off gas" "Why
    did Russia cut off gas?". Places are the subject, the object, or a preposition's object
    of the same verb. Nor is the same thing another name's, in the question or the quote:
    "shares in Bolt fell" are not "Acme's shares", though the article names both."""
    said = _fillers(claim)
    if _owned_apart(said, _fillers(ask.doc)) or _owned_apart(said, _fillers(nlp.parse(ev.quote))):
        return False
    if ask.kind is Kind.YES_NO:
        return True  # a "no" may correct the question
    shown = _pool(ev.shown, ev.quote, ev.header)
    for place, asked in _fillers(ask.doc).items():
        mine = said.get(place)
        if mine and _asked(asked):
            continue  # the answer fills the place "which official" or "what level" asks about
        # a word the question gives elsewhere ("the month before, December") is no other thing
        if (mine and not _keys(asked) & _keys(mine) and not any(map(ask.says_word, mine))
                and not any(map(shown.has_word, asked))):
            return False
    return True


def _owned_apart(fills: dict, other: dict) -> bool:
    """Whether the same noun fills the same place of the same verb in both, said of two
    names: "shares in Bolt fell" and "Acme's shares fell"."""
    return any(nlp.keys(a) & nlp.keys(b) and _other_names(_owner(a), _owner(b))
               for place, mine in fills.items() for a in mine for b in other.get(place, ()))


def _keys(tokens) -> set[str]:
    return {k for t in tokens for k in nlp.keys(t)}


def _asked(tokens) -> bool:
    """Whether a question's words are the ones its wh-word asks about ("what percentage",
    "which country's states"), also where the parser left the wh-word outside the phrase."""
    return any(is_wh(c) for t in tokens for c in t.subtree) or any(
        t.left_edge.i > 0 and _asking(t.doc[t.left_edge.i - 1]) for t in tokens)


def _asking(tok) -> bool:
    """A "which" or "what" that opens the question or follows its preposition ("In which
    city"), not a relative "which" ("the plant which Acme closed")."""
    before = tok.doc[tok.i - 1] if tok.i > tok.sent.start else None
    return tok.tag_ == "WDT" and (before is None or before.pos_ == "ADP" or before.is_punct)


def _fillers(doc) -> dict[tuple[str, str], list]:
    """For each verb (by stem) and place (subject, object, a preposition), what fills it."""
    out: dict[tuple[str, str], list] = {}
    for tok in doc:
        if tok.pos_ not in ("NOUN", "PROPN") or tok.is_stop:
            continue
        head, place = tok.head, tok.dep_
        if place == "pobj" and head.dep_ == "prep":
            head, place = head.head, head.lower_
        if (place in ("nsubj", "dobj") or head.i != tok.head.i) and head.pos_ == "VERB":
            out.setdefault((nlp.stem(head.lemma_), place), []).append(tok)
    return out


def counts_focus(claim, quote, ask: Ask) -> bool:
    """For "how many X", a count the sentence gives does not count, in its quote, something
    else the question names: "seven humanitarian corridors … to take civilians out" gives
    no count of civilians for "How many civilians were taken out through the corridors?"."""
    if ask.kind is not Kind.NUMBER or not ask.focus:
        return True
    wanted = [a for a in nlp.amounts(claim) if not ask.says_amount(a)]
    for held in nlp.amounts(quote):
        if any(held.same(w) for w in wanted):
            counted = quote[held.i].head
            keys = nlp.keys(counted)
            if (quote[held.i].dep_ == "nummod" and not keys & ask.focus_words
                    and ask.says_word(counted)):
                return False
    return True


def same_kind(claim, quote, ev: Evidence) -> bool:
    """The amount the sentence gives is, in its quote, said of the same kind of thing: "US
    retail sales fell 0.3%" or "sales at hardware stores dropped 0.3%" do not say "car sales
    fell 0.3%", where the article speaks of car sales too. Where it never does, its words
    may be its own for the same thing ("a beta version" for "a test version")."""
    held = nlp.amounts(quote)
    for mine in nlp.amounts(claim):
        ours = _subject(claim[mine.i])
        for a in (a for a in held if a.same(mine)):
            theirs = _subject(quote[a.i])
            if ours is None or theirs is None:
                continue
            if nlp.keys(ours) & nlp.keys(theirs):
                kinds, other = _kinds(ours), _kinds(theirs)
                if kinds and other and not kinds & other and any(
                        nlp.keys(t) & nlp.keys(ours) and _kinds(t) & kinds
                        for t in _article(ev)):
                    return False
            elif _other_names(ours, theirs):
                return False  # "Hide and Seek earned £750,000" on "Assault made £750,000"
    return True


def _owner(tok):
    """The name a common noun is said of: "Acme" in "Acme's shares" or "shares in Acme"
    (not "Jane" in "Jane Doe", a name's own words)."""
    if tok.pos_ != "NOUN":
        return None
    near = [c for c in tok.children if c.dep_ in ("poss", "compound")]
    near += [o for c in tok.children if c.dep_ == "prep" for o in c.children if o.dep_ == "pobj"]
    return next((t for t in near if t.pos_ == "PROPN"), None)


def _other_names(a, b) -> bool:
    """Whether two subjects are names with no word in common. Places and nationalities go by
    other names ("the US", "America"), so two of them are never told apart here; a place
    and a firm are (the recogniser takes many a firm's name for a place)."""
    def words(tok):
        return [t for t in tok.subtree if t.pos_ == "PROPN"]

    def place(names) -> bool:
        return any(t.ent_type_ in ("GPE", "NORP", "LOC") for t in names)
    if a is None or b is None:
        return False
    mine, theirs = words(a), words(b)
    if a.pos_ != "PROPN" or b.pos_ != "PROPN" or place(mine) and place(theirs):
        return False
    return not any(nlp.similar_name(x.lower_, y.lower_) for x in mine for y in theirs)


def _subject(tok):
    """The subject of the verb a value hangs on, a few words up."""
    for _ in range(4):
        if tok.head == tok:
            break
        tok = tok.head
        if tok.pos_ in ("VERB", "AUX"):
            return next((c for c in tok.children if c.dep_ in ("nsubj", "nsubjpass")), None)
    return None


def _kinds(tok) -> set[str]:
    """The common words that say which kind of a noun is meant: "car" in "US car sales",
    "store" in "sales at hardware stores"."""
    near = [c for c in tok.children if c.dep_ in ("compound", "amod")]
    near += [o for c in tok.children if c.dep_ == "prep" for o in c.subtree if o.dep_ != "prep"]
    return {k for c in near if c.pos_ in ("NOUN", "ADJ") for k in nlp.keys(c)}


def in_other_role(claim, ev: Evidence, ask: Ask) -> bool:
    """Whether a person the sentence names is, where the article calls them by a role, one
    the question already describes by another role: "England coach Andy Robinson" is the
    coach of "Who was the referee whose calls angered England's coach?", not the referee."""
    new = {n[-1] for n in nlp.names(claim, {"PERSON"}) if not ask.says_part_of(n)}
    if not new:
        return False
    roles = {t.lemma_.lower() for t in ask.doc if t.pos_ == "NOUN"} - _slot_nouns(ask)
    for tok in _article(ev):
        if tok.lower_ in new:
            # its role nouns: "coach" in "England coach X" or "X, the coach"
            beside = [c for c in tok.children if c.dep_ in ("compound", "appos")]
            beside += [tok.head] if tok.dep_ == "appos" else []
            if any(t.pos_ == "NOUN" and t.lemma_.lower() in roles for t in beside):
                return True
    return False


def _slot_nouns(ask: Ask) -> set[str]:
    """The nouns that say what the question asks for: "which coach", "Who was the referee",
    "Name the chief": the first noun phrase from the wh-word on (the small parser often
    attaches the rest wrongly, so by position, not by the tree)."""
    doc = ask.doc
    out = {ask.focus} - {None}
    wh = doc[0] if doc[0].pos_ == "VERB" else next((t for t in doc if t.tag_ in WH_TAGS), None)
    if wh is None or wh.tag_ in ("WP", "WP$") and wh.i + 1 < len(doc) and (
            doc[wh.i + 1].lemma_ != "be"):
        return out  # "Who criticised the referee?" asks for the one who did, not a noun
    first = next((c for c in doc.noun_chunks if c.end > wh.i and c.root.tag_ not in WH_TAGS
                  and c.root.pos_ != "PRON"), None)
    return out | ({first.root.lemma_.lower()} if first is not None else set())


def same_years(quote, ask: Ask) -> bool:
    """A question about one year is not answered by a quote about others only: "56 percent in
    2021" says nothing of 2022."""
    asked = {a for d in ask.dates for a in d if a.isdigit() and len(a) == 4}
    held = {a for a in nlp.date_atoms(quote) if a.isdigit() and len(a) == 4}
    return not (asked and held) or bool(asked & held)


def keeps_stance(claim, quote, ask: Ask) -> bool:
    """The sentence keeps what the quote says around its answer: a "not" (the parser's neg),
    a modal ("could", "will"), and the verb or speaker it is said under ("profits are
    expected to rise", "officials said it rose", "according to officials"). "Profits rose"
    from "profits are expected to rise" states a hope as fact. A word the question brings
    counts as kept."""
    have = {k for t in claim for k in nlp.keys(t)} | set(ask.words)
    needed = _stance(quote, claim, ask)
    negated = any(t.dep_ == "neg" for t in claim)
    if needed.negated != negated and ask.kind is not Kind.YES_NO:
        return False
    if needed.modal and not any(t.tag_ == "MD" for t in claim):
        return False
    return all(any(nlp.keys(t) & have for t in way) for way in needed.governors)


@dataclass
class _Stance:
    negated: bool = False
    modal: bool = False
    hedged: bool = False  # said as possible ("could", "might", "would"), not as fact
    governors: tuple = ()  # for each, the words of which one keeps it (verb or speaker)


def _hedged(doc) -> bool:
    """Whether a text asks or says something as possible or hoped for: a modal ("could",
    "would") or a verb the rest depends on as its complement ("expected to rise"). "Will" is
    the future, not a hedge."""
    return _guesses(doc) or any(t.dep_ == "xcomp" or _infinitive(t) for t in doc)


def _guesses(doc) -> bool:
    """Whether a text says something only as possible."""
    return any(map(_guess, doc))


def _guess(tok) -> bool:
    """A modal that says only what is possible: "could", "would", "may"; "will" is the
    future, not a guess."""
    return tok.tag_ == "MD" and tok.lemma_.lower() not in ("will", "shall")


def _infinitive(tok) -> bool:
    """A "to" clause under a verb ("expect trade to reach"), which the small parser often
    labels ccomp or advcl instead of xcomp."""
    return tok.dep_ in ("ccomp", "advcl") and tok.head.pos_ == "VERB" and any(
        c.dep_ == "aux" and c.tag_ == "TO" for c in tok.children)


def _anchors(quote, claim, ask: Ask) -> list:
    """The quote's words that the sentence says and the question does not: its answer."""
    mine = ask.kind is not Kind.YES_NO  # after a yes/no question the claim is the question
    said = {k for t in nlp.content(claim) if not (mine and ask.says_word(t)) for k in nlp.keys(t)}
    values = [a for a in nlp.amounts(claim) if not (mine and ask.says_amount(a))]
    out = [t for t in nlp.content(quote) if nlp.keys(t) & said]
    out += [quote[a.i] for a in nlp.amounts(quote) if any(a.same(v) for v in values)]
    # dates and names: their words, where the question does not have them
    words = {t.lower_ for t in claim if t.ent_type_ and not t.is_punct
             and not (mine and t.lower_ in {q.lower_ for q in ask.doc})}
    out += [t for t in quote if t.ent_type_ and t.lower_ in words]
    return out


def _stance(quote, claim, ask: Ask) -> _Stance:
    """What governs the sentence's answer in the quote, up the dependency tree to the root."""
    anchors = _anchors(quote, claim, ask)
    ids = {t.i for t in anchors}
    values = {a.i for a in nlp.amounts(quote)}
    st = _Stance()
    ways: dict[int, tuple] = {}
    for tok in anchors:
        x = tok
        while True:
            for c in x.children:
                st.negated |= c.dep_ == "neg"
                st.modal |= c.tag_ == "MD"
                # a guess in a side clause leaves the rest a fact, not the value it governs
                st.hedged |= _guess(c) and (tok.i in values or not _aside(x))
                if c.dep_ == "prep" and c.lemma_ == "accord":  # "according to officials"
                    ways[c.i] = (c, *(w for w in c.subtree if w.pos_ in ("NOUN", "PROPN")))
            if x.dep_ in ("ccomp", "xcomp") and x.head.i not in ids:
                said = x.head  # kept by its verb, or for "X said", by X
                speaker = [w for c in said.children if c.dep_ == "nsubj" for w in c.subtree
                           if w.pos_ in ("NOUN", "PROPN")] if x.dep_ == "ccomp" else []
                ways[said.i] = (said, *speaker)
            if x.head == x or _stated_apart(x, ask):
                break
            x = x.head
    st.governors = tuple(ways.values())
    return st


def _stated_apart(x, ask: Ask) -> bool:
    """Whether the words above `x` no longer govern what it holds: a relative clause states its
    fact whatever the sentence around it says ("Acme, which owns 5%, may sell" holds the 5%
    as fact), and so do a description of a thing the question names ("the Paris Treaty of
    May 2, 2004, could be revised" still dates the treaty) and a modifier of a definite
    noun ("the £200 phones can send e-mail": the price is given, not hedged)."""
    return (x.dep_ == "relcl" or x.pos_ == "PROPN" and ask.says_word(x)
            or x.dep_ in _MODIFIERS and x.i < x.head.i and any(map(_definite, x.head.children)))


def _definite(tok) -> bool:
    """"the", "this", "those" or a possessive: a noun phrase that refers to a known thing."""
    return tok.dep_ == "poss" or tok.dep_ == "det" and (
        tok.morph.get("Definite") == ["Def"] or tok.morph.get("PronType") == ["Dem"])


_MODIFIERS = frozenset({"nummod", "amod", "compound", "nmod", "quantmod"})


def _aside(tok) -> bool:
    """Whether a word stands in a side clause: "cut jobs because of weak demand, adding
    prices would rise" or "the firm, which could close, …" state the rest as fact."""
    while tok.head != tok:
        if tok.dep_ in ("advcl", "relcl"):
            return True
        tok = tok.head
    return False


def answers(answer: str, ask: Ask) -> bool:
    """The answer adds something the question lacks, of the kind it asks for, and does not
    deny a wh-question's premise ("China did not join the sanctions" for "Why did China join
    the sanctions?")."""
    doc = nlp.parse(answer)
    if ask.kind is Kind.YES_NO:
        return True  # each sentence was checked against the question itself
    wanted = ANSWERED_BY[Kind.PLACE] if ask.kind is Kind.PLACE else nlp.NAME_LABELS
    new_names = [n for n in nlp.names(doc, wanted) if not ask.says_part_of(n)]
    new_amounts = [a for a in nlp.amounts(doc) if not ask.says_amount(a)]
    asked_dates = nlp.date_phrases(ask.doc)
    new_dates = [d for d in nlp.date_phrases(doc) if d not in asked_dates]
    new_words = [t for t in nlp.content(doc) if not ask.says_word(t)]
    if not (new_names or new_amounts or new_dates or new_words):
        return False
    if not ask.negated and any(_denies(t.head, ask) for t in doc if t.dep_ == "neg"):
        return False
    if _echoes_slot(doc, ask):
        return False
    if ask.kind is Kind.PERSON or ask.kind is Kind.PLACE:
        return bool(new_names)
    if ask.focus == "name":  # a name the entity recogniser missed ("Bankash-A") still counts
        return bool(new_names) or any(not ask.says_name((w,)) for w in nlp.proper_words(doc))
    if ask.kind is Kind.TIME:
        part = DATE_PARTS.get(ask.focus or "")  # "on which day": "mid-March" gives none
        return bool(new_dates) and (part is None or any(
            _kind(a) in part for d in nlp.dates(doc) for a in d if not ask.says_date({a})))
    if ask.kind is Kind.NUMBER:
        return any(not (ask.counts and a.unit == "%") for a in new_amounts)
    if ask.kind is Kind.REASON:
        return _explains(doc, ask)
    return True


def _denies(verb, ask: Ask) -> bool:
    """Whether a negated main verb denies the question's event ("China did not join" for
    "Why did China join?") or says the answer is not known ("it is not clear what it does",
    "he did not say why"). A "not" elsewhere may be the answer itself: "the routes don't
    make a profit" for "What prompted the airline to drop them?"."""
    if verb.dep_ != "ROOT":
        return False
    said = [*verb.children, *(g for c in verb.children if c.dep_ == "acomp" for g in c.children)]
    return ask.says_word(verb) or any(c.dep_ in ("ccomp", "csubj") and any(
        w.tag_ in WH_TAGS for w in c.subtree) for c in said)


def _echoes_slot(doc, ask: Ask) -> bool:
    """Whether the answer puts the question's own words in the place its wh-word asks about:
    "The Tory leader appointed him" names no one for "Which Tory leader appointed him?",
    whatever else it adds."""
    said = _fillers(doc)
    for place, asked in _fillers(ask.doc).items():
        if not _asked(asked):
            continue
        # another word the parser put in the same place ("how many volumes will the company
        # turn …" read as two subjects) is the question's, not the slot
        given = _keys(t for t in asked if not _asked([t]))
        for tok in said.get(place, ()):
            if nlp.keys(tok) & given:
                continue
            if all(ask.says_word(t) or not (t.pos_ in nlp.CONTENT_POS or t.ent_type_ or t.like_num)
                   for t in tok.subtree):
                return True
    return False


def _explains(doc, ask: Ask) -> bool:
    """For "why", the answer hangs something new on the question's event: a clause or a
    phrase ("because …", "to save money", "after the strike", "due to …") on the verb the
    question asks about. A sentence that only says something near it ("China declared its
    friendship" for "Why did China back the sanctions?") gives no reason: on the tuning sets
    such sentences answered four questions to refuse and no answerable one."""
    # The question's main verbs, stop words too ("put off", "make"); not a clause that sets
    # the scene ("even as China overtook …") or a participle that describes ("planned sale").
    events = {k for t in ask.doc if (t.pos_ == "VERB" or t.dep_ == "ROOT") and _main_clause(t)
              for k in nlp.keys(t)}
    scene = {k for t in ask.doc if t.pos_ == "VERB" and not _main_clause(t)
             for k in nlp.keys(t)} - events
    if any(t.dep_ == "ROOT" and nlp.keys(t) & scene for t in doc):
        return False  # it says again what the question gave as the scene
    for verb in (t for t in doc if nlp.keys(t) & events):
        # a purpose the parser hangs on the object: "sent a woman to refuse the award"
        purposes = [g for c in verb.children if c.dep_ == "dobj" for g in c.children
                    if g.dep_ == "acl" and any(a.tag_ == "TO" for a in g.children)]
        for c in [*verb.children, *purposes]:
            # what the dependent is about: a preposition's object, or a clause's own verb
            core = next((o for o in c.children if o.dep_ == "pobj"), c) if c.dep_ == "prep" else c
            if (c.dep_ in ("advcl", "prep", "xcomp", "ccomp", "agent", "acl")
                    and not ask.says_word(core) and not ask.says_name((core.lower_,))):
                return True
    return False


def _main_clause(tok) -> bool:
    """Whether a word belongs to the main clause: the root, or joined to it by "and" or a
    "to" ("wanted to sell")."""
    while tok.dep_ in ("conj", "xcomp") and tok.head != tok:
        tok = tok.head
    return tok.dep_ == "ROOT"


def is_refusal(sentence: str) -> bool:
    """Whether a sentence says the sources lack the answer, in whatever words: a negation
    about the sources themselves ("The articles do not say", "not specified in the sources
    provided"), or "no information"."""
    doc = nlp.parse(sentence)
    negated = any(t.dep_ == "neg" or t.lemma_.lower() == "unable" for t in doc)
    return ((negated and any(t.lemma_.lower() in _SOURCE_NOUNS for t in doc))
            or any(t.lower_ == "no" and t.head.lemma_.lower() in _ABSENT for t in doc))


# The words the prompts use for what an answer comes from: a sentence that denies them
# something talks about the sources, not about the world.
_SOURCE_NOUNS = frozenset({"source", "article", "passage", "context", "document"})
_ABSENT = frozenset({"information", "mention", "detail", "data"})  # "There is no information"
