"""`aisle precedents import`: the shop's resolved conversations, shown in the console as
the closest cases beside its suggestions (every reply an agent uses or edits is added)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

from .app import IndexDir, fail, user_errors, warn

app = typer.Typer(
    help="Resolved conversations, shown as precedents in the console.", no_args_is_help=True
)


@app.command("import")
def import_precedents(
    path: Annotated[
        Path,
        typer.Argument(
            help='JSONL, a resolved conversation a line: {"messages": [{"role", "text"}, …] '
            'or "conversation": "Customer: …\\nAgent: …", and "reply" (default: the last '
            "agent message)}"
        ),
    ],
    index_dir: IndexDir = None,
) -> None:
    """Add a file's resolved conversations (redacted) to the precedents; bad lines are
    reported with their number."""
    from assistant.agent.precedents import PrecedentStore, read_precedents

    settings = Settings().with_overrides(index_dir=index_dir)
    if not path.is_file():
        raise fail(f"{path}: no such file")
    try:
        pairs, bad = read_precedents(path)
        store = PrecedentStore(settings.precedents_location())
        store.add_many(pairs, "imported")
    except user_errors() as exc:
        raise fail(str(exc)) from None
    typer.echo(f"Imported {len(pairs)} resolved conversations → {store.where}")
    for line in bad:
        warn(f"skipped {line}")
