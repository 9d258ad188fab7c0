"""Articles in, passages out: load a folder, read each article's metadata, split into passages
whose character offsets point into the article file."""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path

from .errors import ArticlesError

SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")
# Bump when reading, passage splitting or stored fields change, so old indexes are rebuilt.
SCHEMA = "qa-passages-v4"


@dataclass(frozen=True)
class Article:
    name: str  # file name relative to the articles folder
    text: str  # exactly the characters the spans count in (the file, or for HTML its text)
    title: str
    publisher: str | None
    date: str | None
    digest: str  # sha256 of the file's bytes: the same digest means the same passages


@dataclass(frozen=True)
class Passage:
    id: str
    article: str
    title: str
    publisher: str | None
    date: str | None
    text: str
    start: int
    end: int


def article_files(folder: Path,
                  skipped: Callable[[str, str], None] | None = None) -> list[Path]:
    """Article files under folder, sorted; ArticlesError when there are none.

    A link to a file outside the folder is left out and passed to `skipped`: indexing it would
    quote and cite a file the user never put among the articles. Links to folders are not
    followed either (pathlib's rglob does not descend into them)."""
    if not folder.exists():
        raise ArticlesError(f"articles folder {folder} does not exist")
    if not folder.is_dir():
        raise ArticlesError(f"articles folder {folder} is not a folder")
    root = folder.resolve()
    files = []
    for p in sorted(folder.rglob("*")):
        rel = p.relative_to(folder)
        # Hidden files and folders (.git, .ipynb_checkpoints with its copies of articles) are
        # not articles.
        if any(part.startswith(".") for part in rel.parts):
            continue
        if p.is_symlink() and p.is_dir():
            if skipped:
                skipped(str(rel), "a link to a folder; links to folders are not followed")
            continue
        if not p.is_file() or p.suffix.lower() not in SUFFIXES:
            continue
        if p.is_symlink() and not p.resolve().is_relative_to(root):
            if skipped:
                skipped(str(rel), f"a link to {p.resolve()}, outside the articles folder")
            continue
        files.append(p)
    if not files:
        raise ArticlesError(f"no articles ({', '.join(SUFFIXES)}) in {folder}")
    return files


def corpus_hash(folder: Path, *parts: object) -> str:
    """Content hash of every article plus whatever else shapes the index (settings, schema)."""
    h = hashlib.sha256(SCHEMA.encode())
    for p in parts:
        h.update(repr(p).encode())
    for f in article_files(folder):
        h.update(str(f.relative_to(folder)).encode() + b"\0")
        h.update(hashlib.sha256(_read_bytes(f)).digest())
    return h.hexdigest()


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as e:
        raise ArticlesError(f"cannot read {path}: {e.strerror or e}") from None


class NotText(ArticlesError):
    """An article file that holds no text to index: empty, or binary."""


def decode_text(data: bytes) -> str:
    """A file's characters, \r\n kept, so offsets count the file's own characters.

    UTF-8 first. Saved news pages are often Windows-1252 or Latin-1, which would read as
    replacement characters: those go to charset-normalizer. A UTF-8 file with a few stray
    bytes stays UTF-8, where the detector guesses a Mac code page and garbles every quote."""
    if b"\0" in data[:8192]:
        raise NotText("binary, not text")
    text = data.decode("utf-8-sig", errors="replace")
    bad = text.count("\ufffd")
    if bad and bad >= sum(1 for ch in text if ord(ch) > 127) - bad:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise NotText("not text in any known encoding")
        text = data.decode(best.encoding, errors="replace")
    if not text.strip():
        raise NotText("empty")
    return text


def load_article(path: Path, folder: Path) -> Article:
    """The article in the file; NotText when it holds none."""
    name = str(path.relative_to(folder))
    data = _read_bytes(path)
    raw = decode_text(data)
    if path.suffix.lower() in (".html", ".htm"):
        text, meta = _html_text(raw)
    elif path.suffix.lower() in (".md", ".markdown"):
        text, meta = raw, _front_matter(raw)
    else:
        text, meta = raw, {}
    if not text.strip():
        raise NotText("no text")  # e.g. an HTML page that is all markup and script
    head = _header(text)
    title = meta.get("title") or head.get("title") or Path(name).stem
    return Article(
        name=name,
        text=text,
        title=_clean(title),
        publisher=_clean(meta.get("publisher") or head.get("publisher")) or None,
        date=meta.get("date") or head.get("date"),
        digest=hashlib.sha256(data).hexdigest(),
    )


def load_articles(folder: Path,
                  skipped: Callable[[str, str], None] | None = None) -> Iterator[Article]:
    """The folder's articles; each file left out (no text, a link outside the folder) is passed
    to `skipped` with why."""
    for f in article_files(folder, skipped):
        try:
            art = load_article(f, folder)
        except NotText as e:
            if skipped:
                skipped(str(f.relative_to(folder)), str(e))
            continue
        yield art


def _clean(s: str | None) -> str:
    return re.sub(r"\s+", " ", s or "").strip(" #\t")


_ISO = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_LONG_DATE = re.compile(
    r"\b((?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December) \d{1,2}, \d{4})\b"
)
_BYLINE = re.compile(r"^\s*(?:By|BY|Written by|Author:)\s+(.{2,80}?)\s*$")


def _header(text: str) -> dict[str, str]:
    """Title, byline and date from the first lines of a plain-text article, when it gives them."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()][:8]
    out: dict[str, str] = {}
    if not lines:
        return out
    for ln in lines[:4]:
        m = _ISO.search(ln) or _LONG_DATE.search(ln)
        if m and "date" not in out:
            out["date"] = m.group(1)
        b = _BYLINE.match(ln)
        if b and "publisher" not in out:
            out["publisher"] = b.group(1)
    first = lines[0]
    # A short first line above a longer one is a site or section name (e.g. "Thế Giới").
    if len(lines) > 1 and len(first.split()) <= 3 and len(lines[1]) > len(first) + 10:
        out.setdefault("publisher", first)
        first = lines[1]
    first = re.sub(r"^(?:date\s*)?\d{4}-\d{2}-\d{2}\s*", "", first, flags=re.I)
    first = first.lstrip("# ").strip()
    if len(first) > 160 or first.endswith((".", '"', "”")) and len(first.split()) > 20:
        # No headline: the article opens with its first paragraph.
        words = re.split(r"(?<=[.!?])\s", first)[0].split()
        first = " ".join(words[:12]) + ("…" if len(words) > 12 else "")
    out["title"] = first
    return out


def _front_matter(text: str) -> dict[str, str]:
    m = re.match(r"^---\s*\n(.*?)\n---\s*\n", text, re.S)
    out: dict[str, str] = {}
    if m:
        for line in m.group(1).splitlines():
            k, _, v = line.partition(":")
            k, v = k.strip().lower(), v.strip().strip("'\"")
            if k in ("title", "date"):
                out[k] = v
            elif k in ("author", "publisher", "source", "byline") and "publisher" not in out:
                out["publisher"] = v
    return out


class _HTMLText(HTMLParser):
    """Visible text and metadata of an HTML page (stdlib parser: no extra dependency)."""

    _SKIP = {"script", "style", "noscript", "template", "head", "nav", "footer"}
    _BLOCK = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "section",
              "article", "header", "blockquote", "figcaption", "title"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.meta: dict[str, str] = {}
        self._skip = 0
        self._in_title = False
        self._title: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = {k: (v or "") for k, v in attrs}
        if tag == "meta":
            key = (a.get("name") or a.get("property") or "").lower()
            if key in ("author", "og:site_name", "article:author") and "publisher" not in self.meta:
                self.meta["publisher"] = a.get("content", "")
            elif key in ("article:published_time", "date", "pubdate", "dc.date"):
                self.meta.setdefault("date", a.get("content", "")[:10])
            elif key == "og:title":
                self.meta.setdefault("title", a.get("content", ""))
        elif tag == "time" and a.get("datetime"):
            self.meta.setdefault("date", a["datetime"][:10])
        if tag == "title":
            self._in_title = True
        if tag in self._SKIP:
            self._skip += 1
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        if tag in self._SKIP and self._skip:
            self._skip -= 1
        if tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data):
        if self._in_title:
            self._title.append(data)
        elif not self._skip:
            self.parts.append(data)


def _html_text(raw: str) -> tuple[str, dict[str, str]]:
    p = _HTMLText()
    p.feed(raw)
    p.close()
    text = re.sub(r"[ \t\r\f\v]*\n[\s]*\n\s*", "\n\n", "".join(p.parts))
    text = re.sub(r"[ \t]+", " ", html.unescape(text)).strip()
    if p._title and "title" not in p.meta:
        p.meta["title"] = "".join(p._title)
    return text, p.meta


def split_passages(article: Article, chunk_tokens: int) -> list[Passage]:
    """Sentence-aware passages small enough to cite precisely, with spans into article.text."""
    from llama_index.core import Document
    from llama_index.core.node_parser import SentenceSplitter

    splitter = SentenceSplitter(chunk_size=chunk_tokens, chunk_overlap=0,
                                include_metadata=False, include_prev_next_rel=False)
    nodes = splitter.get_nodes_from_documents([Document(text=article.text, id_=article.name)])
    out: list[Passage] = []
    cursor = 0
    for node in nodes:
        body = node.get_content()
        start = node.start_char_idx
        if start is None or article.text[start:start + len(body)] != body:
            start = article.text.find(body, cursor)
        if start < 0:
            continue  # the splitter changed the text (never seen): an unprovable span is useless
        end = start + len(body)
        cursor = end
        out.append(Passage(f"{article.name}:{start}", article.name, article.title,
                           article.publisher, article.date, body, start, end))
    return out
