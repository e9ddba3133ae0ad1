"""`aisle suggest-reply`: the agent console's suggested replies for a conversation in a file."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

from .app import AsJson, IndexDir, LlmModel, NoLlm, fail, user_errors, warn


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
        result = AgentAssistant(Assistant(settings, use_llm=not no_llm).live).suggest(messages)
    except (*user_errors(), ConversationFormatError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        print(result.model_dump_json(indent=2))
        return
    typer.echo(f"Understood: {result.understood}  ({result.latency_ms / 1000:.1f} s)")
    for note in result.notes:
        warn(note)
    for n, s in enumerate(result.suggestions, 1):
        typer.secho(f"\n{n}. {s.direction} ({s.source})", bold=True)
        typer.echo(s.text)
        for p in s.passages:
            typer.echo(f"   rests on: {p.cite()}")
        for c in s.products:
            typer.echo(f"   rests on: {c.title} ({c.product_id})")
