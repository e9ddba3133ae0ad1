"""The chat turns that act on the products shown: a question about one or about the list,
a comparison, "add the first one to my cart", "what goes with it"; and the greeting and
the polite no to what is not shopping. Nothing that is out of stock goes into a cart."""

from __future__ import annotations

from base.language.text import terms
from ranking.rank import RankedItem
from retrieval.facets import value_matches, variant_matches, variant_values
from retrieval.index import ProductIndex
from retrieval.kinds import kind_paths
from retrieval.schema import SearchFilters

from .context import Outcome, TurnContext
from .item_answers import answer_about, answer_about_list, compare_reply, compare_table
from .parts import Parts
from .records import CartItem, CartQuestion, DialogueState, TurnInterpretation
from .wording import shown_items

GREETING = "Hi! Tell me what you're looking for and I'll suggest a few products from this shop."
WHICH = "Which product do you mean? Search for something first and I'll list a few."
REDIRECT = (
    "Sorry, I can only help with shopping in this store. "
    "Tell me what you're looking for and I'll find a few products."
)


def shown(index: ProductIndex, state: DialogueState, refs: list[int]) -> list[RankedItem]:
    """The products shown at these positions (1-based) of the last list."""
    out = []
    for r in refs:
        if 1 <= r <= len(state.shown) and (p := index.product(state.shown[r - 1].product_id)):
            out.append(RankedItem(product=p, score=0.0, ranker="shown"))
    return out


def related_list(parts: Parts, ctx: TurnContext) -> Outcome:
    """ "Something that goes with it" / "what else did shoppers look at": the shown
    product's neighbours, each with why (shoppers' sessions, or a similar product), as a
    new list the shopper can open, compare or add ("add the first one")."""
    turn, state = ctx.turn, ctx.state
    items = shown(parts.index, state, turn.references[:1] or state.focus[:1] or [1])
    if not items:
        return Outcome(WHICH)
    anchor = items[0].product
    found = parts.related.of(parts.index, anchor.id)
    goes = (turn.related or "also_viewed") == "goes_with"
    neighbours = found.goes_with if goes else found.also_viewed
    chosen = [(n, p) for n in neighbours if (p := parts.index.product(n.product_id))]
    if not chosen:
        return Outcome(f"I have nothing to suggest with the {anchor.title} yet.")
    out, reasons = [], []
    for n, p in chosen:
        out.append(RankedItem(product=p, score=n.score, ranker=f"related:{n.source}"))
        if n.source == "behaviour":
            did = "carted" if goes else "opened"
            reasons.append(f"{did} with the {anchor.title} in {n.sessions} shoppers' sessions")
        elif goes:
            reasons.append(f"another kind of product, close to the {anchor.title}")
        else:
            reasons.append(f"similar to the {anchor.title}")
    lead = "goes well with" if goes else "shoppers also looked at, besides"
    state.shown = shown_items(out)
    state.focus = []
    lines = [
        f"{k}. {i.product.title} — {why}" + ("" if i.product.available else " (out of stock)")
        for k, (i, why) in enumerate(zip(out, reasons, strict=True), 1)
    ]
    text = f"What {lead} the {anchor.title}:\n" + "\n".join(lines)
    return Outcome(text, out, reasons)


def answer(parts: Parts, ctx: TurnContext) -> Outcome:
    """The turns about the products shown: a question, a comparison, "add it to my cart";
    and the greeting and the polite no to what is not shopping."""
    turn, state = ctx.turn, ctx.state
    if turn.intent == "smalltalk":
        return Outcome(GREETING)
    if turn.intent == "out_of_scope":
        return Outcome(REDIRECT)
    if turn.intent == "ask_item" and turn.first_by_default and len(state.shown) > 1:
        listed = shown(parts.index, state, list(range(1, len(state.shown) + 1)))
        about = answer_about_list([i.product for i in listed], turn.question, parts.lexicon)
        if about is not None:  # a question about the list in view, answered for each
            text, have = about
            return Outcome(text, [listed[i - 1] for i in have])
    refs = turn.references or state.focus or ([1] if state.shown else [])
    items = shown(parts.index, state, refs)
    if not items:
        return Outcome(WHICH)
    if turn.intent == "compare":
        products = [i.product for i in items]
        table = compare_table(products) if len(products) >= 2 else None
        return Outcome(compare_reply(products), items, table=table)
    if turn.intent == "ask_item":
        return Outcome(answer_about(items[0].product, turn.question, parts.lexicon), items[:1])
    return Outcome(*cart_from_chat(turn, state, items[0]))


def cart_from_chat(turn: TurnInterpretation, state: DialogueState, item: RankedItem):
    """“Add the first one”: the variant the words and the filters choose, or the question
    that chooses it → (what to say, the item)."""
    p, want = item.product, turn.cart
    if not p.available:
        return f"Sorry, the {p.title} is out of stock, so I can't add it to your cart.", [item]
    asked = dict(want.options) if want else {}
    variants = p.purchasable_variants()
    amounts = SearchFilters(quantities=want.amounts if want else [])
    match = [
        v
        for v in variants
        if all(
            any(value_matches(k, x, val) for x in variant_values(p, v, k))
            for k, val in asked.items()
        )
        and (not amounts.quantities or variant_matches(p, v, amounts))
    ]
    if not match:
        options = ", ".join(sorted({v.label() for v in variants}))
        said = [*asked.values(), *(q.label for q in amounts.quantities)]
        return (
            f"The {p.title} doesn't come in {' / '.join(said)}. It comes in: {options}.",
            [item],
        )
    # an option that varies and was not chosen: ask, unless the shopper's filters choose it
    chosen = [v for v in match if v.available] or match
    preferred = [v for v in chosen if _fits(p, v, state)] or chosen
    varying = [
        k
        for k in (preferred[0].options if preferred else {})
        if len({v.option(k) for v in preferred}) > 1 and k not in asked
    ]
    if varying:
        key = varying[0]
        values = list(dict.fromkeys(v.option(key) for v in preferred if v.option(key)))
        state.cart_question = _question(p, item, state, key, asked)
        return (
            f"Which {key} would you like for the {p.title}? It comes in {', '.join(values)}.",
            [item],
        )
    v = preferred[0]
    if not v.available:
        return f"Sorry, the {p.title} ({v.label()}) is out of stock.", [item]
    state.cart.append(CartItem.of(p, v, want.quantity if want else 1))
    detail = f" ({v.label()})" if v.options else ""
    return f"Added the {p.title}{detail} to your cart.", [item]


def _question(product, item, state: DialogueState, key: str, chosen: dict) -> CartQuestion:
    """What the next turn may answer: any option of the product's available variants."""
    options: dict[str, list[str]] = {}
    for v in product.purchasable_variants():
        if v.available:
            for k, value in v.options.items():
                if value and value not in options.setdefault(k, []):
                    options[k].append(value)
    at = [n for n, s in enumerate(state.shown, 1) if s.product_id == product.id]
    names = {t for k in options for t in terms(k)}
    names |= {t for path in kind_paths(product) for t in terms(path.replace("/", " "))}
    return CartQuestion(
        names=sorted(names),
        position=at[0] if at else 1,
        product_id=product.id,
        key=key,
        options=options,
        chosen=dict(chosen),
    )


def _fits(product, variant, state: DialogueState) -> bool:
    """The variant meets the facet values the shopper asked for (never an excluded one)."""
    f = state.filters.model_copy(
        update={
            "price_min": None,
            "price_max": None,
            "quantities": [],
        }
    )
    return variant_matches(product, variant, f)
