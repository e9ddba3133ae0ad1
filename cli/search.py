"""`aisle search`: the search box from the command line: hybrid search, the ranker, filters in
their own syntax."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

from .app import AsJson, ChromaUrl, IndexDir, fail, user_errors, warn


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
        raise fail("give a query text, --image, or at least one --filter")
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
    except user_errors() as exc:
        raise fail(str(exc)) from None
    if why:
        warn(why)
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
