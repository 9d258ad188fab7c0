"""Benchmark: prints cold-start, per-answer latency, memory, and index build/query figures.

    .venv/bin/python evals/bench.py [--questions N] [--scale ARTICLES | --articles DIR]

Uses the configured backend (the embedded 1.5B model by default) and a private QA_HOME, so
it measures a cold index build too. Figures, not pass/fail: targets live in the README.
--articles measures the index over a real folder (e.g. ../shared/corpora/bbc) instead of a
synthetic one; --questions 0 skips the answers (and the model load).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from qa.api import ask_stream, get_retriever
from qa.corpus import article_files
from qa.evaluate import load_eval_set
from qa.index import open_index
from qa.llm import LocalLLM, get_llm
from qa.settings import PROJECT_ROOT, Settings
from qa.types import Answer


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    """The process's peak resident memory since the last reset_peak_rss (Linux), else ever."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return rss_mb()


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=20, help="eval questions to time")
    ap.add_argument("--scale", type=int, default=500,
                    help="articles in the synthetic corpus for the index figures (0: skip)")
    ap.add_argument("--articles", type=Path, default=None,
                    help="a folder of articles for the index figures instead of --scale")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    s = Settings.from_env(home=home)
    print(f"qa bench · backend {s.resolved_backend} · home {home}")

    t = time.perf_counter()
    get_retriever(s)
    print(f"index open (cold build of {s.articles_dir.name}/, embeddings load): "
          f"{time.perf_counter() - t:.1f} s")
    items = load_eval_set(PROJECT_ROOT / "evals" / "v1.jsonl")
    if args.questions:
        t = time.perf_counter()
        llm = get_llm(s)
        print(f"model load ({llm.describe()}, join + checksum on first use): "
              f"{time.perf_counter() - t:.1f} s")

        items = items[: args.questions]
        totals, firsts, ptoks = [], [], []
        for it in items:
            final = None
            for ev in ask_stream(it.question, settings=s):
                if isinstance(ev, Answer):
                    final = ev
            totals.append(final.timings.total_s)
            if final.timings.first_token_s is not None:
                firsts.append(final.timings.first_token_s)
            ptoks.append(final.usage.prompt_tokens)
        print(f"answers: {len(totals)} · total median {statistics.median(totals):.2f} s · "
              f"p95 {pct(totals, 0.95):.2f} s · worst {max(totals):.2f} s")
        if firsts:
            print(f"first token: median {statistics.median(firsts):.2f} s")
        print(f"prompt tokens per answer: median {statistics.median(ptoks):.0f}")
        print(f"peak RSS after answering: {rss_mb():.0f} MB")
        if isinstance(llm, LocalLLM):
            print(f"prompt cache: {llm.prompt_cache_bytes() / 2**20:.0f} MB held "
                  f"(QA_PROMPT_CACHE_MB={s.prompt_cache_mb})")

    if args.articles or args.scale:
        if args.articles:
            corpus = args.articles.resolve()
        else:
            corpus = home / "scaled"
            corpus.mkdir()
            seeds = sorted((PROJECT_ROOT / "seeds").iterdir())
            for i in range(args.scale):
                src = seeds[i % len(seeds)]
                # vary each copy so every article is distinct content
                text = src.read_text(encoding="utf-8") + f"\n\nArchive note {i}: copy {i}.\n"
                (corpus / f"{i:05d}_{src.name}").write_text(text, encoding="utf-8")
        big = s.replace(articles_dir=corpus)
        reset_peak_rss()
        t, cpu = time.perf_counter(), time.process_time()
        idx = open_index(big, progress=True)
        dt, cpu = time.perf_counter() - t, time.process_time() - cpu
        print(f"index build, {len(article_files(corpus))} articles / {idx.passages} passages: "
              f"{dt:.1f} s ({idx.passages / dt:.0f} passages/s; {cpu:.0f} s of CPU; "
              f"load average {os.getloadavg()[0]:.1f}) · peak RSS {peak_rss_mb():.0f} MB")
        from qa.retrieve import HybridRetriever

        r = HybridRetriever.open(big)
        queries = retrieval_queries(items, corpus)
        for q in queries[:3]:  # the first searches load the collection's indexes
            r.retrieve(q)
        lat = []
        for q in queries:
            t = time.perf_counter()
            r.retrieve(q)
            lat.append(time.perf_counter() - t)
        print(f"hybrid retrieval over {idx.passages} passages, {len(queries)} questions: median "
              f"{statistics.median(lat) * 1000:.0f} ms · p95 {pct(lat, 0.95) * 1000:.0f} ms")
        if not args.articles:  # a shared folder stays as it is
            (corpus / "added.txt").write_text(
                seeds[0].read_text(encoding="utf-8") + "\n\nA late addition.\n",
                encoding="utf-8")
            t = time.perf_counter()
            idx = open_index(big, progress=True)
            print(f"index update after adding 1 article: {time.perf_counter() - t:.1f} s "
                  f"({idx.passages} passages)")
        print(f"peak RSS: {rss_mb():.0f} MB")
    shutil.rmtree(home, ignore_errors=True)


def retrieval_queries(items, corpus: Path) -> list[str]:
    """The eval questions, and the headlines (first lines) of up to 40 of the corpus's
    articles: questions about the corpus as well as about the seeds."""
    questions = [it.question for it in items]
    files = article_files(corpus)
    for f in files[:: max(1, len(files) // 40)][:40]:
        lines = f.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if lines:
            questions.append(lines[0][:200])
    return questions


if __name__ == "__main__":
    main()
