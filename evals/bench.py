"""Benchmark: answer latency and memory, the index over a real corpus, Lite against a server.

    .venv/bin/python evals/bench.py [--questions N] [--articles DIR | --scale N] [--no-server]

Prints figures, not pass or fail (targets live in the README):
1. answers to evals/v1.jsonl with the configured backend (the embedded 1.5B model by
   default): time to the first checked text and to the whole answer (median, p95), prompt
   tokens, and the process's resident memory after the 50th answer;
2. the index over --articles (default ../shared/corpora/bbc when it is there, else a
   synthetic corpus of --scale articles): build time, passages per second, peak memory, and
   hybrid retrieval latency (median, p95);
3. the same questions over Milvus Lite and over a Milvus server (`qa serve-index`) on the
   same index: whether retrieval and answers agree, and retrieval latency on each.

Runs in a private QA_HOME, so the index builds are cold; models are shared (QA_MODELS_DIR).
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from qa.api import ask_stream, get_retriever
from qa.corpus import article_files
from qa.evaluate import is_correct, load_eval_set
from qa.index import open_index
from qa.llm import get_llm
from qa.settings import PROJECT_ROOT, Settings
from qa.types import Answer

BBC = PROJECT_ROOT.parent / "shared" / "corpora" / "bbc"
RSS_AFTER = 50  # answers before resident memory is read


def rss_mb() -> float:
    """The process's resident memory now (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def reset_peak_rss() -> None:
    Path("/proc/self/clear_refs").write_text("5")  # VmHWM back to the current RSS


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def ms(values: list[float]) -> str:
    return (f"median {statistics.median(values) * 1000:.0f} ms · "
            f"p95 {pct(values, 0.95) * 1000:.0f} ms")


def secs(values: list[float]) -> str:
    return f"median {statistics.median(values):.2f} s · p95 {pct(values, 0.95):.2f} s"


def answers(s: Settings, items) -> list[Answer]:
    """Each question answered through the streaming API, as the chat page does."""
    out = []
    for n, it in enumerate(items, 1):
        *_, final = ask_stream(it.question, settings=s)
        out.append(final)
        if n == RSS_AFTER:
            print(f"resident memory after {n} answers: {rss_mb():.0f} MB "
                  f"(peak {peak_rss_mb():.0f} MB)")
    return out


def bench_answers(s: Settings, items) -> None:
    t = time.perf_counter()
    get_retriever(s)
    print(f"index open (cold build of {s.articles_dir.name}/): {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    llm = get_llm(s)
    print(f"model load ({llm.describe()}): {time.perf_counter() - t:.1f} s")
    done = answers(s, items)
    firsts = [a.timings.first_text_s for a in done if a.timings.first_text_s is not None]
    print(f"{len(done)} answers to {len(items)} questions of v1: whole answer "
          f"{secs([a.timings.total_s for a in done])}")
    if firsts:
        print(f"first checked text ({len(firsts)} answered): {secs(firsts)}")
    print(f"prompt tokens per answer: median "
          f"{statistics.median(a.usage.prompt_tokens for a in done):.0f}; "
          f"correct {sum(is_correct(i, a) for i, a in zip(items, done, strict=True))} "
          f"of {len(items)}")
    print(f"resident memory at the end: {rss_mb():.0f} MB (peak {peak_rss_mb():.0f} MB)")


def synthetic(home: Path, n: int) -> Path:
    corpus = home / "scaled"
    corpus.mkdir()
    seeds = sorted((PROJECT_ROOT / "seeds").iterdir())
    for i in range(n):
        src = seeds[i % len(seeds)]
        text = src.read_text(encoding="utf-8") + f"\n\nArchive note {i}: copy {i}.\n"
        (corpus / f"{i:05d}_{src.name}").write_text(text, encoding="utf-8")
    return corpus


def queries(items, corpus: Path) -> list[str]:
    """The eval questions, and the headlines of up to 60 of the corpus's articles."""
    out = [it.question for it in items]
    files = article_files(corpus)
    for f in files[:: max(1, len(files) // 60)][:60]:
        lines = f.read_text(encoding="utf-8", errors="replace").strip().splitlines()
        if lines:
            out.append(lines[0][:200])
    return out


def bench_index(s: Settings, corpus: Path, items) -> None:
    from qa.retrieve import HybridRetriever

    big = s.replace(articles_dir=corpus)
    reset_peak_rss()
    t, cpu = time.perf_counter(), time.process_time()
    idx = open_index(big, progress=True)
    dt, cpu = time.perf_counter() - t, time.process_time() - cpu
    print(f"index build, {len(article_files(corpus))} articles / {idx.passages} passages: "
          f"{dt:.1f} s ({idx.passages / dt:.0f} passages/s, {cpu:.0f} s of CPU, load average "
          f"{os.getloadavg()[0]:.1f}), peak memory {peak_rss_mb():.0f} MB")
    r = HybridRetriever.open(big)
    qs = queries(items, corpus)
    for q in qs[:3]:  # the first searches load the collection
        r.retrieve(q)
    lat = []
    for q in qs:
        t = time.perf_counter()
        r.retrieve(q)
        lat.append(time.perf_counter() - t)
    print(f"hybrid retrieval over {idx.passages} passages, {len(qs)} questions: {ms(lat)}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def searched(retriever, items) -> tuple[list[list[tuple[str, int]]], list[float]]:
    """Each question's passages, then the time of searching for it again, warm."""
    ids = [[(x.article, x.start) for x in retriever.retrieve(it.question)] for it in items]
    lat = []
    for it in items:
        t = time.perf_counter()
        retriever.retrieve(it.question)
        lat.append(time.perf_counter() - t)
    return ids, lat


def bench_server(s: Settings, items, n_answers: int) -> None:
    """The seeds indexed into a `qa serve-index` server, against the same seeds in Lite."""
    lite_ids, lite_lat = searched(get_retriever(s), items)
    lite_answers = [a.text for a in answers(s, items[:n_answers])]
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-c", "from qa.cli import main; main()",
                             "serve-index", "--data-dir", str(s.home / "served.db"), "--port",
                             str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True)
    try:
        for line in proc.stdout:  # waits for the address line
            if "QA_MILVUS_URI" in line:
                break
        served = s.replace(milvus_uri=f"http://127.0.0.1:{port}")
        t = time.perf_counter()
        remote = get_retriever(served)  # builds the seeds' index on the server
        print(f"index build over the server: {time.perf_counter() - t:.1f} s")
        ids, lat = searched(remote, items)
        texts = [a.text for a in answers(served, items[:n_answers])]
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"Lite and server, {len(items)} questions: the same passages for "
          f"{sum(a == b for a, b in zip(lite_ids, ids, strict=True))}; the same answer for "
          f"{sum(a == b for a, b in zip(lite_answers, texts, strict=True))} of {n_answers}")
    print(f"retrieval over the seeds: Lite {ms(lite_lat)}; server {ms(lat)}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=61, help="v1 questions to answer (0: none)")
    ap.add_argument("--articles", type=Path, default=BBC if BBC.is_dir() else None,
                    help="a folder of articles for the index figures (default: the BBC corpus)")
    ap.add_argument("--scale", type=int, default=0,
                    help="a synthetic corpus of this many articles instead of --articles")
    ap.add_argument("--server-answers", type=int, default=10,
                    help="questions answered over both Lite and the server")
    ap.add_argument("--no-server", action="store_true", help="skip Lite against the server")
    args = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="qa-bench-"))
    s = Settings.from_env(home=home)
    items = load_eval_set(PROJECT_ROOT / "evals" / "v1.jsonl")
    print(f"qa bench · backend {s.resolved_backend} · {os.cpu_count()} CPUs · home {home}")
    try:
        if args.questions:
            bench_answers(s, items[: args.questions])
        if args.scale:
            bench_index(s, synthetic(home, args.scale), items)
        elif args.articles:
            bench_index(s, args.articles.resolve(), items)
        if not args.no_server:
            bench_server(s, items, args.server_answers if args.questions else 0)
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
