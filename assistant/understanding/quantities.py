"""Numeric constraints with units: "at least 16 GB", "under 2 kg", "a 55 inch tv",
"6 bottles", "80% cocoa". A quantity counts only where the catalog has a facet (or product
titles) of its dimension; a facet named next to it narrows it ("16GB RAM", "80% cocoa")."""

from __future__ import annotations

import re

from base.language.general import language, phrasings
from base.language.quantities import describe, find_quantities
from base.language.text import term
from base.language.text import words as text_words
from retrieval.schema import QuantityFilter, Range

from .prices import _alt
from .words import CatalogWords, Token

AROUND = 0.1


def spell_numbers(text: str) -> str:
    """ "a six pack", "two kilos" → "a   6 pack", "  2 kilos": digits padded on the left, so
    the text keeps its length and every span still indexes the message."""
    numbers = language().numbers
    pattern = re.compile(r"\b(" + "|".join(map(re.escape, numbers)) + r")\b")

    def digits(m: re.Match) -> str:
        d = f"{numbers[m.group(1)]:g}"
        return d.rjust(len(m.group(1))) if len(d) <= len(m.group(1)) else m.group(1)

    return pattern.sub(digits, text)


def read_quantities(
    lower: str, tokens: list[Token], words: CatalogWords, dimensions: set[str]
) -> tuple[list[QuantityFilter], list[tuple[int, int]]]:
    """(filters, character spans read). `dimensions`: those the catalog can filter on."""
    b = language().bounds
    unit_of = language().unit_of
    out: list[QuantityFilter] = []
    spans: list[tuple[int, int]] = []
    phrases = words.phrases
    for q in find_quantities(spell_numbers(lower)):
        if q.dimension not in dimensions:
            continue
        begin = len(re.sub(r"\w+$", "", lower[: q.start]))  # a spelled number's own start
        said = " ".join(term(w) for w in text_words(lower[begin : q.end]))
        if said in phrases:
            continue  # "one piece <kind>": a phrase the catalog's titles use, not an amount
        head, tail = lower[max(0, q.start - 30) : q.start], lower[q.end :]
        r = Range(min=q.value, max=q.value)
        start, end = q.start, q.end
        checks = [
            (b.max_strict, "max", True),
            (b.max_inclusive, "max", False),
            (b.min_strict, "min", True),
            (b.min_inclusive, "min", False),
            (b.around, "around", False),
        ]
        for phrases, kind, strict in checks:
            if m := re.search(rf"(?:\b|^|\s)(?:{_alt(phrases)})\s*$", head):
                start = q.start - len(head) + m.start()
                r = _bound(kind, strict, q.value)
                break
        else:
            for phrases, kind in ((b.max_after, "max"), (b.min_after, "min")):
                if m := re.match(rf"\s*(?:{_alt(phrases)})\b", tail):
                    end = q.end + m.end()
                    r = _bound(kind, False, q.value)
                    break
        keys, named_end = _named_facets(q.end, q.start, tokens, words, q.dimension)
        end = max(end, named_end)
        factor = unit_of.get(q.unit.casefold(), (q.dimension, 1.0))[1]
        unit = _catalog_spelling(q.unit, q.dimension, words)

        def write(x: float, unit=unit, factor=factor, dim=q.dimension) -> str:
            return describe(x, dim, unit, x / factor)

        label = r.describe(write)
        out.append(
            QuantityFilter(dimension=q.dimension, keys=keys, range=r, unit=unit, label=label)
        )
        spans.append((start, end))
    return out, spans


def _catalog_spelling(unit: str, dimension: str, words: CatalogWords) -> str:
    """ "gb" as the catalog writes it ("GB"), so labels read like the products."""
    for f in words.lexicon.facets.values():
        if f.unit and f.unit.casefold() == unit.casefold():
            return f.unit
    return unit


def _bound(kind: str, strict: bool, value: float) -> Range:
    if kind == "max":
        return Range(max=value, max_strict=strict)
    if kind == "min":
        return Range(min=value, min_strict=strict)
    return Range(min=value * (1 - AROUND), max=value * (1 + AROUND))


def _named_facets(
    after: int, before: int, tokens: list[Token], words: CatalogWords, dimension: str
) -> tuple[list[str], int]:
    """A facet of this dimension named right after the quantity ("16GB RAM", "16GB of
    RAM") or just before it ("RAM of 16GB", "cocoa 80%"), and where the name ends."""
    idx = [i for i, t in enumerate(tokens) if t.start >= after]
    if idx:
        i = idx[0] + (1 if tokens[idx[0]].text in phrasings().words["of"] else 0)
        if i < len(tokens) and (hit := words.facet_named(tokens, i)):
            f = words.lexicon.facet(hit[0])
            if f and dimension in f.dimensions:
                return [f.key], tokens[i + hit[1] - 1].end
    prev = [i for i, t in enumerate(tokens) if t.end <= before]
    for i in prev[-3:]:
        if (hit := words.facet_named(tokens, i)) and i + hit[1] - 1 >= prev[-1] - 1:
            f = words.lexicon.facet(hit[0])
            if f and dimension in f.dimensions:
                return [f.key], 0
    return [], 0
