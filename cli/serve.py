"""`aisle serve` (the shopper page and the agent console) and `aisle llm-server` (a llama.cpp
server for several workers)."""

from __future__ import annotations

import time
from typing import Annotated

import typer

from assistant.config import Settings

from .app import IndexDir, LlmModel, NoLlm, fail, user_errors


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
    from ui.serve import launch

    try:
        server = launch(settings, use_llm=not no_llm)
    except user_errors() as exc:
        raise fail(str(exc)) from None
    typer.echo(f"Aisle is running at {server.url}  (Ctrl+C to stop)")
    typer.echo(server.ranking)
    if server.agent_url:
        typer.echo(f"Agent console: {server.agent_url}  (login required)")
    else:
        typer.echo("Agent console off: set AISLE_AGENT_USERS='[\"name:password\"]' to turn it on")
    server.block()


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
    except (*user_errors(), LLMUnavailableError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"LLM server ({settings.llm_model}) at {address}/v1  (Ctrl+C to stop)")
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
