"""Benchmark of the chat page: time from Enter to the first streamed token and to the answer.

    .venv/bin/python evals/bench_ui.py [--questions N]

Starts the app on 127.0.0.1 with the configured backend (the embedded 1.5B model by default),
drives it in Debian's headless Chromium, asks each example question in a fresh browser
session, then two sessions at once. Figures, not pass/fail.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import time

from playwright.sync_api import sync_playwright

from qa.api import warm_up
from qa.evaluate import load_eval_set
from qa.settings import PROJECT_ROOT, Settings
from qa.ui import EXAMPLES, build_app, launch_options

FINAL = "#qa-chat .qa-answer, #qa-chat .qa-refusal, #qa-chat .qa-error"
FIRST = "#qa-chat .qa-draft, " + FINAL  # streamed text, or an answer with no draft
WAIT_MS = 240_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector(".qa-status:not(.qa-status-loading)")
    return context, page


def press_enter(page, question: str) -> float:
    box = page.locator("#qa-question textarea")
    box.fill(question)
    t0 = time.perf_counter()
    box.press("Enter")
    return t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=len(EXAMPLES) + 1,
                    help="questions to time (the page's examples, then eval questions)")
    args = ap.parse_args()
    extra = [it.question for it in load_eval_set(PROJECT_ROOT / "evals" / "v1.jsonl")]
    pool = EXAMPLES + extra
    questions = pool[: args.questions]
    # Two not asked before: the model's prompt cache would make repeats look fast.
    pair_questions = pool[args.questions: args.questions + 2]

    settings = Settings.from_env()
    t = time.perf_counter()
    print(f"warm-up: {warm_up(settings)} in {time.perf_counter() - t:.1f} s")
    demo = build_app(settings)
    port = free_port()
    demo.launch(server_name="127.0.0.1", server_port=port, prevent_thread_lock=True, quiet=True,
                **launch_options())
    url = f"http://127.0.0.1:{port}/"
    firsts, totals = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                    args=["--no-sandbox", "--disable-gpu"])
        for q in questions:
            context, page = open_page(browser, url)
            t0 = press_enter(page, q)
            page.wait_for_selector(FIRST, timeout=WAIT_MS)
            first = time.perf_counter() - t0
            page.wait_for_selector(FINAL, timeout=WAIT_MS)
            total = time.perf_counter() - t0
            kind = page.locator(FINAL).first.get_attribute("class") or ""
            firsts.append(first)
            totals.append(total)
            print(f"  first token {first:5.1f} s · full {total:5.1f} s · "
                  f"{kind.replace('qa-', '').split()[0]:8} · {q}")
            context.close()
        print(f"{len(questions)} questions, one session each: first token median "
              f"{statistics.median(firsts):.1f} s, full answer median "
              f"{statistics.median(totals):.1f} s (worst {max(totals):.1f} s)")

        pair = [open_page(browser, url) for _ in range(2)]
        starts = [press_enter(page, q) for (_, page), q in zip(pair, pair_questions, strict=True)]
        seen: dict[tuple[int, str], float] = {}
        while len(seen) < 4:  # poll both pages, so neither waits on the other being read
            for i, (_, page) in enumerate(pair):
                for what, sel in (("first", FIRST), ("full", FINAL)):
                    if (i, what) not in seen and page.locator(sel).count():
                        seen[i, what] = time.perf_counter() - starts[i]
            time.sleep(0.1)
        for i in range(2):
            print(f"two sessions at once, session {i + 1}: first token {seen[i, 'first']:.1f} s, "
                  f"full answer {seen[i, 'full']:.1f} s")
        for context, _ in pair:
            context.close()
        browser.close()
    demo.close()


if __name__ == "__main__":
    main()
