"""`aisle related`: what shoppers also looked at and what goes with a product (event log)."""

from __future__ import annotations

from typing import Annotated

import typer

from assistant.config import Settings

from .app import AsJson, IndexDir, fail, user_errors, warn


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
            warn(f"{exc}; neighbours by content only")
            co = CoEngagement()
        found = RelatedFinder(index, co).related(product_id, k)
    except user_errors() as exc:
        raise fail(str(exc)) from None
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
