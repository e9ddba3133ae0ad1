"""The `aisle` command itself and what its commands share: the options every command takes
and how an error reaches the user (a message, never a traceback)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

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


def warn(message: str) -> None:
    """A warning on stderr, in the terminal's warning colour."""
    typer.secho(message, fg=typer.colors.YELLOW, err=True)


def fail(message: str) -> typer.Exit:
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=2)


def user_errors() -> tuple[type[Exception], ...]:
    """Errors that are the user's input or environment, shown without a traceback."""
    from base.stores import StoreUnavailableError  # Chroma, the event log, the conversations
    from retrieval.index import IndexNotFoundError
    from retrieval.loaders import CatalogFormatError
    from retrieval.models import ModelUnavailableError

    return (
        IndexNotFoundError,
        CatalogFormatError,
        ModelUnavailableError,
        StoreUnavailableError,
        ValueError,
        OSError,
    )
