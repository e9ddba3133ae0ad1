"""The deterministic reading of a turn: prices, sizes, colours, kinds, negations,
ordinals, removals and the intent, read by patterns over the catalog's vocabulary.

It serves the turn alone when it is certain (every number, negation and reference was
read), cross-checks the LLM otherwise, and serves the turn when the LLM fails.
"""

from __future__ import annotations

import re

from .records import CartRequest, ConstraintSet, DialogueState, TurnInterpretation
from .vocabulary import Vocabulary, singular, words

NUM = r"\$?\s*(\d+(?:\.\d+)?)\s*(?:\$|dollars?|bucks|usd)?"
PRICE_MAX = re.compile(
    r"\b(?:under|below|less than|cheaper than|max(?:imum)?|up to|at most|no more than|nothing over|"
    r"not over|nothing above|not above|"
    r"not more than|within|budget(?: is| of)?|maximum of|tops|or less)\s*" + NUM
)
PRICE_MIN = re.compile(
    r"\b(?:over|above|more than|at least|min(?:imum)?|starting at|from)\s*" + NUM
)
PRICE_RANGE = re.compile(
    r"\bbetween\s*" + NUM + r"\s*(?:and|-|to)\s*" + NUM + r"|\$(\d+)\s*(?:-|to)\s*\$?(\d+)"
)
PRICE_AROUND = re.compile(r"\b(?:around|about|roughly|approximately|~)\s*" + NUM)
PRICE_BARE = re.compile(
    r"(?:\bfor\s*)?\$\s*(\d+(?:\.\d+)?)|\b(\d+(?:\.\d+)?)\s*(?:dollars|bucks)\b"
)
ORDINALS = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "sixth": 6,
    "6th": 6,
}
COUNTS = {"two": 2, "three": 3, "four": 4}
NEGATORS = {
    "not",
    "no",
    "without",
    "except",
    "but",
    "nothing",
    "non",
    "avoid",
    "hate",
    "isn't",
    "don't",
    "dont",
    "aren't",
    "never",
    "excluding",
}
# Words that carry no constraint of their own (left out of the need text).
FILLER = frozenset(
    "thank thanks i im i'm me my we a an the some any for to of in on with and or please pls "
    "can could you your show find get give want need looking look search searching something "
    "anything do does have has is are it this that these those one ones there what which how "
    "would like recommend suggest maybe also just really very much too new now instead "
    "actually only let's lets see options option item items product products be was got kind "
    "sort type ok okay yes yeah sure hi hello hey buy shopping shop store".split()
)
SMALLTALK = re.compile(
    r"^\s*(hi|hello|hey|good (morning|afternoon|evening)|thanks?( you)?( so much)?|thank u|"
    r"cheers|bye|goodbye|see you|how are you|ok(ay)?|great|cool|nice|awesome|perfect)"
    r"[\s!.,?]*(there|again|a lot|!|\.)*[\s!.?]*$",
    re.I,
)
OFF_TOPIC = re.compile(
    r"\b(weather|forecast|temperature outside|news|president|election|politic\w*|stock price|"
    r"recipe|joke|movie|film|song|lyrics|capital of|translate|poem|homework|math|bitcoin|"
    r"crypto|football score|who won|horoscope|write (me )?(a|an) (essay|code|story)|"
    r"python code|meaning of life|ignore (?:your|all|the|previous|prior) ?\w* instructions|"
    r"system prompt|you are now|pretend (?:to be|you are)|jailbreak)\b",
    re.I,
)
COMPARE = re.compile(
    r"\b(compare|comparison|difference|differ|versus|vs\.?|which (one )?is better|"
    r"side by side|better choice|which (?:one )?is (?:the )?\w+er)\b",
    re.I,
)
CART = re.compile(
    r"\b(add|put|throw)\b.*\b(cart|basket|order)\b|\b(buy|purchase|order|"
    r"i'?ll take|i will take|take the|get the)\b|^\s*(?:ok(?:ay)?,?\s*)?add\b",
    re.I,
)
AVAILABILITY = re.compile(r"\b(come|comes|available|have|has|stock)\b", re.I)
REMOVE = re.compile(
    r"\b(?:any|whatever|all)\s+(colou?rs?|sizes?|price|prices|budget|categor(?:y|ies)|"
    r"materials?)\b(?:\s+(?:is|are)\s+(?:fine|ok|okay|good))?|"
    r"\b(colou?r|size|price|budget|material)\s+(?:doesn'?t|does not|don'?t)\s+matter|"
    r"\b(?:forget|drop|remove|ignore|never ?mind)\s+(?:about\s+)?(?:the\s+)?(colou?r|size|"
    r"price|budget|material)|\bno\s+(price|budget)\s+limit|"
    r"\b(start over|reset|clear (?:all|everything|the filters)|from scratch)\b",
    re.I,
)
QUESTION = re.compile(
    r"^\s*(is|are|does|do|can|will|what|how|which|would|has|have|tell me)\b|\?\s*$", re.I
)
RELATIVE_CHEAPER = re.compile(
    r"\b(cheaper|less expensive|lower price|more affordable|"
    r"budget option)(?:\s+than)?\b",
    re.I,
)
RELATIVE_PRICIER = re.compile(
    r"\b(pricier|more expensive|higher end|premium|fancier)"
    r"(?:\s+than)?\b",
    re.I,
)
LIKE_BUT = re.compile(r"\b(like|similar to)\b", re.I)
PRONOUN_REF = re.compile(r"\b(it|that one|this one|that|this|them|those|these)\b", re.I)


def _remove_slot(match: re.Match) -> str:
    word = next(g for g in match.groups() if g).casefold()
    if word.startswith(("start", "reset", "clear", "from")):
        return "all"
    if word.startswith("colo"):
        return "color"
    if word.startswith(("price", "budget")):
        return "price"
    if word.startswith("size"):
        return "size"
    if word.startswith("categor"):
        return "category"
    return "material"


def read_turn(text: str, state: DialogueState, vocab: Vocabulary) -> TurnInterpretation:
    lower = text.casefold().replace("’", "'")
    consumed: set[int] = set()  # positions of words accounted for
    toks = words(lower)
    spans = _token_spans(lower)
    cons = ConstraintSet()
    uncertain: list[str] = []

    # ---- removals and prices (phrases) ------------------------------------------------------
    remove = []
    for m in REMOVE.finditer(lower):
        remove.append(_remove_slot(m))
        consumed |= _tokens_in(spans, m.span())
    for pattern, kind in (
        (PRICE_RANGE, "range"),
        (PRICE_MAX, "max"),
        (PRICE_MIN, "min"),
        (PRICE_AROUND, "around"),
    ):
        for m in pattern.finditer(lower):
            if _tokens_in(spans, m.span()) & consumed:
                continue
            nums = [float(g) for g in m.groups() if g]
            if kind == "range" and len(nums) == 2:
                cons.price_min, cons.price_max = min(nums), max(nums)
            elif kind == "max":
                cons.price_max = nums[0]
            elif kind == "min":
                cons.price_min = nums[0]
            else:
                cons.price_min, cons.price_max = round(nums[0] * 0.8, 2), round(nums[0] * 1.2, 2)
            consumed |= _tokens_in(spans, m.span())
    if cons.price_min is None and cons.price_max is None:
        for m in PRICE_BARE.finditer(lower):
            if not _tokens_in(spans, m.span()) & consumed:
                cons.price_max = float(next(g for g in m.groups() if g))
                consumed |= _tokens_in(spans, m.span())
    relative = None
    for pattern, name in ((RELATIVE_CHEAPER, "cheaper"), (RELATIVE_PRICIER, "pricier")):
        m = pattern.search(lower)
        if (
            m
            and relative is None
            and (cons.price_max if name == "cheaper" else cons.price_min) is None
        ):
            relative = name
            consumed |= _tokens_in(spans, m.span())

    # ---- references -------------------------------------------------------------------------
    references: list[int] = []
    n_shown = len(state.shown)
    m = re.search(r"\b(?:the\s+)?first\s+(two|three|four|2|3|4)\b", lower)
    if m:
        count = COUNTS.get(m.group(1)) or int(m.group(1))
        references = list(range(1, count + 1))
        consumed |= _tokens_in(spans, m.span())
    elif m := re.search(r"\b(?:the\s+)?last\s+(two|three|2|3)\b", lower):
        count = COUNTS.get(m.group(1)) or int(m.group(1))
        references = list(range(max(1, n_shown - count + 1), n_shown + 1)) if n_shown else []
        consumed |= _tokens_in(spans, m.span())
    elif re.search(r"\b(both|these two|those two|the two)\b", lower):
        references = [1, 2]
    for i, tok in enumerate(toks):
        if i in consumed:
            continue
        if tok in ORDINALS and not (i + 1 < len(toks) and toks[i + 1] in ("time",)):
            references.append(ORDINALS[tok])
            consumed.add(i)
        elif tok == "last" and n_shown:
            references.append(n_shown)
            consumed.add(i)
    for m in re.finditer(r"(?:#|number|no\.?|item|option)\s*(\d)\b", lower):
        references.append(int(m.group(1)))
        consumed |= _tokens_in(spans, m.span())
    references = list(dict.fromkeys(r for r in references if r >= 1))
    if references and n_shown and any(r > n_shown for r in references):
        uncertain.append("reference beyond the items shown")
    pronoun = bool(PRONOUN_REF.search(lower))

    # ---- sizes --------------------------------------------------------------------------------
    for value, span in _read_sizes(text, vocab):
        if not _tokens_in(spans, span) & consumed:
            cons.sizes.append(value)
            consumed |= _tokens_in(spans, span)
    cons.sizes = list(dict.fromkeys(cons.sizes))

    # ---- words: colours, kinds, departments, attributes, negation -----------------------------
    negated = _negated_positions(toks)
    kinds: list[str] = []
    for i, tok in enumerate(toks):
        if i in consumed or (tok in FILLER and tok not in NEGATORS):
            continue
        neg = i in negated
        if color := vocab.color(tok):
            (cons.exclude_colors if neg else cons.colors).append(color)
            consumed.add(i)
        elif dept := vocab.department(tok):
            (cons.exclude_categories if neg else cons.categories).append(dept)
            consumed.add(i)
        elif segs := vocab.kind(tok):
            if neg:
                cons.exclude_categories += segs
            else:
                kinds += segs
            consumed.add(i)
        elif neg and (pairs := vocab.attribute(tok)):
            for key, value in pairs:
                cons.exclude_attributes.setdefault(key, []).append(value)
            consumed.add(i)
        elif tok in NEGATORS:
            consumed.add(i)
    # "tank tops": the specific kind wins over the generic one it sits under ("tops")
    kinds = [k for k in kinds if k not in vocab.parents] or kinds
    cons.categories += list(dict.fromkeys(kinds))
    for name in ("colors", "exclude_colors", "categories", "exclude_categories"):
        setattr(cons, name, list(dict.fromkeys(getattr(cons, name))))
    for i in negated:
        if i not in consumed and toks[i] not in FILLER:
            uncertain.append(f"negated word {toks[i]!r} not in the catalog's vocabulary")

    # ---- intent -------------------------------------------------------------------------------
    has_constraints = bool(cons.slots()) or bool(remove) or relative is not None
    has_catalog_words = bool(kinds) or bool(cons.colors or cons.exclude_colors)
    shown = n_shown > 0
    question = ""
    cart = None
    new_topic = False
    if SMALLTALK.match(text) and not has_constraints:
        intent = "smalltalk"
    elif OFF_TOPIC.search(lower) and not has_catalog_words:
        intent = "out_of_scope"
    elif shown and COMPARE.search(lower):
        intent = "compare"
        if not references:
            references = (
                state.focus if len(state.focus) >= 2 else list(range(1, min(n_shown, 2) + 1))
            )
    elif shown and CART.search(lower):
        intent = "cart"
        ref = (
            references[0]
            if references
            else (state.focus[0] if state.focus else (1 if n_shown == 1 else None))
        )
        if ref is None:
            uncertain.append("cart request without an item")
        cart = CartRequest(
            reference=ref,
            size=cons.sizes[0] if cons.sizes else None,
            color=cons.colors[0] if cons.colors else None,
        )
        references = [ref] if ref else []
    elif (
        shown
        and (references or pronoun)
        and QUESTION.search(text)
        and (
            not (cons.slots() or relative or kinds)
            # "does the 1st one come in XS?" asks about the item, it does not filter
            or (references and AVAILABILITY.search(lower) and not kinds)
        )
    ):
        intent = "ask_item"
        if not references:
            references = state.focus[:1] or [1]
        question = text.strip()
    elif (
        state.asked
        and not shown_kinds_changed(kinds, state)
        and cons.categories
        and len(toks) <= 5
        and not references
    ):
        intent = "clarify_answer"
    elif (
        (state.need or not state.filters.is_empty())
        and not kinds
        and (has_constraints or references)
    ):
        intent = "refine"
    elif kinds or has_constraints or _content_words(toks, consumed):
        intent = "search"
        if kinds and state.filters.categories and not set(kinds) & set(state.filters.categories):
            new_topic = True
    else:
        intent = "out_of_scope" if QUESTION.search(text) else "smalltalk"
        uncertain.append("no shopping content recognised")

    if intent in ("compare", "ask_item", "cart"):
        # these act on shown items; a size or "cheaper" in them selects or asks, it does not filter
        if intent == "cart" and relative == "cheaper" and n_shown and not turn_refs_explicit(lower):
            pool = state.focus or list(range(1, n_shown + 1))
            priced = [r for r in pool if r <= n_shown and state.shown[r - 1].price is not None]
            if priced:
                best = min(priced, key=lambda r: state.shown[r - 1].price)
                references = [best]
                cart = cart.model_copy(update={"reference": best})
        cons, relative, remove = ConstraintSet(), None, []
    if re.search(r"\d", lower):
        for i, tok in enumerate(toks):
            if tok.isdigit() and i not in consumed and intent not in ("smalltalk", "out_of_scope"):
                uncertain.append(f"number {tok!r} not read")
    if pronoun and not shown and intent in ("ask_item", "cart", "compare"):
        uncertain.append("reference with nothing shown")
    if intent == "search" and not kinds and not has_constraints:
        uncertain.append("no catalog word: the kind of product is not certain")

    need = (
        ""
        if intent in ("smalltalk", "out_of_scope", "cart", "compare", "ask_item")
        else (
            " ".join(
                toks[i]
                for i in range(len(toks))
                if i not in consumed and i not in negated and toks[i] not in FILLER
            )
        )
    )
    if kinds:
        need = " ".join(
            dict.fromkeys(
                [
                    *need.split(),
                    *[
                        singular(t)
                        for i, t in enumerate(toks)
                        if vocab.kind(t) and i not in negated
                    ],
                ]
            )
        )
    return TurnInterpretation(
        intent=intent,
        need=need.strip(),
        constraints=cons,
        remove=list(dict.fromkeys(remove)),
        references=references if intent != "search" or LIKE_BUT.search(lower) else [],
        relative_price=relative,
        new_topic=new_topic,
        question=question,
        cart=cart,
        source="rules",
        certain=not uncertain,
    )


SIZE_CONTEXT = r"(?:\bsize\s+|\bin\s+(?:an?\s+)?|\ban?\s+)"


def _read_sizes(text: str, vocab: Vocabulary) -> list[tuple[str, tuple[int, int]]]:
    """Sizes the catalog has, said as sizes: "size M", "in a medium", "an XL", "32 waist".
    A bare "large" or "M" is not taken: "a large bag" is not a size."""
    lower = text.casefold()
    found = []
    for phrase in ("extra small", "x-small", "extra large", "x-large", "small", "medium", "large"):
        value = vocab.size_word(phrase)
        pattern = (
            rf"(?:\bsize\s+|\bin\s+(?:an?\s+)?|\bwears?\s+(?:an?\s+)?){phrase}\b"
            rf"|\b{phrase}\s+size\b"
            rf"|^\s*{phrase}\s*(?:please)?[.!?]*$"
        )
        for m in re.finditer(pattern, lower):
            if value:
                found.append((value, m.span()))
    for size in vocab.sizes:
        token = re.escape(size)
        if size.isdigit():
            pattern = rf"\b(?:size|waist)\s+{token}\b|\b{token}\s*(?:waist|inch)"
            flags = re.I
        elif len(size) >= 2:  # XS, XL: unambiguous in capitals, or after "size"
            pattern = rf"\b{token}\b|\bsize\s+{token}\b"
            flags = 0
        else:  # S, M, L: only as a size
            pattern = (
                rf"\bsize\s+{token}\b|\bin\s+(?:an?\s+)?{token}\b|\ban?\s+{token}\b"
                rf"|\b{token}\s+size\b"
            )
            flags = 0
        for m in re.finditer(pattern, text, flags):
            found.append((size, m.span()))
    return found


def turn_refs_explicit(lower: str) -> bool:
    return bool(
        re.search(r"\b(first|second|third|fourth|fifth|last|1st|2nd|3rd|#\d|number \d)\b", lower)
    )


def shown_kinds_changed(kinds: list[str], state: DialogueState) -> bool:
    return bool(kinds) and not set(kinds) & set(state.filters.categories)


def _token_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for m in re.finditer(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", text)]


def _tokens_in(spans: list[tuple[int, int]], span: tuple[int, int]) -> set[int]:
    return {i for i, (s, e) in enumerate(spans) if s >= span[0] and e <= span[1]}


def _negated_positions(toks: list[str]) -> set[int]:
    """Words a negation applies to: 'not yellow or orange', 'no leather', 'anything but red'."""
    out: set[int] = set()
    for i, tok in enumerate(toks):
        if tok in NEGATORS and not (
            tok == "but" and (i == 0 or toks[i - 1] not in ("anything", "all"))
        ):
            if (
                tok == "no"
                and i + 1 < len(toks)
                and toks[i + 1] in ("more", "longer", "budget", "price")
            ):
                continue
            j = i + 1
            while j < len(toks) and j <= i + 4:
                if toks[j] in ("and", "but", "for", "with", "under", "below", "in", "size"):
                    break
                if toks[j] not in (
                    "a",
                    "an",
                    "the",
                    "any",
                    "in",
                    "too",
                    "so",
                    "or",
                    "nor",
                    "want",
                    "like",
                    "need",
                    "something",
                ):
                    out.add(j)
                j += 1
    return out


def _content_words(toks: list[str], consumed: set[int]) -> list[str]:
    return [t for i, t in enumerate(toks) if i not in consumed and t not in FILLER and len(t) > 2]
