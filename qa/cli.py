"""The `qa` command: parses arguments, calls the Python API, turns QAError into one line."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from . import offline

offline.apply()

from .errors import QAError  # noqa: E402
from .settings import Settings  # noqa: E402


def _settings(ctx: click.Context, **overrides) -> Settings:
    return Settings.from_env(**{**ctx.obj, **overrides})


def handle_errors(fn):
    """A user mistake or a fault outside qa is one line on stderr and exit 1, not a traceback."""

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except QAError as e:
            click.echo(f"Error: {e}", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)

    return wrapper


@click.group()
@click.option("--articles", type=click.Path(path_type=Path), default=None,
              help="Folder of articles (QA_ARTICLES; default: seeds/).")
@click.option("--backend", type=click.Choice(["auto", "local", "openai"]), default=None,
              help="LLM backend (QA_BACKEND).")
@click.option("--model", "local_model", default=None,
              help="Embedded model name (QA_LOCAL_MODEL), e.g. qwen2.5-coder-0.5b.")
@click.version_option(package_name="qa")
@click.pass_context
def cli(ctx: click.Context, articles: Path | None, backend: str | None,
        local_model: str | None) -> None:
    """Cited, verified answers from a folder of news articles.

    \b
    Examples:
      qa ask "How much were Russian exports to China worth in 2021?"
      qa --articles ~/news index
      qa chat
    """
    ctx.obj = {"articles_dir": articles, "backend": backend, "local_model": local_model}


@cli.command()
@click.argument("question")
@click.option("--json", "as_json", is_flag=True, help="Print the Answer as JSON.")
@click.pass_context
@handle_errors
def ask(ctx: click.Context, question: str, as_json: bool) -> None:
    """Answer QUESTION from the articles, with citations and quotes.

    Example: qa ask "Who is the Chinese foreign ministry spokesman?"
    """
    from .api import ask_stream, get_retriever
    from .types import Answer

    s = _settings(ctx)
    get_retriever(s, progress=True)  # a (re)build shows its progress bar, not a silent wait
    answer = None
    shown = ""
    for item in ask_stream(question, settings=s):
        if isinstance(item, Answer):
            answer = item
        elif isinstance(item, str) and not as_json:
            click.echo(item, nl=False)  # each sentence as it passes the checks
            shown += item
    assert answer is not None
    if as_json:
        click.echo(answer.to_json())
        return
    if not shown.strip():
        click.echo(answer.text)  # a refusal: nothing was streamed
    elif shown.strip() != answer.text:
        click.echo(f"\n{answer.text}")  # the whole answer reads otherwise (a part left open)
    else:
        click.echo()
    for c in answer.citations:
        click.echo(f"\n[{c.number}] {c.title} — {c.article} (chars {c.start}-{c.end})")
        click.echo(f'    "{c.quote}"')
    t = answer.timings
    click.echo(f"\n({answer.backend} · {answer.model} · {t.total_s:.1f} s)", err=True)


@cli.command()
@click.argument("folder", required=False, type=click.Path(path_type=Path))
@click.pass_context
@handle_errors
def index(ctx: click.Context, folder: Path | None) -> None:
    """Build (or reuse) the index of FOLDER (default: the articles folder).

    Example: qa index ../shared/corpora/bbc
    """
    from .index import open_index

    s = _settings(ctx, articles_dir=folder)
    idx = open_index(s, progress=True, echo=lambda m: click.echo(m, err=True))
    state = "built" if idx.built else "up to date"
    click.echo(f"Index {state}: {idx.passages} passages from {s.articles_dir} in {idx.uri} "
               f"(collection {idx.collection})")


@cli.command(name="serve-index")
@click.option("--data-dir", type=click.Path(path_type=Path), default=None,
              help="Milvus Lite folder to serve (default: the index under QA_HOME).")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind; 0.0.0.0 serves every interface.")
@click.option("--port", default=19530, show_default=True, type=click.IntRange(0, 65535),
              help="Port to listen on (0: any free port).")
@click.pass_context
@handle_errors
def serve_index(ctx: click.Context, data_dir: Path | None, host: str, port: int) -> None:
    """Serve the index to other processes until Ctrl+C: `qa chat` and `qa ask` share it when
    QA_MILVUS_URI is set to the address this prints.

    Example: qa serve-index --port 19530, then QA_MILVUS_URI=http://127.0.0.1:19530 qa chat
    """
    from .index import default_lite_path, serve

    s = _settings(ctx)
    serve((data_dir or default_lite_path(s)).expanduser(), host, port, click.echo)


@cli.command()
@click.pass_context
@handle_errors
def doctor(ctx: click.Context) -> None:
    """Say which backend and model are active, and whether they answer; check the model's
    whole sha256.

    Example: QA_LLM_BASE_URL=http://127.0.0.1:8000/v1 qa doctor
    """
    import time

    from .llm import get_llm
    from .weights import model_file

    s = _settings(ctx)
    click.echo(f"articles: {s.articles_dir}")
    click.echo(f"home:     {s.home}")
    click.echo(f"index:    {s.milvus_uri or s.home / 'index' / 'passages.db'}")
    click.echo(f"models:   {s.models_dir}")
    click.echo(f"backend:  {s.resolved_backend}")
    ok = True
    try:
        t = time.perf_counter()
        if s.resolved_backend == "local" and s.model_path is None:
            model_file(s.local_model, s.models_dir, full=True)
        llm = get_llm(s)
        click.echo(f"model:    {llm.describe()}")
        reply = llm.ping()
        click.echo(f"answers:  yes ({reply[:30]!r}, {time.perf_counter() - t:.1f} s)")
    except QAError as e:
        click.echo(f"answers:  no — {e}")
        ok = False
    _list_models(s)
    sys.exit(0 if ok else 1)


@cli.command()
@click.option("--prepare", is_flag=True,
              help="Join the selected model and check its whole sha256 now (a joined copy "
              "that fails is joined again); later starts check sampled blocks only.")
@click.pass_context
@handle_errors
def models(ctx: click.Context, prepare: bool) -> None:
    """List the embedded models and whether they are installed.

    Example: qa models --prepare
    """
    from .weights import model_file

    s = _settings(ctx)
    if prepare:
        click.echo(f"Preparing {s.local_model} (join parts, check sha256)…", err=True)
        path = model_file(s.local_model, s.models_dir, full=True, rejoin=True,
                          echo=lambda m: click.echo(m, err=True))
        click.echo(f"{s.local_model}: ready at {path}")
    _list_models(s)


def _list_models(s: Settings) -> None:
    from .weights import MODELS, part_files

    for name, m in MODELS.items():
        try:
            part_files(m)
            state = "installed"
        except QAError:
            state = f"not installed ({m.install})"
        default = " (selected)" if name == s.local_model else ""
        click.echo(f"  {name:<20} {m.title:<38} {state}{default}")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Interface to bind. Any address but a loopback one (e.g. 0.0.0.0, every "
              "interface) serves the chat, with no login, to whoever can reach this machine.")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.pass_context
@handle_errors
def chat(ctx: click.Context, host: str, port: int) -> None:
    """Start the chat UI in the browser.

    Example: qa --articles ~/news chat --port 8080
    """
    from .ui import launch

    s = _settings(ctx)
    if not _loopback(host):
        click.echo(f"Warning: serving on {host} lets anyone who can reach this machine ask "
                   "questions, with no login; --host 127.0.0.1 keeps it to this machine.",
                   err=True)
    launch(s, host=host, port=port)


def _loopback(host: str) -> bool:
    """True when every address `host` names is this machine's own (127.x, ::1, localhost);
    a name that does not resolve is left to the server's own one-line error."""
    import ipaddress
    import socket

    try:
        infos = socket.getaddrinfo(host, None)
    except (OSError, UnicodeError):
        return True
    return all(ipaddress.ip_address(info[4][0].split("%")[0]).is_loopback for info in infos)


@cli.command(name="eval")
@click.option("--set", "eval_path", type=click.Path(path_type=Path, exists=True), default=None,
              help="Eval set (JSONL); default evals/v1.jsonl.")
@click.option("--articles", "articles_dir", type=click.Path(path_type=Path), default=None,
              help="Folder the set's gold articles are named in (default: the articles "
                   "folder), e.g. ../shared/corpora/bbc for evals/bbc-1.jsonl.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), default=Path("eval-results"),
              show_default=True, help="Folder for report.json and report.html.")
@click.option("--compare", type=click.Choice(["baseline"]), default=None,
              help="Also run LlamaIndex's stock CitationQueryEngine and show both.")
@click.option("--limit", type=int, default=None, help="Only the first N questions.")
@click.option("--min-correct", type=float, default=None)
@click.option("--min-refusal", type=float, default=None)
@click.option("--max-false-refusal", type=float, default=None)
@click.option("--min-citation-precision", type=float, default=None)
@click.option("--min-citation-recall", type=float, default=None)
@click.pass_context
@handle_errors
def eval_(ctx: click.Context, articles_dir: Path | None, **opts) -> None:
    """Measure answers against known facts; exit 1 when a threshold is missed.

    Example: qa eval --set evals/bbc-1.jsonl --articles ../shared/corpora/bbc
    """
    from .evaluate import main as eval_main

    overrides = {"articles_dir": articles_dir} if articles_dir is not None else {}
    sys.exit(eval_main(_settings(ctx, **overrides), echo=click.echo, **opts))


def main() -> None:
    try:
        cli(standalone_mode=True)
    except QAError as e:  # e.g. a bad environment variable while building Settings
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
