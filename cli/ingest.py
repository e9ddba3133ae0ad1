"""`aisle ingest`: a catalog (JSONL, CSV, with a mapping) or a folder of policies into the index;
`--check` verifies the live generation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

from .app import AsJson, ChromaUrl, IndexDir, fail, user_errors, warn


# Long for its options (one typer parameter a flag, with its help); the body is ~40 lines.
def ingest(
    catalog: Annotated[
        str | None,
        typer.Argument(
            help="catalog file (.jsonl, .csv, .tsv, .xml feed) or its http(s) URL, or a "
            "folder of policy .md files"
        ),
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
    fetch_images: Annotated[
        bool,
        typer.Option(
            "--fetch-images/--no-fetch-images",
            help="download photos given by http(s) URL (cached in the index; checked: size, "
            "type, decoding; private addresses only with fetch_allow_private)",
        ),
    ] = True,
) -> None:
    """Validate, embed and index a catalog (incremental: unchanged products are kept). The
    new index is written beside the live one and replaces it in one step."""
    settings = Settings().with_overrides(
        index_dir=index_dir, chroma_url=chroma_url, text_model=text_model, image_model=image_model
    )
    if not fetch_images:
        settings = settings.with_overrides(fetch_images=False)
    from retrieval.ingest import ingest as run_ingest

    if check:
        _check_index(settings, as_json)
        return
    if catalog is None:
        raise fail("give a CATALOG to ingest (or --check to verify the index)")
    catalog = _local(catalog, settings)

    if catalog.is_dir() or catalog.suffix.lower() == ".md":
        _ingest_policies(catalog, settings, as_json)
        return
    if images is not None and not images.is_dir():
        raise fail(f"--images {images}: not a folder")
    for name, path in (("--mapping", mapping), ("--lexicon", lexicon)):
        if path is not None and not path.is_file():
            raise fail(f"{name} {path}: file not found")
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
    except user_errors() as exc:
        raise fail(str(exc)) from None
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
            warn(f"  problem: {problem}")
        typer.echo("OK" if report.ok else f"{len(report.problems)} problems")
    if not report.ok:
        raise typer.Exit(1)


def _ingest_policies(folder: Path, settings: Settings, as_json: bool) -> None:
    """A folder of Markdown policies (or one file) → the index's policies collection."""
    from retrieval.index import ProductIndex
    from retrieval.models import resolve_device
    from retrieval.policies import PolicyIndex
    from retrieval.text_embedder import TextEmbedder

    rules = _service_rules(Path(folder))  # checked first: a bad file changes nothing
    index = ProductIndex(settings)
    # the catalog's text model when there is a catalog: one model to load per process
    model = index.manifest.text_model if index.exists() else settings.text_model
    try:
        report = PolicyIndex(settings, index.store).ingest(
            folder, TextEmbedder(model, resolve_device(settings.device))
        )
    except (*user_errors(), FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    kept = index.dir / "policies" / "service-rules.toml"
    if rules is not None:  # kept with the index: the console checks actions against them
        import shutil

        shutil.copyfile(rules[0], kept)
    if as_json:
        print(report.model_dump_json(indent=2))
        return
    typer.echo(
        f"Ingested {report.documents} policy documents, {report.passages} passages "
        f"from {report.folder} → {index.dir / 'policies'}"
    )
    for err in report.errors:
        warn(f"skipped: {err.reason}")
    if rules is not None:
        typer.echo(f"Service rules: {len(rules[1].actions)} actions from {rules[0]} → {kept}")


def _local(catalog: str, settings: Settings) -> Path:
    """The catalog as a file: a feed by URL is downloaded first (into the index folder's
    `feeds/`, with the checks photos get), then ingested like any file."""
    if not catalog.startswith(("http://", "https://")):
        return Path(catalog)
    from retrieval.photo_fetch import FetchRefused, fetch_feed

    try:
        return fetch_feed(
            catalog, Path(settings.index_dir).expanduser() / "feeds", settings.fetch_allow_private
        )
    except FetchRefused as exc:
        raise fail(f"feed {catalog}: {exc}") from None


def _service_rules(folder: Path):
    """The shop's service rules beside its policies (`service-rules.toml`), checked."""
    from orders.rules import RulesError, load_rules

    path = folder / "service-rules.toml" if folder.is_dir() else None
    if path is None or not path.is_file():
        return None
    try:
        return path, load_rules(path)
    except RulesError as exc:
        raise fail(str(exc)) from None


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
        (
            "photos by URL",
            f"{report.photos_downloaded} downloaded, {report.photos_revalidated} unchanged",
        ),
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
