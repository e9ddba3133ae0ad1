"""Dropping a constraint by name: "any colour is fine", "the brand doesn't matter",
"forget the price", "no budget limit", "start over". A name is the catalog's own facet
name ("material", "screen size", "roast"), a colour or size word where the catalog has such
a facet, or price/budget, category/kind, and "all"."""

from __future__ import annotations

from base.language.general import language, phrasings
from base.language.text import term

from .words import CatalogWords, Token

_P = phrasings()
PATTERNS = [
    _P.pattern(name) for name in ("drop_any", "drop_doesnt_matter", "drop_forget", "drop_no_limit")
]
RESET = _P.pattern("start_over")
PRICE_WORDS = _P.words["price_names"]
CATEGORY_WORDS = _P.words["category_names"]


def slot_of(name: str, words: CatalogWords) -> str | None:
    """The slot a name drops, or None when it names nothing this catalog filters on."""
    terms = tuple(term(w) for w in name.split())
    if not terms:
        return None
    if terms[0] in PRICE_WORDS:
        return "price"
    if terms[0] in CATEGORY_WORDS and len(terms) == 1:
        return "category"
    lex = words.lexicon
    for length in (len(terms), 1):
        key = words.facet_names.get(terms[:length])
        if key:
            return key.casefold()
    if language().is_color_key(terms[0]) and lex.color_keys():
        return lex.color_keys()[0].casefold()
    return None


def read_removals(
    lower: str, tokens: list[Token], words: CatalogWords
) -> tuple[list[str], set[int]]:
    """(slots dropped, tokens consumed)."""
    out: list[str] = []
    consumed: set[int] = set()

    def take(span: tuple[int, int]) -> None:
        consumed.update(i for i, t in enumerate(tokens) if t.start >= span[0] and t.end <= span[1])

    if m := RESET.search(lower):
        take(m.span())
        return ["all"], consumed
    for pattern in PATTERNS:
        for m in pattern.finditer(lower):
            name = m.group(1)
            slot = slot_of(name, words)
            if slot is None and " " in name:  # "any colour is": the first word alone
                slot = slot_of(name.split()[0], words)
                if slot:
                    take((m.start(), m.start(1) + len(name.split()[0])))
                    out.append(slot)
                    continue
            if slot:
                out.append(slot)
                take(m.span())
    return list(dict.fromkeys(out)), consumed
