"""`aisle train-ranker`: fine-tune the ranking model on the catalog's judged or synthetic queries
(and the event log)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from assistant.config import Settings

from .app import AsJson, IndexDir, fail, user_errors, warn


# Long for its options (one typer parameter a flag, with its help); the body is ~55 lines.
def train_ranker(
    judged: Annotated[
        list[Path] | None,
        typer.Option("--judged", help="judged-pairs JSONL a shop already has (repeatable)"),
    ] = None,
    synthetic_queries: Annotated[
        int, typer.Option(help="template queries generated from the catalog")
    ] = 600,
    paraphrases: Annotated[
        int, typer.Option(help="LLM rewrites per synthetic query (slow on CPU; 0 = none)")
    ] = 0,
    events: Annotated[
        bool, typer.Option("--events/--no-events", help="learn from the event log too")
    ] = True,
    epochs: Annotated[int, typer.Option(help="encoder fine-tuning epochs")] = 1,
    since: Annotated[
        str | None,
        typer.Option(help="learn only from events at or after this date/time (ISO, UTC)"),
    ] = None,
    keep_encoder: Annotated[
        bool,
        typer.Option(
            "--keep-encoder",
            help="keep the current model's fine-tuned encoder, retrain the fusion on the "
            "events (minutes instead of tens of minutes: for a nightly job)",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="swap the new model in even if it is worse on held-out"),
    ] = False,
    index_dir: IndexDir = None,
    as_json: AsJson = False,
) -> None:
    """Train the ranking model for the indexed catalog and save it with a model card. A
    model already in place is replaced only if the new one is no worse on held-out queries."""
    settings = Settings().with_overrides(index_dir=index_dir)
    from ranking.events import EventLog, EventLogUnavailableError
    from ranking.judgments import load_judgments
    from ranking.train import TrainConfig, train
    from retrieval.index import ProductIndex
    from retrieval.models import resolve_device

    index = ProductIndex(settings)
    try:
        known = index.ids
        pairs = []
        for path in judged or []:
            good, bad = load_judgments(path, known)
            for row in bad:
                warn(f"{path}:{row.line}: {row.reason} (skipped)")
            pairs += good
        logged = []
        if events:
            try:
                logged = list(EventLog(settings.event_log_location()).events())
            except EventLogUnavailableError as exc:
                warn(f"{exc}; training without feedback")
        rewrite = _paraphraser(settings) if paraphrases else None
        device = resolve_device(settings.device)
        card = train(
            index,
            TrainConfig(
                synthetic_queries=synthetic_queries,
                paraphrases=paraphrases,
                epochs=epochs,
                since=_when(since),
                keep_encoder=keep_encoder,
                gate=not force,
            ),
            settings.text_model,
            device,
            judged=pairs,
            events=logged,
            rewrite=rewrite,
            progress=not as_json,
        )
    except user_errors() as exc:
        raise fail(str(exc)) from None
    kept = card.replaced is not None and not card.replaced.swapped
    if as_json:
        print(card.model_dump_json(indent=2))
    else:
        typer.echo(card.markdown())
        where = index.dir / ("ranker.rejected" if kept else "ranker")
        typer.echo(f"saved to {where}")
    if kept:
        warn(
            f"not swapped in: held-out NDCG@10 {card.replaced.new_ndcg:.3f} < "
            f"{card.replaced.previous_ndcg:.3f} of the model in use, which stays "
            "(--force to swap anyway)"
        )


def _when(text: str | None):
    """An ISO date or date-time (UTC when no zone is given), or a clear error."""
    from datetime import UTC, datetime

    if text is None:
        return None
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise fail(f"--since {text!r}: expected an ISO date such as 2026-11-01") from None
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _paraphraser(settings: Settings):
    """The chat LLM rewriting a template query the way shoppers type."""
    from langchain_core.messages import HumanMessage, SystemMessage

    from assistant.llm import chat_json, make_chat_model
    from assistant.llm_models import LLMUnavailableError

    try:
        llm = make_chat_model(settings, settings.device)
    except LLMUnavailableError as exc:
        raise fail(f"--paraphrases needs the LLM: {exc}") from None
    schema = {
        "type": "object",
        "properties": {"queries": {"type": "array", "items": {"type": "string"}, "maxItems": 3}},
        "required": ["queries"],
    }
    from assistant.examples import common_kind, common_value
    from retrieval.index import ProductIndex

    lexicon = ProductIndex(settings).lexicon  # the example is in this shop's own words
    value = common_value(lexicon)
    query = f"{value[1].casefold() + ' ' if value else ''}{common_kind(lexicon)}"
    system = (
        "Turn a shop search into two different chat messages a shopper might send, each a "
        "short sentence with a reason or occasion, keeping every product word and attribute "
        f'exactly. Example: "{query}" -> "I\'m looking for {query} for a weekend away", '
        f'"any {query} that would make a good gift?". Return JSON.'
    )

    def rewrite(text: str) -> list[str]:
        messages = [SystemMessage(content=system), HumanMessage(content=text)]
        return chat_json(llm, messages, schema, settings.llm_timeout_s, 80).get("queries", [])

    return rewrite
