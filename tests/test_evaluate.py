"""The eval suite scores known-good, known-bad and padded answers as a reader would."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import qa
from qa.errors import BackendError, ConfigError, IndexBuildError
from qa.evaluate import (
    EvalItem,
    baseline_answer_fn,
    check_thresholds,
    fact_present,
    format_table,
    gold_citation_share,
    hit_at_k,
    load_eval_set,
    main,
    quotes_hold_facts,
    reciprocal_rank,
    render_html,
    run_eval,
    score_answer,
    self_check,
    summarize,
)
from qa.settings import PROJECT_ROOT
from qa.types import Answer, Citation, Source, Timings, Usage

from conftest import SEEDS, FakeLLM, corpus_of

# Passages verbatim from the seed articles, so the support check works on real text.
CALL_ART = "000_d2369f6f31bc3c4a.txt"
CALL = ("Russian Foreign Minister Sergey Lavrov and his Chinese counterpart Wang Yi reiterated "
        "their rejection of the West’s “confrontational policy” toward their countries in a "
        "phone call Wednesday.")
TRADE = ("Pointing out that Lavrov and Wang noted the trade turnover between Russia and China at "
         "the end of 2023 had exceeded $200 billion, the statement went on to say that the two "
         "ministers said that bilateral trade and economic cooperation had successfully coped "
         "with external challenges.")
EXPORTS_ART = "001_d09e4f1b547c6a50.txt"
EXPORTS = ("China is Russia’s main export market after the European Union. Russian exports to "
           "China were worth $79.3 billion in 2021, of which oil and gas accounted for 56 "
           "percent, according to China’s customs authorities.")
AFGHAN_ART = "002_0385020f3bcde863.txt"
AFGHAN = ("On March 30 and 31, Russian Foreign Minister Sergey Lavrov came to China. On March 30, "
          "Sergey Lavrov and his Chinese counterpart Wang Yi were busy meeting with their foreign "
          "counterparts. On March 31, the Ministerial Conference of Afghanistan’s Neighboring "
          "Countries was held.")
DOZEN_ART = "004_422752f7ffbee7cc.txt"
DOZEN = ("The encounter culminated in over a dozen agreements aimed at reinforcing collaboration "
         "in fields including commerce, technology, and state propaganda, as per a list issued "
         "by the Kremlin.")

EXPORT_SENTENCE = "Russian exports to China were worth $79.3 billion in 2021"


def src(number: int, article: str, text: str) -> Source:
    return Source(number=number, article=article, title="", publisher=None, date=None,
                  text=text, start=0, end=len(text), score=1.0 / number)


def make_answer(text: str, sources: list[Source], cited: dict[int, int] | None = None, *,
                refused: bool = False, total_s: float = 1.0, usage: Usage | None = None,
                question: str = "q") -> Answer:
    """An Answer whose citation n points at source cited[n] (default: n -> n)."""
    by_number = {s.number: s for s in sources}
    cited = cited if cited is not None else {s.number: s.number for s in sources}
    citations = [Citation(number=n, article=by_number[s].article, title="",
                          quote=by_number[s].text, start=0, end=1, source=s)
                 for n, s in cited.items()]
    return Answer(question=question, text=text, citations=citations, sources=sources,
                  refused=refused, timings=Timings(total_s=total_s),
                  usage=usage or Usage(100, 10))


FOUR = [src(1, CALL_ART, CALL), src(2, EXPORTS_ART, EXPORTS), src(3, AFGHAN_ART, AFGHAN),
        src(4, CALL_ART, TRADE)]


# --- citations, judged by the gold facts and articles only ---------------------------------------

EXPORT_ITEM = EvalItem("a", "How much were Russian exports to China worth in 2021?", "single_fact",
                       True, (("$79.3 billion",),), (EXPORTS_ART,))


def test_quotes_that_hold_the_gold_fact_count_for_citation_recall():
    good = make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 2})
    off = make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 1})  # a quote without the figure
    assert quotes_hold_facts(EXPORT_ITEM, good) is True
    assert quotes_hold_facts(EXPORT_ITEM, off) is False


def test_citation_precision_is_the_share_of_citations_into_gold_articles():
    padded = make_answer(f"{EXPORT_SENTENCE} [1][2][3][4].", FOUR)
    assert gold_citation_share(EXPORT_ITEM, padded) == 0.25
    assert gold_citation_share(EXPORT_ITEM, make_answer(f"{EXPORT_SENTENCE}.", FOUR, {})) == 0.0


def test_the_answerer_s_own_check_is_reported_apart_as_a_self_check():
    good = make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 2}, question=EXPORT_ITEM.question)
    wrong = make_answer("Russian exports to China were worth $90 billion in 2021 [1].", FOUR,
                        {1: 2}, question=EXPORT_ITEM.question)
    assert self_check(good) == 1.0 and self_check(wrong) == 0.0
    row = score_answer(EXPORT_ITEM, wrong)
    assert row.self_check == 0.0 and row.quotes_hold_facts is True and not row.correct


def test_refused_answers_are_left_out_of_citation_means():
    item = EvalItem("u", "Who won the football match?", "unanswerable", False, (), ())
    refused = score_answer(item, make_answer(qa.REFUSAL, FOUR, {}, refused=True))
    good = score_answer(EXPORT_ITEM, make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 2}))
    assert refused.quotes_hold_facts is None and refused.gold_citation_share is None
    s = summarize([refused, good])
    assert (s.citation_recall, s.citation_precision) == (1.0, 1.0)


# --- facts and correctness ----------------------------------------------------------------------

@pytest.mark.parametrize("written", ["$79.3 billion", "79.3 bn", "79,300 million", "US$79.3bn",
                                     "79.3 billion dollars"])
def test_the_same_amount_written_differently_matches(written):
    assert fact_present(["$79.3 billion"], f"Exports were worth {written} in 2021.")
    assert fact_present([written], "Exports were worth $79.3 billion in 2021.")


@pytest.mark.parametrize("written", ["$79.4 billion", "$79.3 million", "$793 billion"])
def test_a_different_amount_does_not_match(written):
    assert not fact_present(["$79.3 billion"], f"Exports were worth {written} in 2021.")


def test_words_match_across_case_quotes_and_dashes_but_not_inside_other_words():
    assert fact_present(["Russia's chairmanship"], "support for RUSSIA’S chairmanship of BRICS")
    assert fact_present(["Russia-Ukraine war"], "including the Russia–Ukraine war")
    assert fact_present(["Wang Yi"], "talks with Wang Yi’s team")
    assert not fact_present(["Wang Yi"], "Wang Yiming said")
    assert fact_present(["Sergey Lavrov", "Sergei Lavrov"], "Sergei Lavrov spoke")


def test_a_number_fact_needs_its_words_too():
    assert fact_present(["56 percent oil and gas"], "Oil and gas made up 56% of exports.")
    assert not fact_present(["56 percent oil and gas"], "Grain made up 56% of exports.")
    assert fact_present(["a dozen agreements"], "They signed 12 agreements.")
    assert not fact_present(["a dozen agreements"], "They signed 12 memoranda.")


def test_every_gold_fact_must_be_present_for_a_correct_answer():
    item = EvalItem("x", "How much and when?", "single_fact", True,
                    (("$79.3 billion", "79.3 bn"), ("2021",)), (EXPORTS_ART,))
    full = score_answer(item, make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 2}))
    half = score_answer(item, make_answer("Russian exports were worth 79.3 bn [1].", FOUR, {1: 2}))
    assert full.correct and full.facts_missing == []
    assert not half.correct
    assert half.facts_found == ["$79.3 billion"] and half.facts_missing == ["2021"]


def test_refusals_are_reported_apart_from_answers_as_squad2_does():
    unanswerable = EvalItem("u", "Who won the match?", "unanswerable", False, (), ())
    answerable = EvalItem("a", "How much?", "single_fact", True, (("$79.3 billion",),),
                          (EXPORTS_ART,))
    refusal = make_answer(qa.REFUSAL, FOUR, {}, refused=True)
    rows = [
        score_answer(unanswerable, refusal),  # right to refuse
        score_answer(unanswerable, make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 2})),
        score_answer(answerable, refusal),  # a false refusal
        score_answer(answerable, make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 2})),
    ]
    assert [r.correct for r in rows] == [True, False, False, True]
    s = summarize(rows)
    assert s.refusal_rate == 0.5
    assert s.false_refusal_rate == 0.5
    assert s.answerable_correct == 0.5
    assert s.correct == 0.5
    assert s.per_category["unanswerable"].correct == 0.5
    assert s.per_category["single_fact"].correct == 0.5


# --- retrieval, gold articles, latency ----------------------------------------------------------

def test_hit_at_k_and_mrr_follow_the_rank_of_the_first_gold_passage():
    assert reciprocal_rank(FOUR, [EXPORTS_ART]) == 0.5
    assert reciprocal_rank(FOUR, [AFGHAN_ART, CALL_ART]) == 1.0
    assert reciprocal_rank(FOUR, [DOZEN_ART]) == 0.0
    assert hit_at_k(FOUR, [AFGHAN_ART]) and not hit_at_k(FOUR, [DOZEN_ART])
    items = [EvalItem(str(i), "q", "single_fact", True, (("x",),), (art,))
             for i, art in enumerate([EXPORTS_ART, AFGHAN_ART, DOZEN_ART])]
    s = summarize([score_answer(i, make_answer("x", FOUR, {})) for i in items])
    assert s.hit_at_k == pytest.approx(2 / 3)
    assert s.mrr == pytest.approx((0.5 + 1 / 3 + 0) / 3)
    assert s.k == 4


def test_gold_article_citation_counts_answered_answerable_questions_only():
    def item(i: str) -> EvalItem:
        return EvalItem(i, "q", "single_fact", True, (("$79.3 billion",),), (EXPORTS_ART,))

    rows = [
        score_answer(item("a"), make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 2})),
        score_answer(item("b"), make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 1})),
        score_answer(item("c"), make_answer(qa.REFUSAL, FOUR, {}, refused=True)),
    ]
    assert [r.gold_article_cited for r in rows] == [True, False, None]
    assert summarize(rows).gold_article_cited == 0.5


def test_latency_percentiles_and_token_means():
    item = EvalItem("a", "q", "single_fact", True, (("x",),), ())
    rows = [score_answer(item, make_answer("x", FOUR, {}, total_s=t, usage=Usage(100 * t, t)))
            for t in (1, 2, 3, 4, 100)]
    s = summarize(rows)
    assert s.latency_p50_s == 3
    assert s.latency_p95_s == pytest.approx(80.8)
    assert s.mean_prompt_tokens == 2200 and s.mean_completion_tokens == 22


# --- the eval set -------------------------------------------------------------------------------

def item_json(**kw) -> str:
    base = {"id": "q1", "question": "How much were Russian exports to China worth in 2021?",
            "category": "single_fact", "answerable": True, "gold_facts": [["$79.3 billion"]],
            "gold_articles": [EXPORTS_ART], "note": ""}
    return json.dumps({**base, **kw})


def test_the_eval_set_loads_typed_items(tmp_path):
    path = tmp_path / "v.jsonl"
    path.write_text(item_json() + "\n\n" + item_json(id="q2", answerable=False, gold_facts=[],
                                                     category="unanswerable") + "\n")
    items = load_eval_set(path)
    assert [i.id for i in items] == ["q1", "q2"]
    assert items[0].gold_facts == (("$79.3 billion",),) and not items[1].answerable


@pytest.mark.parametrize(("line", "message"), [
    ("{not json", r"v\.jsonl:2: not valid JSON"),
    (item_json(category="trivia"), r"v\.jsonl:2: 'category' must be one of"),
    (json.dumps({"id": "q9", "question": "?"}), r"v\.jsonl:2: missing field 'category'"),
    (item_json(gold_facts=["$79.3 billion"]), r"v\.jsonl:2: 'gold_facts' must be a list of"),
    (item_json(gold_facts=[]), r"v\.jsonl:2: an answerable question needs"),
    (item_json(), r"v\.jsonl:2: duplicate id 'q1'"),
])
def test_a_bad_eval_line_is_a_one_line_config_error_naming_the_line(tmp_path, line, message):
    path = tmp_path / "v.jsonl"
    path.write_text(item_json() + "\n" + line + "\n")
    with pytest.raises(ConfigError, match=message) as e:
        load_eval_set(path)
    assert "\n" not in str(e.value)


def test_a_missing_or_empty_eval_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_eval_set(tmp_path / "nope.jsonl")
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(ConfigError, match="has no questions"):
        load_eval_set(tmp_path / "empty.jsonl")


@pytest.mark.parametrize("name", sorted(p.name for p in (PROJECT_ROOT / "evals").glob("*.jsonl")))
def test_every_gold_fact_is_in_the_text_of_a_gold_article(name):
    """A typo in a gold fact would score right answers wrong for as long as the set is used."""
    items = load_eval_set(PROJECT_ROOT / "evals" / name)
    corpus = corpus_of(name)
    texts = {str(p.relative_to(corpus)): p.read_text(encoding="utf-8", errors="replace")
             for a in {a for i in items for a in i.gold_articles} if (p := corpus / a).is_file()}
    texts |= {p.name: p.read_text(encoding="utf-8") for p in SEEDS.glob("*.txt")}
    for item in items:
        assert set(item.gold_articles) <= set(texts), item.id
        # a yes/no question's first fact is its "yes" or "no"; the rest are in the article
        for fact in item.gold_facts[item.category == "yes_no":]:
            assert any(fact_present(fact, texts[a]) for a in item.gold_articles), (item.id, fact)


def test_a_gold_article_missing_from_the_corpus_stops_the_run(tmp_path, settings):
    path = tmp_path / "v.jsonl"
    path.write_text(item_json(gold_articles=["999_typo.txt"]) + "\n")
    with pytest.raises(ConfigError, match="999_typo.txt"):
        run_eval(settings, eval_path=path, answer_fn=lambda q: pytest.fail("asked"),
                 progress=False)


# --- end to end ---------------------------------------------------------------------------------

class StubRetriever:
    """Hand-picked seed passages."""

    def retrieve(self, question: str) -> list[Source]:
        return [src(1, CALL_ART, CALL), src(2, EXPORTS_ART, EXPORTS)]


def write_eval(tmp_path: Path) -> Path:
    lines = [
        item_json(id="exports"),
        item_json(id="football", question="Who won the football match?",
                  category="unanswerable", answerable=False, gold_facts=[], gold_articles=[]),
        item_json(id="share", question="What share of the exports were oil and gas?",
                  gold_facts=[["56 percent", "56%"]]),
        item_json(id="slow", question="What did the ministers say about BRICS?",
                  category="multi_article", gold_facts=[["BRICS"]],
                  gold_articles=[CALL_ART, AFGHAN_ART]),
    ]
    path = tmp_path / "v1.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def pipeline(settings, llm: FakeLLM):
    """The real answerer and verifier, with a scripted model and hand-picked passages; the
    endpoint times out on the question about BRICS."""

    def answer(q: str) -> Answer:
        if "BRICS" in q:
            raise BackendError("the endpoint did not answer in time", this_request_only=True)
        return qa.ask(q, settings=settings, llm=llm, retriever=StubRetriever())

    return answer


def test_run_eval_end_to_end_writes_the_summary_numbers(tmp_path, settings, capsys):
    llm = FakeLLM(f"{EXPORT_SENTENCE} [2].", qa.REFUSAL, qa.REFUSAL)
    out = tmp_path / "out"
    code = main(settings, eval_path=write_eval(tmp_path), out_dir=out, compare=None, limit=None,
                min_correct=None, min_refusal=None, max_false_refusal=None,
                min_citation_precision=None, min_citation_recall=None,
                answer_fn=pipeline(settings, llm))
    assert code == 0
    printed = capsys.readouterr()
    assert "correct=" in printed.err  # the progress bar shows the running correctness
    assert f"JSON report: {out / 'report.json'}" in printed.out
    report = json.loads((out / "report.json").read_text())
    s = report["summary"]
    assert (s["questions"], s["answerable"], s["unanswerable"], s["errors"]) == (4, 3, 1, 1)
    assert s["correct"] == 0.5  # exports answered, football refused
    assert s["answerable_correct"] == pytest.approx(1 / 3)
    assert s["refusal_rate"] == 1.0
    assert s["false_refusal_rate"] == pytest.approx(1 / 3)
    assert (s["citation_recall"], s["citation_precision"]) == (1.0, 1.0)
    assert s["gold_article_cited"] == 1.0
    assert s["hit_at_k"] == pytest.approx(2 / 3)  # the timed-out question retrieved nothing
    # the retriever returns the exports passage second; the prompt shows first the article
    # whose sentence holds most of the question
    assert s["mrr"] == pytest.approx((1 + 1 + 0) / 3)
    assert s["per_category"]["multi_article"] == {"questions": 1, "correct": 0.0}
    rows = {r["id"]: r for r in report["rows"]}
    assert rows["exports"]["correct"] and rows["exports"]["citations"][0]["article"] == EXPORTS_ART
    assert rows["share"]["refused"] and rows["share"]["facts_missing"] == ["56 percent"]
    assert rows["slow"]["error"] == "BackendError: the endpoint did not answer in time"
    assert rows["exports"]["latency_s"] > 0 and rows["exports"]["prompt_tokens"] > 0


@pytest.mark.parametrize("error", [
    IndexBuildError("cannot reach Milvus at http://db:19530: refused"),
    BackendError("cannot reach the LLM endpoint http://127.0.0.1:9/v1"),
])
def test_a_set_up_failure_stops_the_run_at_once_and_writes_no_report(error, tmp_path, settings):
    asked = []

    def answer_fn(q: str) -> Answer:
        asked.append(q)
        raise error

    out = tmp_path / "out"
    with pytest.raises(type(error), match=r"; the eval stopped at question 1 of 4 \(exports\)"):
        main(settings, eval_path=write_eval(tmp_path), out_dir=out, compare=None, limit=None,
             min_correct=None, min_refusal=None, max_false_refusal=None,
             min_citation_precision=None, min_citation_recall=None, answer_fn=answer_fn)
    assert len(asked) == 1 and not out.exists()


@pytest.mark.parametrize("out", ["taken", "taken/reports"])
def test_a_report_folder_that_cannot_be_made_fails_before_any_question(out, tmp_path, settings):
    (tmp_path / "taken").write_text("a file where the reports should go")
    with pytest.raises(ConfigError, match=f"reports to .*{out}: .*taken is a file"):
        main(settings, eval_path=write_eval(tmp_path), out_dir=tmp_path / out, compare=None,
             limit=None, min_correct=None, min_refusal=None, max_false_refusal=None,
             min_citation_precision=None, min_citation_recall=None,
             answer_fn=lambda q: pytest.fail("asked a question"))
    assert (tmp_path / "taken").read_text() == "a file where the reports should go"


def test_limit_asks_only_the_first_questions(tmp_path, settings):
    asked = []

    def answer_fn(q: str) -> Answer:
        asked.append(q)
        return make_answer(qa.REFUSAL, [], {}, refused=True, question=q)

    run = run_eval(settings, eval_path=write_eval(tmp_path), limit=2, answer_fn=answer_fn,
                   progress=False)
    assert len(run.rows) == 2 and len(asked) == 2
    assert run.summary.refusal_rate == 1.0 and run.summary.false_refusal_rate == 1.0


def thresholds(**kw) -> dict:
    return {"min_correct": None, "min_refusal": None, "max_false_refusal": None,
            "min_citation_precision": None, "min_citation_recall": None, **kw}


def test_a_missed_threshold_prints_fail_and_exits_1(tmp_path, settings):
    lines: list[str] = []
    code = main(settings, eval_path=write_eval(tmp_path), out_dir=tmp_path / "o", compare=None,
                limit=None, echo=lines.append, progress=False,
                answer_fn=pipeline(settings, FakeLLM(f"{EXPORT_SENTENCE} [2].", qa.REFUSAL)),
                **thresholds(min_correct=0.85, max_false_refusal=0.1, min_refusal=0.9))
    assert code == 1
    assert "FAIL correctness 0.33 < 0.85" in lines
    assert "FAIL false_refusal 0.33 > 0.10" in lines
    assert not any("refusal 1.00" in line for line in lines)


def test_met_thresholds_exit_0(tmp_path, settings):
    lines: list[str] = []
    code = main(settings, eval_path=write_eval(tmp_path), out_dir=tmp_path / "o", compare=None,
                limit=None, echo=lines.append, progress=False,
                answer_fn=pipeline(settings, FakeLLM(f"{EXPORT_SENTENCE} [2].", qa.REFUSAL)),
                **thresholds(min_correct=0.3, min_refusal=1.0, max_false_refusal=0.5,
                             min_citation_precision=1.0, min_citation_recall=0.9))
    assert code == 0
    assert not [line for line in lines if line.startswith("FAIL")]


def test_a_threshold_close_to_the_value_is_not_printed_as_equal():
    s = summarize([score_answer(EvalItem(str(i), "q", "single_fact", True, (("x",),), ()),
                                make_answer("x" if i < 849 else "y", FOUR, {}))
                   for i in range(1000)])
    assert check_thresholds(s, min_correct=0.85) == ["FAIL correctness 0.8490 < 0.8500"]


def test_compare_must_name_the_baseline(tmp_path, settings):
    with pytest.raises(ConfigError, match="--compare must be one of baseline"):
        main(settings, eval_path=write_eval(tmp_path), out_dir=tmp_path, compare="gpt",
             limit=None, **thresholds())


def test_compare_baseline_shows_two_columns_and_thresholds_judge_qa_only(tmp_path, settings):
    lines: list[str] = []
    code = main(settings, eval_path=write_eval(tmp_path), out_dir=tmp_path / "o",
                compare="baseline", limit=None, echo=lines.append, progress=False,
                # a refused question is asked again over its best passage alone
                answer_fn=pipeline(settings, FakeLLM(f"{EXPORT_SENTENCE} [2].", qa.REFUSAL,
                                                     qa.REFUSAL, qa.REFUSAL,
                                                     "Oil and gas were 56 percent [2].")),
                baseline_fn=pipeline(settings, FakeLLM(qa.REFUSAL, qa.REFUSAL, qa.REFUSAL)),
                **thresholds(min_correct=0.6))
    assert code == 0  # qa got 2 of 3 answerable right; the baseline's 0 does not count
    table = lines[0]
    header = table.splitlines()[0].split()
    assert header == ["qa", "baseline"]
    row = next(line for line in table.splitlines() if line.startswith("Correct (answerable)"))
    assert row.split()[-2:] == ["67%", "0%"]
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert report["summary"]["answerable_correct"] == pytest.approx(2 / 3)
    assert report["baseline"]["summary"]["answerable_correct"] == 0.0


def interrupting(answer_fn, at: int):
    """answer_fn, with Ctrl+C pressed during its `at`-th question."""
    asked = []

    def answer(q: str) -> Answer:
        asked.append(q)
        if len(asked) == at:
            raise KeyboardInterrupt
        return answer_fn(q)

    return answer


def test_ctrl_c_reports_the_answers_so_far_marked_partial(tmp_path, settings):
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        main(settings, eval_path=write_eval(tmp_path), out_dir=tmp_path / "o", compare=None,
             limit=None, echo=lines.append, progress=False,
             answer_fn=interrupting(pipeline(settings, FakeLLM(f"{EXPORT_SENTENCE} [2].")), 3),
             **thresholds(min_correct=0.1))
    note = "qa was interrupted after 2 of 4 questions; its figures cover those only"
    assert lines[0].splitlines()[0] == f"Note: {note}."
    assert re.search(r"Questions\s+2 \(1 answerable, 1 not\)", lines[0])
    assert not [line for line in lines if line.startswith("FAIL")]
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert [r["id"] for r in report["rows"]] == ["exports", "football"]
    assert report["planned"] == 4 and report["interrupted"] == note
    assert note in (tmp_path / "o" / "report.html").read_text()


def test_ctrl_c_in_the_baseline_keeps_qa_whole(tmp_path, settings):
    lines: list[str] = []
    with pytest.raises(KeyboardInterrupt):
        main(settings, eval_path=write_eval(tmp_path), out_dir=tmp_path / "o",
             compare="baseline", limit=None, echo=lines.append, progress=False,
             answer_fn=pipeline(settings, FakeLLM(f"{EXPORT_SENTENCE} [2].")),
             baseline_fn=interrupting(pipeline(settings, FakeLLM(qa.REFUSAL)), 2),
             **thresholds())
    report = json.loads((tmp_path / "o" / "report.json").read_text())
    assert len(report["rows"]) == 4 and report["interrupted"] is None
    assert len(report["baseline"]["rows"]) == 1 and report["baseline"]["interrupted"]


def test_ctrl_c_at_the_first_question_writes_no_report(tmp_path, settings):
    with pytest.raises(KeyboardInterrupt):
        main(settings, eval_path=write_eval(tmp_path), out_dir=tmp_path / "o", compare=None,
             limit=None, echo=print, progress=False,
             answer_fn=interrupting(lambda q: pytest.fail("answered"), 1), **thresholds())
    assert not (tmp_path / "o").exists()


# --- reports ------------------------------------------------------------------------------------

def test_html_report_is_self_contained_and_escapes_questions(tmp_path, settings):
    path = tmp_path / "v.jsonl"
    path.write_text(item_json(question="<script>alert('x')</script> How much?") + "\n"
                    + item_json(id="q2", question="Who won?", category="unanswerable",
                                answerable=False, gold_facts=[], gold_articles=[]) + "\n")

    def answer_fn(q: str) -> Answer:
        if "How much" in q:
            return make_answer(f"{EXPORT_SENTENCE} [1].", FOUR, {1: 2}, question=q, total_s=2.5)
        return make_answer(qa.REFUSAL, [], {}, refused=True, question=q, total_s=0.5)

    run = run_eval(settings, eval_path=path, answer_fn=answer_fn, progress=False)
    html = render_html([run])
    assert "<script>" not in html
    assert "&lt;script&gt;alert(" in html
    assert not re.search(r"https?://", html)
    assert not re.search(r"<(link|script|img|iframe)\b|@import|url\(", html)
    assert html.count("<svg") == 2
    assert "single_fact" in html and EXPORTS_ART in html  # category chart and citations
    assert "$79.3 billion" in html  # the cited quote


def test_terminal_table_lists_overall_and_per_category_correctness(settings, tmp_path):
    run = run_eval(settings, eval_path=write_eval(tmp_path), progress=False,
                   answer_fn=pipeline(settings, FakeLLM(f"{EXPORT_SENTENCE} [2].")))
    table = format_table([run])
    assert re.search(r"Correct \(all questions\)\s+50%", table)
    assert re.search(r"single_fact \(n=2\)\s+50%", table)
    assert re.search(r"unanswerable \(n=1\)\s+100%", table)
    assert re.search(r"Errors\s+1", table)


# --- the LlamaIndex baseline --------------------------------------------------------------------

def tiny_llama_retriever():
    """A stock in-memory LlamaIndex retriever over three seed passages (mock embeddings)."""
    from llama_index.core import VectorStoreIndex
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.schema import TextNode

    nodes = [TextNode(text=t, metadata={"article": a, "title": "", "start": 0, "end": len(t)})
             for a, t in [(EXPORTS_ART, EXPORTS), (CALL_ART, CALL), (DOZEN_ART, DOZEN)]]
    index = VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=8))
    return index.as_retriever(similarity_top_k=3)


def test_baseline_runs_the_stock_citation_engine_through_our_model(settings):
    llm = FakeLLM()
    answer_fn = baseline_answer_fn(settings, llm=llm, retriever=tiny_llama_retriever())
    probe = answer_fn("How much were Russian exports to China worth in 2021?")
    exports_n = next(s.number for s in probe.sources if s.article == EXPORTS_ART)
    assert probe.refused  # FakeLLM's default reply is the refusal sentence
    prompt = llm.prompts[-1]
    assert len(prompt) == 1 and prompt[0]["role"] == "user"
    assert prompt[0]["content"].startswith("Please provide an answer based solely on the "
                                           "provided sources.")
    assert f"Source {exports_n}:\n{EXPORTS}" in prompt[0]["content"]

    llm.enqueue(f"{EXPORT_SENTENCE} [{exports_n}].")
    answer = answer_fn("How much were Russian exports to China worth in 2021?")
    assert not answer.refused
    assert [(c.number, c.article, c.quote) for c in answer.citations] == [
        (exports_n, EXPORTS_ART, EXPORTS)]
    assert [s.article for s in answer.sources] == [s.article for s in probe.sources]
    assert answer.timings.total_s > 0 and answer.usage.completion_tokens == 11
    assert quotes_hold_facts(EXPORT_ITEM, answer) is True


def test_baseline_saying_the_sources_lack_the_answer_counts_as_a_refusal(settings):
    llm = FakeLLM("There is no information about the football match in the sources.")
    answer = baseline_answer_fn(settings, llm=llm, retriever=tiny_llama_retriever())("Who won?")
    assert answer.refused and answer.citations == []
