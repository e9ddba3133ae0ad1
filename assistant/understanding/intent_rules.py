"""What a turn asks for, given what was read and what was shown: small talk, out of scope,
compare, cart (only when asked explicitly), what goes with a shown item (or what others
looked at), a question about a shown item, the answer to a clarifying question, a
refinement, or a new search."""

from __future__ import annotations

from ..records import CartRequest, ConstraintSet, DialogueState, TurnInterpretation
from .intent import (
    ALSO_VIEWED,
    ASKS_ABOUT,
    CART,
    COMPARE,
    EXPLICIT_REF,
    GOES_WITH,
    INJECTION,
    LIKE_BUT,
    OFF_TOPIC,
    PRONOUN_REF,
    QUESTION,
    SMALLTALK,
)
from .words import Token


# Long: one cascade, the first match wins; read top to bottom it is the order of precedence.
def decide_intent(
    text: str,
    lower: str,
    tokens: list[Token],
    state: DialogueState,
    cons: ConstraintSet,
    remove: list[str],
    refs: list[int],
    relative: str | None,
    kind_tokens: list[int],
    need_tokens: list[int],
    is_top=lambda segment: False,
) -> tuple[TurnInterpretation, list[str]]:
    """`is_top(segment)`: a top-level category with kinds below it (a department, an
    audience) narrows the search; a kind may start a new one."""
    n_shown = len(state.shown)
    shown = n_shown > 0
    kinds = [c for c in cons.categories if not is_top(c)]
    priced = cons.price_min is not None or cons.price_max is not None
    has_constraints = bool(cons.slots()) or bool(remove) or relative is not None
    pronoun = bool(PRONOUN_REF.search(lower))
    doubts: list[str] = []
    question, cart, new_topic, related = "", None, False, None
    first_by_default = False
    same_kinds = not kinds or set(kinds) <= set(state.categories)
    tops_only = bool(cons.categories) and not kinds  # "for <audience>", "from <department>"
    if INJECTION.search(text):
        intent = "out_of_scope"  # "SYSTEM: …", "ignore your instructions": no shopping read
    elif SMALLTALK.match(text) and not has_constraints:
        intent = "smalltalk"
    elif OFF_TOPIC.search(lower) and not (cons.categories or cons.facets):
        intent = "out_of_scope"
    elif shown and COMPARE.search(lower):
        intent, refs = "compare", _compared(refs, pronoun, state)
    elif shown and not kinds and (GOES_WITH.search(lower) or ALSO_VIEWED.search(lower)):
        intent = "related"  # "something that goes with it": a kind named is a search instead
        related = "goes_with" if GOES_WITH.search(lower) else "also_viewed"
        refs = refs[:1] or state.focus[:1] or [1]
    elif shown and CART.search(lower):
        intent = "cart"
        ref = _cart_item(refs, relative, lower, state)
        if ref is None:
            doubts.append("cart request without an item")
        cart = CartRequest(reference=ref)
        refs = [ref] if ref else []
    elif (
        shown
        and (refs or pronoun)
        and (ASKS_ABOUT.search(text) or QUESTION.search(text))
        and not (priced or relative)
        and same_kinds
    ):
        intent = "ask_item"
        first_by_default = not refs and not state.focus  # no product named, none in focus
        refs = refs or state.focus[:1] or [1]
        question = text.strip()
    elif (
        state.asked
        and state.asked_at == state.turns
        and len(tokens) <= 5
        and not refs
        and _answers(cons, state)
        and same_kinds
    ):
        intent = "clarify_answer"
    elif (
        (state.need or not state.filters.is_empty() or state.categories)
        and not kinds
        and (has_constraints or refs or tops_only or (state.categories and need_tokens))
    ):
        intent = "refine"  # "in <value>?", "something <need word>" within the kind shown
    elif cons.categories or has_constraints or need_tokens:
        intent = "search"
        if kinds and state.categories and not set(kinds) & set(state.categories):
            new_topic = True
    else:
        intent = "out_of_scope" if QUESTION.search(text) else "smalltalk"
        doubts.append("no shopping content recognised")
    if intent == "search" and not (refs and LIKE_BUT.search(lower)):
        refs = []
    turn = TurnInterpretation(
        intent=intent,
        references=refs,
        relative_price=relative,
        new_topic=new_topic,
        question=question,
        cart=cart,
        related=related,
        first_by_default=first_by_default,
    )
    return turn, doubts


def _compared(refs: list[int], pronoun: bool, state: DialogueState) -> list[int]:
    """Which shown items a comparison means: those named, with the one in focus for "it";
    else the ones in focus, else the first two."""
    if pronoun and len(refs) == 1 and state.focus and state.focus[0] not in refs:
        refs = [state.focus[0], *refs]  # "compare it with the first": it = the one in focus
    if not refs:
        refs = (
            state.focus if len(state.focus) >= 2 else list(range(1, min(len(state.shown), 2) + 1))
        )
    return refs


def _cart_item(refs: list[int], relative: str | None, lower: str, state: DialogueState):
    """Which shown item a cart request means: the one named, in focus, or the only one;
    "the cheaper one" is the cheapest of those in focus (or shown)."""
    n_shown = len(state.shown)
    ref = refs[0] if refs else (state.focus[0] if state.focus else (1 if n_shown == 1 else None))
    if relative == "cheaper" and not EXPLICIT_REF.search(lower):
        pool = state.focus or list(range(1, n_shown + 1))
        priced = [r for r in pool if r <= n_shown and state.shown[r - 1].price is not None]
        if priced:
            ref = min(priced, key=lambda r: state.shown[r - 1].price)
    return ref


def _answers(cons: ConstraintSet, state: DialogueState) -> bool:
    """The turn gives a value for a facet the assistant just asked about."""
    asked = {state.asked[-1].casefold()}
    return bool(
        ("category" in asked and cons.categories) or any(k.casefold() in asked for k in cons.facets)
    )
