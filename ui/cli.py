"""The `aisle` command: the composition root that wires retrieval, ranking, the assistant,
the pages and the eval suite (it lives in `ui/` so that `assistant/` never imports what
stands above it). Heavy imports happen inside the commands, so `--help` is instant."""

from __future__ import annotations

import json
import sys
import time
import uuid
from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

app = typer.Typer(
    help="Aisle: a conversational shopping assistant that runs on your own catalog.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

IndexDir = Annotated[
    Path | None,
    typer.Option("--index-dir", help="index folder [env AISLE_INDEX_DIR; default: user cache]"),
]
ChromaUrl = Annotated[
    str | None, typer.Option("--chroma-url", help="Chroma server URL [env AISLE_CHROMA_URL]")
]
AsJson = Annotated[bool, typer.Option("--json", help="machine-readable output")]
LlmModel = Annotated[
    str | None, typer.Option(help="qwen2.5-1.5b | qwen2.5-0.5b | smollm2-135m | GGUF file")
]
NoLlm = Annotated[bool, typer.Option("--no-llm", help="rules and catalog facts only, no LLM")]


def _warn(message: str) -> None:
    """A warning on stderr, in the terminal's warning colour."""
    typer.secho(message, fg=typer.colors.YELLOW, err=True)


def _fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's input or environment, shown without a traceback."""
    from retrieval.index import IndexNotFoundError
    from retrieval.loaders import CatalogFormatError
    from retrieval.models import ModelUnavailableError
    from retrieval.vector_store import StoreUnavailableError

    return (
        IndexNotFoundError,
        CatalogFormatError,
        ModelUnavailableError,
        StoreUnavailableError,
        ValueError,
        OSError,
    )


@app.command()
def ingest(
    catalog: Annotated[
        Path | None,
        typer.Argument(help="catalog file (.jsonl, .csv), or a folder of policy .md files"),
    ] = None,
    images: Annotated[
        Path | None, typer.Option("--images", help="folder the image paths are relative to")
    ] = None,
    mapping: Annotated[
        Path | None,
        typer.Option(
            "--mapping",
            help="how to read the catalog's columns (TOML); default: "
            "<catalog>.mapping.toml beside it",
        ),
    ] = None,
    lexicon: Annotated[
        Path | None,
        typer.Option(
            "--lexicon",
            help="the shop's own synonyms (TOML [synonyms]); default: "
            "<catalog>.lexicon.toml beside it",
        ),
    ] = None,
    index_dir: IndexDir = None,
    chroma_url: ChromaUrl = None,
    text_model: Annotated[
        str | None, typer.Option(help="minilm | mpnet | local folder | hub id")
    ] = None,
    image_model: Annotated[
        str | None, typer.Option(help="efficientnet-lite0 | none | CLIP folder or hub id")
    ] = None,
    as_json: AsJson = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="no progress bars")] = False,
    check: Annotated[
        bool, typer.Option("--check", help="verify the index instead (no catalog needed)")
    ] = False,
    rebuild: Annotated[
        bool, typer.Option("--rebuild", help="embed every product again, changed or not")
    ] = False,
) -> None:
    """Validate, embed and index a catalog (incremental: unchanged products are kept). The
    new index is written beside the live one and replaces it in one step."""
    settings = Settings().with_overrides(
        index_dir=index_dir, chroma_url=chroma_url, text_model=text_model, image_model=image_model
    )
    from retrieval.ingest import ingest as run_ingest

    if check:
        _check_index(settings, as_json)
        return
    if catalog is None:
        raise _fail("give a CATALOG to ingest (or --check to verify the index)")

    if catalog.is_dir() or catalog.suffix.lower() == ".md":
        _ingest_policies(catalog, settings, as_json)
        return
    if images is not None and not images.is_dir():
        raise _fail(f"--images {images}: not a folder")
    for name, path in (("--mapping", mapping), ("--lexicon", lexicon)):
        if path is not None and not path.is_file():
            raise _fail(f"{name} {path}: file not found")
    try:
        report = run_ingest(
            catalog,
            settings,
            images_dir=images,
            progress=not quiet and not as_json,
            mapping=mapping,
            lexicon_file=lexicon or settings.lexicon_file,
            rebuild=rebuild,
        )
    except _user_errors() as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    _print_ingest_report(report)


def _check_index(settings: Settings, as_json: bool) -> None:
    from retrieval.index import ProductIndex
    from retrieval.index_check import check_index

    report = check_index(ProductIndex(settings))
    if as_json:
        print(json.dumps({**report.model_dump(), "ok": report.ok}, indent=2))
    else:
        typer.echo(f"{report.index_dir} ({report.generation}): {report.products} products")
        for done in report.checked:
            typer.echo(f"  checked: {done}")
        for note in report.notes:
            typer.echo(f"  note: {note}")
        for problem in report.problems:
            _warn(f"  problem: {problem}")
        typer.echo("OK" if report.ok else f"{len(report.problems)} problems")
    if not report.ok:
        raise typer.Exit(1)


def _ingest_policies(folder: Path, settings: Settings, as_json: bool) -> None:
    """A folder of Markdown policies (or one file) → the index's policies collection."""
    from retrieval.index import ProductIndex
    from retrieval.models import resolve_device
    from retrieval.policies import PolicyIndex
    from retrieval.text_embedder import TextEmbedder

    index = ProductIndex(settings)
    # the catalog's text model when there is a catalog: one model to load per process
    model = index.manifest.text_model if index.exists() else settings.text_model
    try:
        report = PolicyIndex(settings, index.store).ingest(
            folder, TextEmbedder(model, resolve_device(settings.device))
        )
    except (*_user_errors(), FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    typer.echo(
        f"Ingested {report.documents} policy documents, {report.passages} passages "
        f"from {report.folder} → {index.dir / 'policies'}"
    )
    for err in report.errors:
        _warn(f"skipped: {err.reason}")


def _print_ingest_report(report) -> None:
    from rich.console import Console
    from rich.markup import escape  # catalog text is never rich markup ("[/]" in a title)
    from rich.table import Table

    console = Console()
    table = Table(
        title=escape(f"Ingested {report.catalog} → {report.index_dir}"), show_header=False
    )
    rate = report.texts_embedded / report.text_seconds if report.text_seconds else 0
    photo_rate = report.photos_encoded / report.image_seconds if report.image_seconds else 0
    rows = [
        ("rows read", report.rows_read),
        (
            "indexed",
            f"{report.indexed} ({report.added} new, {report.updated} updated, "
            f"{report.unchanged} unchanged; {report.hidden} hidden components)",
        ),
        ("removed", report.removed),
        ("skipped", len(report.skipped)),
        ("images missing", len(report.missing_images)),
        ("texts embedded", f"{report.texts_embedded} ({rate:.0f}/s)"),
        (
            "photos encoded",
            f"{report.photos_encoded} ({photo_rate:.1f}/s), {report.photos_reused} reused",
        ),
        ("time", f"{report.seconds:.1f} s"),
    ]
    for name, value in rows:
        table.add_row(name, str(value))
    console.print(table)
    if report.facets:
        facets = Table(title="Attributes, as read from the catalog", show_lines=False)
        for column in ("attribute", "type", "values", "products", "why"):
            facets.add_column(column)
        for f in report.facets:
            facets.add_row(escape(f.key), f.type, str(f.values), str(f.products), escape(f.why))
        console.print(facets)
    for err in report.skipped[:50]:
        console.print(
            f"[{typer.colors.YELLOW}]line {err.line}[/]: {escape(err.reason)}", highlight=False
        )
    for miss in report.missing_images[:50]:
        console.print(
            f"[{typer.colors.YELLOW}]image[/] "
            + escape(f"{miss.image} ({miss.product_id}): {miss.reason}"),
            highlight=False,
        )
    hidden = len(report.skipped) + len(report.missing_images) - 100
    if hidden > 0:
        console.print(f"… and {hidden} more (use --json for the full list)")


@app.command()
def search(
    text: Annotated[str, typer.Argument(help="what the shopper is looking for")] = "",
    image: Annotated[Path | None, typer.Option("--image", help="a photo to match")] = None,
    filters: Annotated[
        list[str] | None,
        typer.Option("--filter", "-f", help="key=value or key!=value; repeatable"),
    ] = None,
    k: Annotated[int, typer.Option("-k", help="how many products", min=1, max=1000)] = 10,
    index_dir: IndexDir = None,
    chroma_url: ChromaUrl = None,
    as_json: AsJson = False,
) -> None:
    """Hybrid search (BM25 + dense text + image signals) with hard filters."""
    if not text.strip() and image is None and not filters:
        raise _fail("give a query text, --image, or at least one --filter")
    settings = Settings().with_overrides(index_dir=index_dir, chroma_url=chroma_url)
    from ranking.model import load_ranker
    from retrieval.filter_syntax import parse_filters
    from retrieval.index import ProductIndex
    from retrieval.models import resolve_device
    from retrieval.schema import SearchRequest
    from retrieval.search import HybridSearcher

    try:
        index = ProductIndex(settings)
        parsed = parse_filters(filters or [], index.facets.keys())
        searcher = HybridSearcher(index)
        ranker, why = load_ranker(index.dir, resolve_device(settings.device))
        depth = k if ranker.name == "retrieval-order" else max(k, settings.rerank_depth)
        result = searcher.search(
            SearchRequest(
                text=text, image_path=str(image) if image else None, filters=parsed, k=depth
            )
        )
        items = ranker.rank(text, result.candidates)[:k]
    except _user_errors() as exc:
        raise _fail(str(exc)) from None
    if why:
        _warn(why)
    if as_json:
        print(
            json.dumps(
                _search_json(text, parsed, result, items, ranker.name), indent=2, ensure_ascii=False
            )
        )
        return
    _print_search(result, items, ranker.name)


def _search_json(text, filters, result, items, ranker: str) -> dict:
    return {
        "query": text,
        "filters": filters.model_dump(exclude_defaults=True),
        "total_matching": result.total_matching,
        "empty_reason": result.empty_reason,
        "ranker": ranker,  # "fine-tuned", or "retrieval-order" when none is trained
        "results": [
            {
                "id": c.product.id,
                "title": c.product.title,
                "price": c.product.price,
                "currency": c.product.currency,
                "available": c.product.available,
                "category": c.product.category,
                "facets": {k: c.product.values(k) for k in c.product.facet_keys()},
                "score": round(c.score, 6),
                "signals": {k: v.model_dump() for k, v in c.signals.items()},
                "matching_variants": [
                    v.model_dump(exclude_defaults=True) for v in c.matching_variants
                ],
            }
            for c in items
        ],
        "timings_ms": result.timings_ms,
    }


def _print_search(result, items, ranker: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    if not items:
        console.print(escape(f"No products: {result.empty_reason or 'nothing relevant found'}"))
        return
    table = Table(
        title=f"{len(items)} of {result.total_matching} matching products, ranked by {ranker}"
    )
    for col in ("#", "id", "title", "price", "category", "signals (rank)"):
        table.add_column(col)
    for i, c in enumerate(items, 1):
        signals = " ".join(f"{k}:{v.rank}" for k, v in c.signals.items())
        price = f"{c.product.price:.2f}" if c.product.price is not None else "—"
        cells = (c.product.id, c.product.title, price, c.product.category, signals)
        table.add_row(str(i), *map(escape, cells))
    console.print(table)
    console.print(f"[dim]{result.timings_ms.get('total_ms', 0):.1f} ms[/]")


@app.command()
def chat(
    script: Annotated[
        Path | None, typer.Option("--script", help='JSONL turns: {"text": ..., "image": ...}')
    ] = None,
    as_json: AsJson = False,
    index_dir: IndexDir = None,
    llm_model: LlmModel = None,
    llm_backend: Annotated[
        str | None, typer.Option(help="auto | llamacpp | transformers | openai")
    ] = None,
    llm_url: Annotated[str | None, typer.Option(help="OpenAI-compatible server URL")] = None,
    no_llm: NoLlm = False,
    session: Annotated[
        str | None,
        typer.Option("--session", help="resume this conversation (its id is printed at the start)"),
    ] = None,
) -> None:
    """Shop by conversation: interactive, or scripted turns with one JSON object per turn.
    Each run starts a new conversation unless --session names one to resume."""
    settings = Settings().with_overrides(
        index_dir=index_dir, llm_model=llm_model, llm_backend=llm_backend, llm_url=llm_url
    )
    from assistant.pipeline import Assistant

    try:
        assistant = Assistant(settings, use_llm=not no_llm)
    except _user_errors() as exc:
        raise _fail(str(exc)) from None
    for note in assistant.notes:
        _warn(note)
    if session is None:
        session = f"cli-{uuid.uuid4().hex[:12]}"
    elif not assistant.conversations.exists(session):
        raise _fail(f"no conversation {session!r} in this index's conversation store")
    _warn(f"conversation {session} (resume it with --session {session})")
    turns = _script_turns(script) if script else _typed_turns()
    for text, image in turns:
        streamed: list[str] = []

        def show(token: str, streamed: list[str] = streamed) -> None:
            streamed.append(token)
            print(token, end="", flush=True)

        try:
            reply = assistant.respond(
                session, text, image=image, on_token=None if (as_json or script) else show
            )
        except _user_errors() as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            continue
        if as_json:
            print(
                json.dumps(
                    {
                        "reply": reply.text,
                        "products": [i.product.id for i in reply.products],
                        "state": reply.state.model_dump(mode="json"),
                        "timings_ms": reply.timings_ms,
                        "intent": reply.intent,
                        "notes": reply.notes,
                    },
                    ensure_ascii=False,
                )
            )
        elif reply.text.startswith(shown := "".join(streamed)):
            print(reply.text[len(shown) :])  # what was added after streaming (a question)
        else:
            print(("\n(revised) " if streamed else "") + reply.text)


def _script_turns(path: Path):
    if not path.is_file():
        raise _fail(f"script not found: {path}")
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            text = row["text"] if isinstance(row, dict) else None
            if not isinstance(text, str):
                raise ValueError('expected {"text": "...", "image": "optional/path.jpg"}')
        except (json.JSONDecodeError, KeyError, ValueError) as exc:
            typer.secho(f"error: {path}:{number}: {exc}", fg=typer.colors.RED, err=True)
            continue
        yield text, row.get("image")


def _typed_turns():
    print("Aisle — type what you're looking for; an empty line or Ctrl-D ends.")
    while True:
        try:
            text = input("you> ").strip()
        except EOFError:
            return
        if not text:
            return
        image = None
        if text.startswith("/image "):
            image, _, text = text[7:].partition(" ")
        yield text, image


@app.command("suggest-reply")
def suggest_reply(
    conversation: Annotated[
        Path, typer.Argument(help='JSONL of {"role", "text"}, or plain "Customer: …" lines')
    ],
    as_json: AsJson = False,
    index_dir: IndexDir = None,
    llm_model: LlmModel = None,
    no_llm: NoLlm = False,
) -> None:
    """Suggested replies for a customer-service agent, grounded in catalog and policies."""
    settings = Settings().with_overrides(index_dir=index_dir, llm_model=llm_model)
    from assistant.agent.conversation import ConversationFormatError, load_conversation
    from assistant.agent.suggest import AgentAssistant
    from assistant.pipeline import Assistant

    try:
        messages = load_conversation(conversation)
        result = AgentAssistant(Assistant(settings, use_llm=not no_llm)).suggest(messages)
    except (*_user_errors(), ConversationFormatError) as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    typer.echo(f"Understood: {result.understood}  ({result.latency_ms / 1000:.1f} s)")
    for note in result.notes:
        _warn(note)
    for n, s in enumerate(result.suggestions, 1):
        typer.secho(f"\n{n}. {s.direction} ({s.source})", bold=True)
        typer.echo(s.text)
        for p in s.passages:
            typer.echo(f"   rests on: {p.cite()}")
        for c in s.products:
            typer.echo(f"   rests on: {c.title} ({c.product_id})")


@app.command()
def serve(
    host: Annotated[
        str | None, typer.Option(help="address to listen on [AISLE_SERVE_HOST]")
    ] = None,
    port: Annotated[int | None, typer.Option(help="port [AISLE_SERVE_PORT]")] = None,
    index_dir: IndexDir = None,
    llm_model: LlmModel = None,
    no_llm: NoLlm = False,
) -> None:
    """The shopper's chat page (Gradio), on the indexed catalog."""
    settings = Settings().with_overrides(
        index_dir=index_dir, serve_host=host, serve_port=port, llm_model=llm_model
    )
    from .serve import launch

    try:
        server = launch(settings, use_llm=not no_llm)
    except _user_errors() as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"Aisle is running at {server.url}  (Ctrl+C to stop)")
    typer.echo(server.ranking)
    if server.agent_url:
        typer.echo(f"Agent console: {server.agent_url}  (login required)")
    else:
        typer.echo("Agent console off: set AISLE_AGENT_USERS='[\"name:password\"]' to turn it on")
    server.block()


@app.command("llm-server")
def llm_server(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port")] = 8081,
    llm_model: LlmModel = None,
    parallel: Annotated[int, typer.Option(help="requests answered at once")] = 2,
) -> None:
    """llama.cpp's OpenAI-compatible server on a GGUF model, for several `aisle serve`
    workers to share: start them with AISLE_LLM_URL=http://HOST:PORT/v1."""
    settings = Settings().with_overrides(llm_model=llm_model)
    from assistant.llm import serve_llm
    from assistant.llm_models import LLMUnavailableError
    from retrieval.models import resolve_device

    try:
        address = serve_llm(settings, host, port, parallel, resolve_device(settings.device))
    except (*_user_errors(), LLMUnavailableError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"LLM server ({settings.llm_model}) at {address}/v1  (Ctrl+C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


@app.command()
def related(
    product_id: Annotated[str, typer.Argument(help="the product's id in the catalog")],
    k: Annotated[int, typer.Option("-k", help="products per list", min=1, max=50)] = 5,
    index_dir: IndexDir = None,
    as_json: AsJson = False,
) -> None:
    """What shoppers also looked at and what goes well with a product, from the event
    log's sessions (behaviour), filled with similar products (content) where it has too few."""
    settings = Settings().with_overrides(index_dir=index_dir)
    from ranking.co_engagement import VIEW_KINDS, CoEngagement
    from ranking.events import EventLog, EventLogUnavailableError
    from ranking.related import RelatedFinder
    from retrieval.index import ProductIndex

    try:
        index = ProductIndex(settings)
        try:
            log = EventLog(settings.event_log_location())
            co = CoEngagement.from_events(log.events(VIEW_KINDS))
        except EventLogUnavailableError as exc:
            _warn(f"{exc}; neighbours by content only")
            co = CoEngagement()
        found = RelatedFinder(index, co).related(product_id, k)
    except _user_errors() as exc:
        raise _fail(str(exc)) from None
    if as_json:
        print(found.model_dump_json(indent=2))
        return
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console()
    console.print(f"[bold]{escape(found.title)}[/] ({escape(found.product_id)})")
    for title, rows in (
        ("Shoppers who looked at this also looked at", found.also_viewed),
        ("Goes well with", found.goes_with),
    ):
        table = Table(title=title)
        for col in ("#", "id", "title", "from", "sessions", "score"):
            table.add_column(col)
        for i, n in enumerate(rows, 1):
            cells = (n.product_id, n.title, n.source, str(n.sessions or "—"), f"{n.score:.3f}")
            table.add_row(str(i), *map(escape, cells))
        console.print(table)
    for note in found.notes:
        console.print(f"[dim]{escape(note)}[/]")


@app.command("train-ranker")
def train_ranker(
    judged: Annotated[
        list[Path] | None,
        typer.Option("--judged", help="judged-pairs JSONL a shop already has (repeatable)"),
    ] = None,
    synthetic_queries: Annotated[
        int, typer.Option(help="template queries generated from the catalog")
    ] = 600,
    paraphrases: Annotated[
        int, typer.Option(help="LLM rewrites per synthetic query (slow on CPU; 0 = none)")
    ] = 0,
    events: Annotated[
        bool, typer.Option("--events/--no-events", help="learn from the event log too")
    ] = True,
    epochs: Annotated[int, typer.Option(help="encoder fine-tuning epochs")] = 1,
    since: Annotated[
        str | None,
        typer.Option(help="learn only from events at or after this date/time (ISO, UTC)"),
    ] = None,
    keep_encoder: Annotated[
        bool,
        typer.Option(
            "--keep-encoder",
            help="keep the current model's fine-tuned encoder, retrain the fusion on the "
            "events (minutes instead of tens of minutes: for a nightly job)",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="swap the new model in even if it is worse on held-out"),
    ] = False,
    index_dir: IndexDir = None,
    as_json: AsJson = False,
) -> None:
    """Train the ranking model for the indexed catalog and save it with a model card. A
    model already in place is replaced only if the new one is no worse on held-out queries."""
    settings = Settings().with_overrides(index_dir=index_dir)
    from ranking.events import EventLog, EventLogUnavailableError
    from ranking.judgments import load_judgments
    from ranking.train import TrainConfig, train
    from retrieval.index import ProductIndex
    from retrieval.models import resolve_device

    index = ProductIndex(settings)
    try:
        known = index.ids
        pairs = []
        for path in judged or []:
            good, bad = load_judgments(path, known)
            for row in bad:
                _warn(f"{path}:{row.line}: {row.reason} (skipped)")
            pairs += good
        logged = []
        if events:
            try:
                logged = list(EventLog(settings.event_log_location()).events())
            except EventLogUnavailableError as exc:
                _warn(f"{exc}; training without feedback")
        rewrite = _paraphraser(settings) if paraphrases else None
        device = resolve_device(settings.device)
        card = train(
            index,
            TrainConfig(
                synthetic_queries=synthetic_queries,
                paraphrases=paraphrases,
                epochs=epochs,
                since=_when(since),
                keep_encoder=keep_encoder,
                gate=not force,
            ),
            settings.text_model,
            device,
            judged=pairs,
            events=logged,
            rewrite=rewrite,
            progress=not as_json,
        )
    except _user_errors() as exc:
        raise _fail(str(exc)) from None
    kept = card.replaced is not None and not card.replaced.swapped
    if as_json:
        print(card.model_dump_json(indent=2))
    else:
        typer.echo(card.markdown())
        where = index.dir / ("ranker.rejected" if kept else "ranker")
        typer.echo(f"saved to {where}")
    if kept:
        _warn(
            f"not swapped in: held-out NDCG@10 {card.replaced.new_ndcg:.3f} < "
            f"{card.replaced.previous_ndcg:.3f} of the model in use, which stays "
            "(--force to swap anyway)"
        )


def _when(text: str | None):
    """An ISO date or date-time (UTC when no zone is given), or a clear error."""
    from datetime import UTC, datetime

    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise _fail(f"--since {text!r}: expected an ISO date such as 2026-11-01") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _sizes(text: str) -> list[int]:
    try:
        sizes = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise _fail(f"--sizes {text!r}: whole numbers separated by commas") from None
    if not sizes or min(sizes) < 0:
        raise _fail(f"--sizes {text!r}: at least one number, none negative")
    return sorted(set(sizes))


def _paraphraser(settings: Settings):
    """The chat LLM rewriting a template query the way shoppers type."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.llm import chat_json, make_chat_model
    from assistant.llm_models import LLMUnavailableError

    try:
        llm = make_chat_model(settings, settings.device)
    except LLMUnavailableError as exc:
        raise _fail(f"--paraphrases needs the LLM: {exc}") from None
    schema = {
        "type": "object",
        "properties": {"queries": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
        "required": ["queries"],
    }
    from assistant.examples import common_kind, common_value
    from retrieval.index import ProductIndex

    lexicon = ProductIndex(settings).lexicon  # the example is in this shop's own words
    value = common_value(lexicon)
    query = f"{value[1].casefold() + ' ' if value else ''}{common_kind(lexicon)}"
    system = (
        "Turn a shop search into two different chat messages a shopper might send, each a "
        "short sentence with a reason or occasion, keeping every product word and attribute "
        f'exactly. Example: "{query}" -> "I\'m looking for {query} for a weekend away", '
        f'"any {query} that would make a good gift?". Return JSON.'
    )

    def rewrite(text: str) -> list[str]:
        messages = [SystemMessage(content=system), HumanMessage(content=text)]
        return chat_json(llm, messages, schema, settings.llm_timeout_s, 80).get("queries", [])

    return rewrite


@app.command("eval")
def eval_(
    suites: Annotated[
        list[str] | None,
        typer.Argument(
            help="retrieval | dialogues | nlu | explain | simulate | replay | agent | "
            "learning (default: every suite that applies to the index; learning only when "
            "named)"
        ),
    ] = None,
    eval_set: Annotated[
        str | None,
        typer.Option(
            "--set",
            help="an eval set in evals/sets, or a folder of your own; its index must hold "
            "that set's catalog (default: the set written for the index's catalog, if any)",
        ),
    ] = None,
    split: Annotated[str, typer.Option(help="dev | test | all (a set's own cases)")] = "dev",
    judged: Annotated[
        Path | None,
        typer.Option(help="retrieval: your judged pairs (JSONL: query, product_id, grade)"),
    ] = None,
    script: Annotated[
        Path | None,
        typer.Option(help='dialogues: your scripted dialogues (JSONL: turns of "text", "expect")'),
    ] = None,
    conversations: Annotated[
        Path | None,
        typer.Option(help="agent: your conversations with required and forbidden facts"),
    ] = None,
    events: Annotated[
        str | None,
        typer.Option(help="replay: the event log (SQLAlchemy URL; default: the index's)"),
    ] = None,
    config: Annotated[
        list[Path] | None,
        typer.Option(help="a settings TOML to evaluate; repeat to compare side by side"),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            help="comma-separated readers to compare: rules, qwen2.5-0.5b, qwen2.5-1.5b, "
            "smollm2-135m (instead of --config)"
        ),
    ] = None,
    no_llm: Annotated[bool, typer.Option("--no-llm", help="rules and facts only")] = False,
    llm_every_turn: Annotated[
        bool, typer.Option(help="dialogues/nlu: also run the LLM on every turn")
    ] = False,
    targets: Annotated[int, typer.Option(min=1, help="simulate: target products")] = 30,
    runs: Annotated[int, typer.Option(min=1, help="simulate: runs per target (pass^k)")] = 2,
    max_turns: Annotated[int, typer.Option(min=1, max=20, help="simulate: turns")] = 5,
    seed: Annotated[int, typer.Option(help="simulate: targets and phrasing drawn by it")] = 0,
    paraphrase: Annotated[
        bool, typer.Option(help="simulate: the LLM rewords the shopper's messages")
    ] = False,
    sessions: Annotated[
        int, typer.Option(min=10, help="learning: simulated shopper sessions")
    ] = 2_000,
    sizes: Annotated[
        str,
        typer.Option(help="learning: sessions of log the ranker is retrained on (comma list)"),
    ] = "0,100,1000,10000",
    baseline: Annotated[
        Path | None, typer.Option(help="an earlier run's report.json: deltas with 95 % intervals")
    ] = None,
    fail_under: Annotated[
        list[str] | None,
        typer.Option(help="SUITE.METRIC=VALUE: exit 1 when below (a CI gate); repeatable"),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            help="folder for report.json and report.html (default: evals/run-<time> "
            "beside the index)"
        ),
    ] = None,
    index_dir: IndexDir = None,
) -> None:
    """Offline evaluation on your shop's own index, written to one report (JSON and HTML).
    `retrieval`: NDCG@10, Recall@10/50, MRR per signal, hybrid, hybrid + ranker.
    `dialogues`: scripted turns with zero products that break a stated constraint (and,
    on a set, intent accuracy and slot F1); `nlu`: the reading alone. `simulate`: shoppers
    generated from the catalog with hidden needs. `replay`: the event log's impressions
    re-ranked by this configuration. `agent`: suggested replies. `learning`: simulated
    shoppers with hidden preferences; "also looked at" and the ranker's learning curve."""
    import shlex
    from datetime import datetime

    from evals import report as rpt
    from evals.run import SUITES, EvalConfig, EvalPlan, default_suites
    from evals.run import run as run_plan
    from evals.sets import load_set, set_for_catalog
    from retrieval.index import ProductIndex

    unknown = set(suites or []) - set(SUITES)
    if unknown:
        raise _fail(
            f"unknown suite(s): {', '.join(sorted(unknown))}; available: {', '.join(SUITES)}"
        )
    if split not in ("dev", "test", "all"):
        raise _fail(f"--split {split!r}: use dev, test or all")
    if config and models:
        raise _fail("give --config files or --models, not both")
    try:
        bases = (
            [(p.stem, Settings.from_file(p)) for p in config]
            if config
            else [("default", Settings())]
        )
    except ValueError as exc:
        raise _fail(str(exc)) from None
    configs = []
    for name, base in bases:
        base = base.with_overrides(index_dir=index_dir)
        if models:
            for m in [m.strip() for m in models.split(",") if m.strip()]:
                rules = m in ("rules", "facts")
                configs.append(
                    EvalConfig(name=m, settings=base, use_llm=not rules, model=None if rules else m)
                )
        else:
            label = f"{name} (no LLM)" if no_llm else name
            configs.append(EvalConfig(name=label, settings=base, use_llm=not no_llm))
    for c in configs:  # each configuration's own index, and the set written for its catalog
        index = ProductIndex(c.settings)
        if not index.exists():
            raise _fail(f"no index in {c.settings.index_dir}: run `aisle ingest CATALOG` first")
        name = eval_set or set_for_catalog(index.manifest.catalog)
        if name:
            try:
                c.eval_set = load_set(name)
            except ValueError as exc:
                raise _fail(str(exc)) from None
    settings = configs[0].settings
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    plan = EvalPlan(
        suites=[],
        configs=configs,
        split=split,
        judged=judged,
        script=script,
        conversations=conversations,
        events_url=events,
        targets=targets,
        runs=runs,
        max_turns=max_turns,
        seed=seed,
        paraphrase=paraphrase,
        llm_every_turn=llm_every_turn,
        sessions=sessions,
        sizes=_sizes(sizes),
        out=out or settings.index_dir.parent / "evals" / f"run-{stamp}",
    )
    plan.suites = list(suites or default_suites(plan, events or settings.event_log_location()))
    needs_set = {"retrieval": judged, "dialogues": script, "nlu": None}
    unset = any(c.eval_set is None for c in configs)
    for suite in plan.suites:
        if suite in needs_set and unset and needs_set[suite] is None:
            flag = {"retrieval": "--judged FILE", "dialogues": "--script FILE"}.get(suite, "--set")
            raise _fail(f"{suite}: no eval set names this index's catalog: give {flag} or --set")
    try:
        old = rpt.load_run(baseline) if baseline else None
        for g in fail_under or []:
            rpt.parse_gate(g)
        result = run_plan(plan, say=lambda m: typer.secho(m, fg=typer.colors.BLUE, err=True))
    except (*_user_errors(), ValueError) as exc:
        raise _fail(str(exc)) from None
    result.command = "aisle eval " + shlex.join(sys.argv[2:])
    result.deltas = rpt.compare_configs(result.results)
    if old is not None:
        result.deltas += rpt.compare_baseline(result.results, old, baseline.name)
    ok = True
    if fail_under:
        try:
            result.gates, ok = rpt.check_gates(result.results, fail_under)
        except ValueError as exc:
            raise _fail(str(exc)) from None
    js, page = rpt.write(result, plan.out)
    print(rpt.headline_table(result))
    for r in result.results:
        for n in r.notes:
            print(f"  {r.suite} · {r.config}: {n}")
    for d in result.deltas:
        if d.delta == 0 and not d.better:
            continue  # unchanged: in the report's table
        ci = f" [{d.low:+.3f}, {d.high:+.3f}]" if d.low is not None else ""
        verdict = {True: "better", False: "worse", None: "within noise"}[d.better]
        verdict = verdict if d.low is not None else "(one number a run: no interval)"
        print(
            f"  {d.suite}.{d.metric} {d.candidate} vs {d.reference}: {d.delta:+.3f}{ci} {verdict}"
        )
    for g in result.gates:
        print(f"  gate {g}")
    print(f"\nreport: {page}\n        {js}  ({result.seconds:.0f} s)")
    if not ok:
        raise typer.Exit(code=1)


def main() -> None:  # pragma: no cover - `python -m ui.cli`
    app(prog_name="aisle")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
