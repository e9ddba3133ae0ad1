"""The turns that search (search, refine, the answer to a question asked): the evidence
decides what filters (evidence.py), the hybrid search fetches, the ranker orders, the
writer says why; or a plain answer when the shop does not sell the kind asked for, or
the message was not understood."""

from __future__ import annotations

from collections import Counter

from retrieval.schema import SearchRequest, SearchResult

from . import evidence
from .chips import best_relaxation
from .context import Outcome, TurnContext
from .parts import Parts
from .records import DialogueState
from .state import ranking_query
from .understanding.clarify import clarifying_question
from .understanding.unknown import foreign
from .wording import describe_constraints, shown_items

NEAR_COSINE = 0.35  # a product this close to the words asked for is worth offering instead


def find(parts: Parts, ctx: TurnContext) -> Outcome:
    turn = ctx.turn
    if turn.unsold and not turn.constraints.categories and not ctx.image:
        return Outcome(not_sold(parts, turn.unsold))  # a kind this catalog never names
    if (
        turn.not_understood
        and not ctx.image
        and not turn.constraints.slots()
        and foreign(ctx.message)
    ):
        said = sorted(dict.fromkeys(turn.not_understood), key=len, reverse=True)[:4]
        words = ", ".join(f"“{w}”" for w in said)
        return Outcome(
            f"Sorry, I didn't understand {words}. Could you tell me in other words "
            "what you're looking for?"
        )
    return search_rank_write(parts, ctx)


def search_rank_write(parts: Parts, ctx: TurnContext) -> Outcome:
    state, shown = ctx.state, parts.settings.results_per_turn
    trained = parts.ranker.name != "retrieval-order"
    depth = max(shown, parts.settings.rerank_depth) if trained else shown
    weighed, result, loose, closest = weighed_search(parts, ctx, shown, depth)
    ctx.lap("search")
    history = [p for pid in state.engaged[-10:] if (p := parts.index.product(pid))]
    # the ranker scores against what filtered and the words searched, not soft kinds' names
    query = ranking_query(weighed.described())
    ranked = parts.ranker.rank(query, result.candidates, history)
    items = ranked[:shown]
    if weighed.inferred and loose is not None and len(items) == 1 < shown:
        # an inferred value left one product: those it removed as close fill the reply
        have = {i.product.id for i in items}
        extra = [c for c in loose.candidates if c.product.id not in have]
        extra = evidence.close_enough(extra, items)
        extra = parts.ranker.rank(query, extra, history)[: shown - len(items)]
        if extra:
            ctx.notes.append(f"{len(items)} matched; {len(extra)} close products added")
            items = [*items, *(i.model_copy(update={"fill": True}) for i in extra)]
    ctx.lap("rank")
    # the values that filtered this reply are chips the shopper sees: kept, they are
    # theirs; the soft ones are marked on the chips, as long as the conversation lasts
    state.explicit = list(dict.fromkeys([*state.explicit, *weighed.inferred]))
    state.soft = list(weighed.soft)
    if not items:
        return Outcome(nothing_matches(parts, state, result), filters=weighed.hard.filters)
    intro = (
        f"Here are {len(items)} products like your photo:"
        if ctx.image and not ctx.message.text.strip()
        else closest
    )
    # the reply describes the filters applied; the soft values are words it looks for
    told = weighed.described() if weighed.soft else state
    written = parts.writer.write_products(ctx.message.text, items, told, ctx.on_token, intro)
    text = written.text
    ctx.notes += written.notes
    if ctx.turn.intent == "search" and (
        asked := clarifying_question(
            [i.product for i in ranked[:20]], state, parts.lexicon, result.total_matching, shown
        )
    ):
        text += f"\n{asked[0]}"
        state.asked.append(asked[1])
        state.asked_at = state.turns
    state.shown = shown_items(items)
    return Outcome(
        text,
        items,
        written.reasons,
        written.explanations,
        written.by_llm,
        filters=weighed.hard.filters,
    )


def weighed_search(parts: Parts, ctx: TurnContext, shown: int, depth: int):
    """The search with what the evidence lets filter (evidence.py) → (the evidence as
    applied, the result, the search without the inferred values or None, the line that
    opens a reply whose inferred values contradicted each other)."""
    state, view = ctx.state, parts.view
    weighed = evidence.weigh(state, parts.lexicon, view, parts.settings.inferred_values)

    def search(ev: evidence.Evidence, k: int) -> SearchResult:
        request = SearchRequest(
            text=ev.need,
            image_path=ctx.image,
            filters=ev.hard.filters,
            k=k,
            colors=ctx.turn.colors or None,
        )
        found = parts.searcher.search(request)
        ranked = evidence.shun(evidence.lift(found.candidates, ev.soft), state.avoid)
        return found.model_copy(update={"candidates": ranked})

    # soft values lift, never remove: fetch deep enough for the lift to reach the top
    deep = max(depth, 4 * shown)
    result = search(weighed, deep if weighed.soft or state.avoid else depth)
    # the values read from words filter only if that is no worse; when nothing matches
    # and they are not what contradicts, the reply names the constraint to drop instead
    if not weighed.inferred or not (result.candidates or evidence.contradictory(weighed, view)):
        return weighed, result, None, None
    loosened = weighed.loosened(view)
    loose = search(loosened, deep)
    if evidence.as_good(result.candidates, loose.candidates, shown):
        return weighed, result, loose, None
    ctx.notes.append("values read from words re-rank: filtering by them fit worse")
    # nothing matched them together: said as it is, then the closest products
    closest = None if result.candidates else f"{nothing_matches(parts, state, result)} The closest:"
    return loosened, loose, loose, closest


def nothing_matches(parts: Parts, state: DialogueState, result: SearchResult) -> str:
    """Said plainly, with the one constraint whose removal gives results, and how many."""
    wanted = describe_constraints(state, parts.lexicon)
    count = parts.index.facets.count
    relax = best_relaxation(state, parts.view, count, parts.lexicon.currency)
    if relax is None or result.total_matching:
        why = result.empty_reason or "nothing relevant came up"
        return f"I couldn't find {wanted}: {why}. Could you relax one of these?"
    chip, n = relax
    found = "1 product matches" if n == 1 else f"{n} products match"
    return (
        f"Nothing matches {wanted} exactly. Without “{chip.label}”, {found}: "
        "remove it (its × above the chat), or tell me what to change."
    )


def not_sold(parts: Parts, kinds: list[str]) -> str:
    """A plain no, with the nearest kinds the shop does have."""
    result = parts.searcher.search(SearchRequest(text=" ".join(kinds), k=20))
    near = Counter()
    for c in result.candidates:
        leaf = c.product.category.split("/")[-1] if c.product.category else ""
        dense = c.signals.get("dense")
        if leaf and dense and dense.score >= NEAR_COSINE:
            near[leaf] += 1
    offer = [k for k, _ in near.most_common(3)]
    what = " or ".join(kinds)
    if not offer:
        return f"Sorry, this shop doesn't sell {what}."
    return (
        f"Sorry, this shop doesn't sell {what}. The closest we have: "
        f"{', '.join(offer)}. Shall I show you some?"
    )
