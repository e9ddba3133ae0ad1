"""Written relevance criteria and per-turn expectations, in the filter language of
`aisle search` plus title tests:

    "category=<kind>"  "<facet>=<value>"  "price<80"  "<facet>=16GB"  "quantity>=2 TB"
    "title~<word>"      a title word starts with any of these ("title~<word>|<word>")
    "title!~<word>"     no title word starts with these

A product satisfies a list when it passes every entry (`retrieval.facets.product_matches`
for the filters: the same rule the search enforces)."""

from __future__ import annotations

import re

from base.language.text import fold
from retrieval.facets import product_matches
from retrieval.filter_syntax import parse_filters
from retrieval.schema import Product, SearchFilters

TITLE = re.compile(r"^\s*title\s*(!?~)\s*(.+)$")


class Criteria:
    def __init__(self, items: list[str], facet_keys: list[str] | None = None):
        self.titles: list[tuple[bool, list[str]]] = []  # (must contain, words)
        rest = []
        for item in items:
            if m := TITLE.match(item):
                self.titles.append((m.group(1) == "~", [w.strip() for w in m.group(2).split("|")]))
            else:
                rest.append(item)
        self.filters: SearchFilters = parse_filters(rest, facet_keys)

    def satisfied_by(self, product: Product) -> bool:
        title = fold(product.title)
        for want, stems in self.titles:
            hit = any(re.search(r"(?<![a-z])" + re.escape(fold(s)), title) for s in stems)
            if hit != want:
                return False
        # a product shown must be visible anyway; the filters say the rest
        return product_matches(product, self.filters)
