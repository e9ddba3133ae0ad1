"""`aisle serve`: the shopper's page at / and, when agent logins are configured, the
agent console at /agent behind Gradio's login (the console's page and its API refuse
requests without a session). One uvicorn server; Gradio's analytics off."""

from __future__ import annotations

import logging
import os
import threading
import time

from assistant.config import Settings


class Server:
    """A running `aisle serve`: `url`, `agent_url` (None when the console is off),
    `block()` until Ctrl+C, `close()`."""

    def __init__(
        self,
        server,
        thread: threading.Thread,
        url: str,
        agent_url: str | None,
        ranking: str = "",
    ):
        self._server, self._thread = server, thread
        self.url, self.agent_url, self.ranking = url, agent_url, ranking

    def block(self) -> None:
        try:
            while self._thread.is_alive():
                self._thread.join(0.5)
        except KeyboardInterrupt:
            self.close()

    def close(self) -> None:
        self._server.should_exit = True
        self._thread.join(10)


def logins(settings: Settings) -> list[tuple[str, str]]:
    out = []
    for entry in settings.agent_users:
        name, sep, password = entry.partition(":")
        if not sep or not name or not password:
            raise ValueError(f'agent_users entry {entry!r}: expected "name:password"')
        out.append((name, password))
    return out


def launch(settings: Settings, use_llm: bool = True) -> Server:
    # before gradio is imported: it reads this at import time
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    # Gradio's queue recomputes a pandas summary of its last 10,000 events after every
    # event (for its monitoring page, which Aisle does not mount): 5-6 % of the server's
    # CPU in a py-spy profile under load, growing with the events kept. Read when the
    # queue is made; an operator's own setting wins.
    os.environ.setdefault("GRADIO_ANALYTICS_CACHE_FREQUENCY", "1000")
    os.environ.setdefault("GRADIO_ANALYTICS_MAX_EVENTS", "1000")
    import gradio as gr
    import uvicorn
    from fastapi import FastAPI

    from assistant.agent.suggest import AgentAssistant
    from assistant.pipeline import Assistant

    from .agent_app import build_agent_app
    from .app import build_app
    from .security import ExpiringTokens, Guarded, LoginGuard

    assistant = Assistant(settings, use_llm=use_llm)
    # the reader's fixed prompt is computed while the page starts, not in the first unsure turn
    threading.Thread(target=assistant.parts.interpreter.warm, daemon=True, name="llm-warm").start()
    theme = gr.themes.Soft()
    app = FastAPI()
    agent_logins = logins(settings)

    def mount(blocks: gr.Blocks, path: str, **extra) -> None:
        nonlocal app
        app = _mount(app, blocks, path, settings, assistant.parts.index.photos_dir, theme, **extra)

    if agent_logins:  # mounted first: "/" would otherwise catch /agent
        mount(
            build_agent_app(AgentAssistant(assistant.live)),
            "/agent",
            auth=agent_logins,
            auth_message="Aisle agent console: sign in with your agent login.",
        )
        console = next(r.app for r in app.routes if getattr(r, "path", "") == "/agent")
        console.tokens = ExpiringTokens(settings.agent_session_s)  # sign-ins expire
    mount(build_app(assistant), "")
    guard = LoginGuard(dict(agent_logins)) if agent_logins else None
    config = uvicorn.Config(
        Guarded(
            app,
            guard,
            login_paths={"/agent/login"},
            worker=settings.serve_worker or f"{settings.serve_host}:{settings.serve_port}",
            max_body=settings.serve_max_request_kb * 1024,
        ),
        host=settings.serve_host,
        port=settings.serve_port,
        log_level="warning",
        # X-Forwarded-For only from the proxies named (uvicorn trusts loopback by default)
        proxy_headers=bool(settings.trusted_proxies),
        forwarded_allow_ips=",".join(settings.trusted_proxies) or "",
    )
    server, thread = _serve(config, settings)
    url = f"http://{settings.serve_host}:{settings.serve_port}/"
    agent_url = url + "agent/" if agent_logins else None
    return Server(server, thread, url, agent_url, assistant.ranker_summary())


def _mount(app, blocks, path: str, settings: Settings, photos_dir, theme, **extra):
    """A page on the app, queued, serving the catalog's photos and nothing else."""
    import gradio as gr

    from .app import CSS

    blocks.queue(default_concurrency_limit=settings.serve_concurrency)
    app = gr.mount_gradio_app(
        app,
        blocks,
        path=path,
        allowed_paths=[str(photos_dir)],  # the catalog's photos, nothing else
        max_file_size=f"{settings.serve_max_upload_mb}mb",
        theme=theme,
        css=CSS,
        show_error=False,
        footer_links=[],
        **extra,
    )
    # Gradio checks a request's file paths (uploads only, on the way in; allowed paths
    # on the way out) only once `has_launched` is set, which `launch()` does and
    # `mount_gradio_app` does not: without this, a path posted to the queue is copied
    # and served back.
    blocks.has_launched = True
    _unknown_api_names_are_404(app, path)
    return app


def _unknown_api_names_are_404(app, path: str) -> None:
    """An API name or function index the page does not have answers 404, not 500 (Gradio
    raises while looking it up)."""
    from fastapi.responses import JSONResponse, PlainTextResponse
    from gradio.route_utils import FnIndexInferError

    async def not_found(request, exc):
        return JSONResponse({"detail": f"no such API endpoint: {exc}"}, status_code=404)

    async def unknown_index(request, exc):
        # the queue looks a posted fn_index up with `fns[i]`; any other KeyError stays a 500
        if request.url.path.endswith("/queue/join") and isinstance(exc.args[0], int):
            return await not_found(request, f"function index {exc.args[0]}")
        logging.getLogger(__name__).error("%s %s", request.method, request.url.path, exc_info=exc)
        return PlainTextResponse("Internal Server Error", status_code=500)

    for route in app.routes:
        if getattr(route, "path", None) == path and hasattr(route, "app"):
            route.app.add_exception_handler(FnIndexInferError, not_found)
            route.app.add_exception_handler(KeyError, unknown_index)


def _serve(config, settings: Settings):
    """The server started on its own thread, once it listens (or an error naming the port)."""
    import uvicorn

    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 60
    while not server.started:
        if not thread.is_alive() or time.time() > deadline:
            raise OSError(
                f"could not listen on {settings.serve_host}:{settings.serve_port} "
                "(in use? try --port)"
            )
        time.sleep(0.05)
    return server, thread
