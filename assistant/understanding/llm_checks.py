"""Checking the LLM's reading of a turn against the shopper's own words: a category, a
facet value, a price, a reference or a removal the message does not bear out is dropped and
counted as invented. An LLM may translate; it may not add."""

from __future__ import annotations

import re

from base.language.general import language, phrasings
from base.language.text import term

from ..records import INTENTS, ConstraintSet, DialogueState, TurnInterpretation
from .intent import CART
from .unknown import foreign
from .words import CatalogWords, Message, phrase_terms

BOTH_OR_TWO = phrasings().pattern("both_or_two")  # "compare both" refers to 1 and 2
NUMBERED = phrasings().pattern("numbered_item")
PRICE_TALK = phrasings().pattern("price_talk")


class Grounds:
    """What the shopper said, as the checks read it; counts the values dropped."""

    def __init__(self, message: Message, raw: dict, rules: TurnInterpretation, words):
        self.message, self.words = message, words
        self.said = set(message.terms)
        self.numbers = {
            float(n) for n in re.findall(r"\d+(?:\.\d+)?", message.text.replace(",", ""))
        }
        self.negation = bool(language().negators & message.words)
        # another language: the LLM's English reading of kinds is all there is to go on
        self.translated = bool(rules.not_understood) and foreign(message)
        # another language: categories must follow from the LLM's own English reading
        need = str(raw.get("need", ""))
        self.translation = set(phrase_terms(need)) if self.translated else set()
        self.invented = 0

    def category(self, seg: str) -> bool:
        c = self.words.lexicon.categories.get(seg)
        names = {term(w) for w in re.split(r"[\s&,/]+", c.display if c else seg) if w}
        basis = self.said | self.translation
        readings = [
            r
            for k, rs in {**self.words.table, **self.words.synonyms}.items()
            if set(k) <= basis
            for r in rs
        ]
        return bool(names & basis) or any(r.value == seg for r in readings)

    def value(self, key: str, value: str) -> bool:
        vt = set(phrase_terms(value))
        if vt and vt <= self.said:
            return True
        facet = self.words.lexicon.facet(key)
        color_of = language().color_of
        return bool(
            facet and facet.color and any(color_of.get(t) == term(value) for t in self.said)
        )

    def keep(self, values, ok) -> list:
        values = [v for v in values or [] if isinstance(v, str | int)]
        good = [v for v in values if ok(v)]
        self.invented += len(values) - len(good)
        return good

    def price(self, value) -> float | None:
        if isinstance(value, int | float) and not isinstance(value, bool):
            if float(value) in self.numbers:
                return float(value)
            self.invented += 1
        return None

    def pairs(self, values, need_negation: bool) -> dict[str, list[str]]:
        """ "key=value" pairs whose value was said (an exclusion only where a negator was)."""
        out: dict[str, list[str]] = {}
        for v in self.keep(
            values,
            lambda x: (
                "=" in str(x)
                and self.value(*str(x).split("=", 1))
                and (self.negation or not need_negation)
            ),
        ):
            k, val = str(v).split("=", 1)
            out.setdefault(k, []).append(val)
        return out


def check_reading(
    raw: dict,
    message: Message,
    state: DialogueState,
    rules: TurnInterpretation,
    words: CatalogWords,
) -> tuple[TurnInterpretation, int]:
    """The LLM's reading (`raw`, its JSON) kept only where the shopper's words bear it out,
    and how many values were dropped."""
    lang, lower = language(), message.lower
    g = Grounds(message, raw, rules, words)
    cons = ConstraintSet(
        price_max=g.price(raw.get("price_max")),
        price_min=g.price(raw.get("price_min")),
        categories=g.keep(raw.get("categories"), g.category),
        facets=g.pairs(raw.get("facets"), False),
        exclude_facets=g.pairs(raw.get("exclude_facets"), True),
    )
    ordinals = {lang.ordinals[t] for t in g.said if t in lang.ordinals} | {
        int(n) for n in NUMBERED.findall(lower)
    }
    references = g.keep(
        raw.get("references"),
        lambda r: r in ordinals or (r in (1, 2) and BOTH_OR_TWO.search(lower)),
    )
    remove = g.keep(
        raw.get("remove"),
        lambda r: (
            r in lower
            or (lang.is_color_key(r) and any(lang.is_color_key(w) for w in lower.split()))
        ),
    )
    relative = raw.get("relative_price")
    if relative not in ("cheaper", "pricier") or not PRICE_TALK.search(lower):
        relative = None
    intent = raw.get("intent") if raw.get("intent") in INTENTS else "search"
    if intent == "cart" and not CART.search(lower):
        intent, g.invented = ("refine" if state.shown else "search"), g.invented + 1
    need = " ".join(
        w
        for w in str(raw.get("need", "")).split()
        if term(w) in g.said or (g.translated and words.is_catalog_word(term(w)))
    )
    reading = TurnInterpretation(
        intent=intent,
        need=need,
        constraints=cons,
        remove=remove,
        references=references,
        relative_price=relative,
        source="llm",
        question=message.text.strip() if intent == "ask_item" else "",
    )
    return reading, g.invented
