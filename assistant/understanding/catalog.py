"""What the turn reader may ask of the catalog while it reads: how many products a reading
leaves, how widely a facet is listed among the products in question, and how the category
segments a shopper named combine into this catalog's own paths."""

from __future__ import annotations

import functools

import numpy as np

from retrieval.facets import FacetIndex, path_segments
from retrieval.lexicon import Lexicon
from retrieval.schema import SearchFilters


class CatalogView:
    def __init__(self, facets: FacetIndex, lexicon: Lexicon):
        self.facets, self.lexicon = facets, lexicon
        self._paths = [tuple(p.split("/")) for p in lexicon.paths]

    def count(self, filters: SearchFilters) -> int:
        return self.facets.count(filters)

    @functools.lru_cache(maxsize=256)  # noqa: B019 - one view per index generation
    def _has(self, key: str) -> np.ndarray:
        return self.facets.has_key(key)

    def coverage(self, key: str, categories: tuple[str, ...] = ()) -> float:
        """Share of the products under `categories` (all products: none) that list the facet."""
        base = self.facets.mask(SearchFilters(categories=list(categories)))
        n = int(base.sum())
        return float((self._has(key) & base).sum()) / n if n else 0.0

    def co_occur(self, segments: list[str]) -> bool:
        """Some path of the catalog holds all these segments."""
        want = set(segments)
        return any(want <= set(p) for p in self._paths)

    def always_under(self, child: str, parent: str) -> bool:
        """Every path holding `child` also holds `parent` ("tanks" always under "tops")."""
        paths = [p for p in self._paths if child in p]
        return bool(paths) and all(parent in p for p in paths)

    def depth(self, segment: str) -> int:
        c = self.lexicon.categories.get(segment)
        return c.depth if c else 0

    def is_top(self, segment: str) -> bool:
        """A top-level category with kinds below it (a department, an audience): it narrows
        a search. In a flat catalog the top level is the kinds themselves."""
        c = self.lexicon.categories.get(segment)
        return bool(c and c.depth == 0 and not c.derived and not c.leaf)

    def compose(self, segments: list[str]) -> list[str]:
        """Filter values meaning the named segments together, as the catalog's own paths:
        ["<top>", "<kind>"] → ["<top>/<group>/<kind>"]; alternatives stay alternatives
        (["<kind a>", "<kind b>"]: either). Paths holding the most named
        segments win."""
        named = list(dict.fromkeys(segments))
        if len(named) <= 1:
            return named
        scored = [(len(set(named) & set(p)), p) for p in self._paths]
        best = max((s for s, _ in scored), default=0)
        if best <= 1:
            return named
        out = []
        for s, p in scored:
            if s == best:
                idx = [i for i, seg in enumerate(p) if seg in named]
                out.append("/".join(p[idx[0] : idx[-1] + 1]))
        return sorted(set(out))

    @staticmethod
    def path_key(path: str) -> str:
        return "/".join(path_segments(path))
