"""The `aisle` command, one module per command: the composition root that wires retrieval,
ranking, the assistant, the pages and the eval suites, the top floor of the house. Heavy
imports happen inside the commands, so `aisle --help` is instant."""

from . import (
    chat,
    evaluate,
    ingest,
    orders,
    precedents,
    related,
    search,
    serve,
    suggest_reply,
    train_ranker,
)
from .app import app

# the commands, in the order `aisle --help` lists them
app.command()(ingest.ingest)
app.command()(search.search)
app.command()(chat.chat)
app.command("suggest-reply")(suggest_reply.suggest_reply)
app.add_typer(orders.app, name="orders")
app.add_typer(precedents.app, name="precedents")
app.command()(serve.serve)
app.command("llm-server")(serve.llm_server)
app.command()(related.related)
app.command("train-ranker")(train_ranker.train_ranker)
app.command("eval")(evaluate.eval_)

__all__ = ["app"]
