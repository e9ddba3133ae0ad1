"""The deterministic reading of one turn, against this catalog's words.

It serves the turn alone when it is certain — every content word is accounted for by the
catalog's words or the general language layer, every number and negation was read — and
otherwise hands the turn to the LLM (llm_reader.py), cross-checks its reading, and serves
the turn when the LLM fails."""

from __future__ import annotations

from base.language.general import language
from base.language.text import fold

from ..records import CartRequest, DialogueState, TurnInterpretation
from .cart_answer import read_cart_answer
from .catalog import CatalogView
from .constraints import resolve
from .intent_rules import decide_intent
from .negation import negated_positions
from .prices import read_prices
from .quantities import read_quantities
from .references import read_references
from .removals import read_removals
from .unknown import account, unsold_kinds
from .words import CatalogWords, Message


# Long: the deterministic reading on one screen, its readers in the order they apply.
def read_turn(
    message: str | Message, state: DialogueState, words: CatalogWords, view: CatalogView
) -> TurnInterpretation:
    message = Message.of(message)
    text, lower, tokens = message.text, message.lower, message.tokens
    remove, consumed = read_removals(lower, tokens, words)
    prices = read_prices(lower)
    quantities, q_spans = read_quantities(lower, tokens, words, set(view.facets.dimensions))
    for a, b in [*prices.spans, *q_spans]:
        consumed |= {i for i, t in enumerate(tokens) if t.start >= a and t.end <= b}
    refs, ref_tokens, doubts = read_references(lower, tokens, len(state.shown))
    consumed |= ref_tokens
    spans = [s for s in words.match(tokens) if not set(range(s.start, s.end)) & consumed]
    negated = negated_positions(tokens, text)
    r = resolve(text, tokens, spans, negated, words, view, state.categories)
    cons = r.constraints.model_copy(
        update={
            "price_min": prices.min,
            "price_max": prices.max,
            "quantities": quantities,
            "price_min_strict": prices.min_strict,
            "price_max_strict": prices.max_strict,
        }
    )
    consumed |= r.consumed
    need_tokens, unknown, doubts2 = account(tokens, consumed, r.accounted, negated, words)
    skip = language().negation_skip | language().filler | language().negators
    avoid = [
        tokens[i].text for i in sorted(negated) if i not in consumed and tokens[i].text not in skip
    ]
    turn, more = decide_intent(
        text,
        lower,
        tokens,
        state,
        cons,
        remove,
        refs,
        prices.relative,
        r.kind_tokens,
        need_tokens,
        view.is_top,
    )
    doubts += doubts2 + more
    if any(s.rewrite for s in spans) and turn.intent == "refine" and not cons.categories:
        turn.intent, turn.new_topic = "search", True  # "and some <kind>": a new product
    notes = []
    kinds_said = {fold(tokens[i].text) for i in r.kind_tokens}
    rewritten = {i for s in spans if s.rewrite for i in range(s.start, s.end)}
    need_tokens = sorted(set(need_tokens) | (rewritten & set(r.kind_tokens)))
    need = _need_words(tokens, spans, need_tokens, r.kind_tokens)
    unsold = unsold_kinds(tokens, need_tokens, words) if not cons.categories else []
    if (
        turn.intent in ("search", "refine")
        and not (cons.categories or state.categories)
        and not cons.slots()
        and not remove
        and not unsold
        and not refs
    ):
        doubts.append("no catalog word: the kind of product is not certain")
    if prices.currencies and any(c != words.lexicon.currency for c in prices.currencies):
        notes.append(f"prices in this shop are in {words.lexicon.currency}")
    cart = turn.cart
    if turn.intent == "cart" and cart is not None:
        cart = CartRequest(
            reference=cart.reference,
            options={k: v[0] for k, v in cons.facets.items()},
            amounts=cons.quantities,
        )
    acts = turn.intent in ("compare", "ask_item", "cart", "related", "smalltalk", "out_of_scope")
    if turn.intent == "out_of_scope":
        doubts = []  # nothing to hand the LLM: an injection or a question outside the shop
    reading = turn.model_copy(
        update={
            "need": "" if acts else " ".join(need),
            "constraints": type(cons)() if acts else cons,
            "remove": [] if acts else remove,
            "relative_price": None if acts else turn.relative_price,
            "cart": cart,
            "colors": [] if acts else r.colors,
            "avoid": [] if acts else avoid,
            "unsold": [] if acts or kinds_said else unsold,
            "not_understood": unknown,
            "notes": notes,
            # a search must account for every word; an act on shown items or small talk only
            # for its own doubts ("add it to my cart": "cart" is no catalog word, and need not be)
            "certain": not (doubts or (unknown and not acts)),
            "source": "rules",
        }
    )
    # "Which color would you like?" — "Green": the cart's question answered, not a filter
    return read_cart_answer(reading, state) or reading


def _need_words(tokens, spans, need_tokens: list[int], kind_tokens: list[int]) -> list[str]:
    """The free-text need: the words no constraint took (kinds as their terms), a phrase the
    lexicon rewrites as the catalog's own words, then the kinds named."""
    words_of = {i: tokens[i].term if i in kind_tokens else tokens[i].text for i in need_tokens}
    for s in spans:  # a shopper's phrase the lexicon rewrites: searched by the catalog's own words
        if s.rewrite:
            for i in range(s.start, s.end):
                words_of.pop(i, None)
            words_of[s.start] = s.rewrite
    need = [words_of[i] for i in sorted(words_of)]
    return need + [t for t in dict.fromkeys(tokens[i].term for i in kind_tokens) if t not in need]
