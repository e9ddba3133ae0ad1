"""One turn of the conversation, on one screen:

    admit → interpret → update the state → route by intent → (search → rank → write) → record

Every stage reads and adds to one `TurnContext`; the handlers that `ROUTES` names return an
`Outcome`, and `record` makes it the `Reply` (saved, logged). The conversation is read once
per turn, when the turn takes its lock."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable

from base.privacy import redacted, without_contact_details

from .chips import chips_of
from .context import Outcome, TurnContext
from .find import find
from .on_shown import answer, related_list
from .parts import Parts
from .records import DialogueState, Reply, TurnInterpretation
from .state import apply_turn, ranking_query
from .understanding import Interpretation
from .understanding.words import Message

Handler = Callable[[Parts, TurnContext], Outcome]
# the intents that search; every other intent acts on the products shown (on_shown.py)
ROUTES: dict[str, Handler] = {
    "search": find,
    "refine": find,
    "clarify_answer": find,
    "related": related_list,
}


def run_turn(
    parts: Parts,
    session: str,
    message: str,
    image: str | None = None,
    on_token: Callable[[str], None] | None = None,
) -> Reply:
    text, said = admit(message, parts.settings.max_message_chars)
    with parts.conversations.lock(session):
        started = time.perf_counter()
        before = parts.conversations.load(session)
        message = Message.of(text)  # tokenised once: every reader of the turn takes it
        reading = interpret(parts, message, image, before)
        state = apply_turn(before, reading.turn, parts.view)
        ctx = TurnContext(session, message, before, reading.turn, state, image, on_token, said)
        ctx.timings["interpret_ms"] = round((time.perf_counter() - started) * 1000, 1)
        if reading.llm_first_token_ms is not None:  # the LLM read this turn
            ctx.timings["llm_first_token_ms"] = round(reading.llm_first_token_ms, 1)
        ctx.notes = [*parts.notes, *reading.notes, *ctx.turn.notes]
        ctx.read_by_llm, ctx.llm_invented = reading.llm_called, reading.llm_invented
        return respond(parts, ctx)


def rerun(
    parts: Parts,
    session: str,
    change: Callable[[DialogueState], DialogueState],
    on_token: Callable[[str], None] | None = None,
) -> Reply:
    """The conversation's constraints changed by a chip, and the search run again."""
    with parts.conversations.lock(session):
        before = parts.conversations.load(session)
        turn = TurnInterpretation(intent="refine", source="chip", certain=True)
        ctx = TurnContext(session, Message.of(""), before, turn, change(before), on_token=on_token)
        ctx.notes = list(parts.notes)
        return respond(parts, ctx)


def respond(parts: Parts, ctx: TurnContext) -> Reply:
    ctx.restart_clock()  # the stages below are timed by laps
    outcome = ROUTES.get(ctx.turn.intent, answer)(parts, ctx)
    ctx.lap("respond")
    return record(parts, ctx, outcome)


def admit(message: str, limit: int) -> tuple[str, list[str]]:
    """The message as the turn may use it: bounded in length, so one shopper cannot stall
    the others, and without e-mail addresses or card and phone numbers, which no search
    needs and nothing (state, log, conversation store) should keep."""
    said = []
    if len(message) > limit:
        message = message[:limit]
        said.append(f"(Your message was long, so I read its first {limit:,} characters.)")
    message, removed = redacted(message)
    if removed:
        message = without_contact_details(message)
        said.append(
            "(I left out the contact or card details in your message: "
            "I don't need them to find products.)"
        )
    return message, said


def interpret(
    parts: Parts, message: Message, image: str | None, before: DialogueState
) -> Interpretation:
    if image and not message.text.strip():  # a photo alone: "something like this", afresh
        reading = Interpretation(turn=TurnInterpretation(intent="search", remove=["all"]))
    else:
        reading = parts.interpreter.interpret(message, before)
    if image and reading.turn.intent not in ("search", "refine"):
        reading.turn = reading.turn.model_copy(update={"intent": "search"})
    return reading


def record(parts: Parts, ctx: TurnContext, out: Outcome) -> Reply:
    """The reply, with what it showed logged for the ranker and the conversation saved."""
    ctx.timings["total_ms"] = round(
        sum(v for k, v in ctx.timings.items() if k != "llm_first_token_ms"), 1
    )
    state, reply_id = ctx.state, uuid.uuid4().hex
    if out.reasons:  # a list the shopper saw: what was shown, for the ranker's training data
        state.shown_reply = reply_id
        shown_as = f"related:{ctx.turn.related}" if ctx.turn.intent == "related" else "search"
        query = ranking_query(state)
        ctx.notes += parts.feedback.impressions(
            ctx.session, reply_id, ctx.message.text, out.items, state, query, shown_as
        )
    for line in state.cart[len(ctx.before.cart) :]:  # added in chat ("add the first one")
        ctx.notes += parts.feedback.record(
            ctx.session, "cart_add", state.shown_reply, line.product_id, state
        )
    parts.conversations.save(ctx.session, state)
    return Reply(
        text="\n".join([*ctx.said, out.text]),
        intent=ctx.turn.intent,
        reply_id=reply_id,
        products=out.items,
        reasons=out.reasons,
        explanations=out.explanations,
        reasons_by_llm=out.by_llm,
        table=out.table,
        chips=chips_of(state, parts.lexicon.currency),
        filters=out.filters,
        state=state,
        interpretation=ctx.turn,
        notes=ctx.notes,
        timings_ms=ctx.timings,
        read_by_llm=ctx.read_by_llm,
        llm_invented=ctx.llm_invented,
    )
