"""`aisle serve`: the page on the configured host and port, Gradio analytics off."""

from __future__ import annotations

import os

from assistant.config import Settings


def launch(settings: Settings, use_llm: bool = True):
    """Starts the server in the background; returns (demo, local URL). Block with
    `demo.block_thread()`, stop with `demo.close()`."""
    # before gradio is imported: it reads this at import time
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    import gradio as gr

    from assistant.pipeline import Assistant

    from .app import CSS, build_app

    assistant = Assistant(settings, use_llm=use_llm)
    demo = build_app(assistant)
    demo.queue(default_concurrency_limit=settings.serve_concurrency)
    app, local_url, _ = demo.launch(
        server_name=settings.serve_host,
        server_port=settings.serve_port,
        allowed_paths=[str(assistant.index.photos_dir)],  # the catalog's photos, nothing else
        css=CSS,
        theme=gr.themes.Soft(),
        footer_links=[],
        prevent_thread_lock=True,
        quiet=True,
    )
    return demo, local_url
