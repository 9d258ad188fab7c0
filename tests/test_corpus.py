import pytest

from qa.corpus import article_files, corpus_hash, load_article, load_articles, split_passages
from qa.errors import ArticlesError

from conftest import SEEDS


@pytest.mark.parametrize(
    ("name", "title", "publisher", "date"),
    [
        ("000_d2369f6f31bc3c4a.txt",
         "Russia, China reiterate their rejection of West’s ‘confrontational policy’",
         "Anadolu Agency", None),
        ("001_d09e4f1b547c6a50.txt",
         "Foreign Minister Lavrov: Russia-China cooperation will be stronger", "Thế Giới", None),
        ("003_7bc5453d4a4e7406.txt",
         "China’s FM in Moscow: Bilateral Relations, Ties with West on Top", "Staff, Agencies",
         "2023-09-19"),
    ],
)
def test_seed_metadata(name, title, publisher, date):
    a = load_article(SEEDS / name, SEEDS)
    assert (a.title, a.publisher, a.date) == (title, publisher, date)


def test_article_without_headline_gets_a_short_title_from_its_first_sentence():
    a = load_article(SEEDS / "004_422752f7ffbee7cc.txt", SEEDS)
    assert a.title.startswith("Russia and China are expected to maintain")
    assert len(a.title) < 100


@pytest.mark.parametrize("path", sorted(SEEDS.iterdir()), ids=lambda p: p.name)
def test_every_passage_span_points_at_its_text_in_the_file(path):
    art = load_article(path, SEEDS)
    passages = split_passages(art, 80)
    assert len(passages) >= 3
    raw = path.read_text(encoding="utf-8")
    for p in passages:
        assert raw[p.start:p.end] == p.text
    covered = sum(len(p.text) for p in passages)
    assert covered > 0.9 * len(raw.strip())  # nothing of substance is lost


def test_markdown_front_matter_and_html_metadata(tmp_path):
    (tmp_path / "a.md").write_text("---\ntitle: Talks in Beijing\ndate: 2024-04-09\n"
                                   "author: Example Wire\n---\n# Talks\n\nLavrov met Wang Yi.\n")
    (tmp_path / "b.html").write_text(
        "<html><head><title>Summit ends</title><meta name='author' content='Daily Example'>"
        "<meta property='article:published_time' content='2024-05-16T10:00:00Z'>"
        "<script>var x = 'not text';</script></head>"
        "<body><p>Putin &amp; Xi signed a statement.</p><p>Trade grew.</p></body></html>")
    md = load_article(tmp_path / "a.md", tmp_path)
    assert (md.title, md.publisher, md.date) == ("Talks in Beijing", "Example Wire", "2024-04-09")
    html = load_article(tmp_path / "b.html", tmp_path)
    assert (html.title, html.publisher, html.date) == ("Summit ends", "Daily Example",
                                                       "2024-05-16")
    assert "Putin & Xi signed a statement." in html.text and "not text" not in html.text


def test_missing_and_empty_folders_are_clear_errors(tmp_path):
    with pytest.raises(ArticlesError, match="does not exist"):
        article_files(tmp_path / "nope")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF")
    with pytest.raises(ArticlesError, match="no articles"):
        article_files(tmp_path)


def test_windows_1252_article_reads_as_its_characters_and_spans_still_point_into_it(tmp_path):
    text = ("Wang’s visit: “talks” at the café — Moscow, Tuesday.\r\n\r\n"
            "Lavrov said the two sides agreed on a plan for the year ahead.\r\n") * 4
    (tmp_path / "a.txt").write_bytes(text.encode("cp1252"))
    art = load_article(tmp_path / "a.txt", tmp_path)
    assert art.text == text and "\ufffd" not in art.text
    assert art.title == "Wang’s visit: “talks” at the café — Moscow, Tuesday."
    for p in split_passages(art, 20):
        assert art.text[p.start:p.end] == p.text


def test_utf8_article_with_a_stray_byte_stays_utf8(tmp_path):
    raw = (SEEDS / "003_7bc5453d4a4e7406.txt").read_bytes()
    (tmp_path / "a.txt").write_bytes(raw[:300] + b"\xff" + raw[300:])
    art = load_article(tmp_path / "a.txt", tmp_path)
    assert art.text.count("\ufffd") == 1
    assert art.title == "China’s FM in Moscow: Bilateral Relations, Ties with West on Top"


def test_empty_and_binary_files_are_skipped_and_named(tmp_path):
    (tmp_path / "a.txt").write_text("Lavrov met Wang Yi in Beijing.\n", encoding="utf-8")
    (tmp_path / "blank.md").write_text("  \n\n", encoding="utf-8")
    (tmp_path / "photo.html").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR" + bytes(range(256)))
    (tmp_path / "empty.html").write_text("<html><body><script>x()</script></body></html>")
    skipped: list[tuple[str, str]] = []
    names = [a.name for a in load_articles(tmp_path, lambda n, why: skipped.append((n, why)))]
    assert names == ["a.txt"]
    assert skipped == [("blank.md", "empty"), ("empty.html", "no text"),
                       ("photo.html", "binary, not text")]


def test_corpus_hash_changes_with_content_not_with_time(articles):
    before = corpus_hash(articles, 80)
    (articles / "000_d2369f6f31bc3c4a.txt").touch()
    assert corpus_hash(articles, 80) == before
    with (articles / "000_d2369f6f31bc3c4a.txt").open("a") as f:
        f.write("\nA correction was added.\n")
    assert corpus_hash(articles, 80) != before
    assert corpus_hash(articles, 64) != corpus_hash(articles, 80)


def test_hidden_files_and_folders_are_not_articles(articles):
    (articles / ".ipynb_checkpoints").mkdir()
    (articles / ".ipynb_checkpoints" / "copy.txt").write_text("An editor's copy.\n")
    (articles / ".draft.txt").write_text("Not ready.\n")
    (articles / "2024").mkdir()
    (articles / "2024" / "wire.txt").write_text("Grain talks in Beijing.\n")
    names = [str(p.relative_to(articles)) for p in article_files(articles)]
    assert len(names) == 6 and "2024/wire.txt" in names
    assert not any(n.startswith(".") or "/." in n for n in names)
