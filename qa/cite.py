"""Parse `[n]` citation markers and split answers into cited sentences."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache

# [1], [1, 2], [1][2], [1-3], [Source 2], [source 1, 3]
_MARKER = re.compile(
    r"\[\s*(?:sources?\s*)?(\d+(?:\s*(?:[,;]|–|-|and)\s*(?:source\s*)?\d+)*)\s*\]", re.I)
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([.,;:!?])")


@dataclass(frozen=True)
class CitedSentence:
    """A sentence of an answer without its markers, and the source numbers it cited, in order."""

    text: str
    markers: tuple[int, ...]


def parse_markers(text: str) -> list[int]:
    """Source numbers cited in `text`, in order of first appearance; ranges are expanded."""
    found: list[int] = []
    for m in _MARKER.finditer(text):
        for part in re.split(r"\s*(?:[,;]|and)\s*", m.group(1)):
            part = re.sub(r"(?i)source\s*", "", part)
            if re.fullmatch(r"\d+\s*(?:–|-)\s*\d+", part):
                a, b = (int(x) for x in re.split(r"\s*(?:–|-)\s*", part))
                nums = range(a, b + 1) if 0 < b - a < 10 else [a, b]
            else:
                nums = [int(part)] if part.strip().isdigit() else []
            for n in nums:
                if n not in found:
                    found.append(n)
    return found


def strip_markers(text: str) -> str:
    """The text with its markers removed and the spacing they leave tidied."""
    out = _MARKER.sub("", text)
    out = _SPACE_BEFORE_PUNCT.sub(r"\1", out)
    return re.sub(r"[ \t]{2,}", " ", out).strip()


# What markers used as words leave behind: "the sources: [1], [2] and [3]." becomes
# "the sources:,, and."
_HOLLOW = re.compile(r"[:,;]\s*[,.;:]|[:,]\s*$|[:,]\s*(?:and|or)\s*[.,;]?\s*$|"
                     r"\b(?:and|or)\s*[.;]\s*$")


def hollow(sentence: str) -> bool:
    """Whether the sentence, its markers removed, lost words to them: the model listed
    sources where the answer belongs ("names as its sources the following agencies: [1],
    [2] and [3]"), so what is left asserts nothing and may still pass as backed."""
    return bool(_HOLLOW.search(sentence))


def cite_only(text: str, number: int) -> str:
    """The text with every marker, in any form `parse_markers` reads, citing source `number`:
    a reply written over that one source, put back into the prompt's numbering."""
    return _MARKER.sub(f"[{number}]", text)


def renumber(text: str, numbers: dict[int, int]) -> str:
    """The text with each marker citing the sources `numbers` maps its numbers to, in the
    prompt's numbering; a number it does not map stays. For a reply written over a few
    sources numbered 1..n."""
    return _MARKER.sub(lambda m: "".join(f"[{numbers.get(n, n)}]"
                                         for n in parse_markers(m.group())), text)


@cache
def _punkt():
    # NLTK's trained English punkt (shipped offline in llama-index-core, see offline.py) knows
    # abbreviations such as "U.S." and "Mr." that a regex splitter would cut at.
    from nltk.tokenize import PunktTokenizer

    return PunktTokenizer("english")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of `text` (newlines always end a sentence)."""
    spans: list[tuple[int, int]] = []
    for line in re.finditer(r"[^\n]+", text):
        base = line.start()
        for a, b in _punkt().span_tokenize(line.group()):
            if line.group()[a:b].strip():
                spans.append((base + a, base + b))
    return spans


def split_cited_sentences(text: str) -> list[CitedSentence]:
    """Split an answer into sentences; markers that open a sentence belong to the one before."""
    pieces = [text[a:b] for a, b in sentence_spans(text)]
    out: list[tuple[str, list[int]]] = []
    for piece in pieces:
        lead = re.match(r"^\s*((?:\[[^\]]*\]\s*)+)", piece)
        if lead and out and _MARKER.search(lead.group(1)):
            out[-1][1].extend(n for n in parse_markers(lead.group(1)) if n not in out[-1][1])
            piece = piece[lead.end():]
        clean = strip_markers(piece)
        if not clean:
            continue
        if re.fullmatch(r"[\W_]+", clean) and out:  # a stray "." after moved markers
            continue
        out.append((clean, parse_markers(piece)))
    return [CitedSentence(t, tuple(m)) for t, m in out]
