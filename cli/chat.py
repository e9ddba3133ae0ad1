"""`aisle chat`: a conversation in the terminal, typed or scripted (one message a line)."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

from .app import AsJson, IndexDir, LlmModel, NoLlm, fail, user_errors, warn


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
    except user_errors() as exc:
        raise fail(str(exc)) from None
    for note in assistant.notes:
        warn(note)
    if session is None:
        session = f"cli-{uuid.uuid4().hex[:12]}"
    elif not assistant.parts.conversations.exists(session):
        raise fail(f"no conversation {session!r} in this index's conversation store")
    warn(f"conversation {session} (resume it with --session {session})")
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
        except user_errors() as exc:
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
        raise fail(f"script not found: {path}")
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
