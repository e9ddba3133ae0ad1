"""Hard filters, evaluated in process over a columnar view of the catalog.

Chroma's `where` takes ~74 ms at 100k products (TESTING.md); a filter here is a few
numpy operations over inverted lists and a variant table, so the search can filter first
and rank only what is allowed. `product_matches` is the same rule in plain Python: the
reference the vectorised version is tested against.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from .color import BASIC_COLORS, basic_color
from .schema import Product, SearchFilters, Variant, normalise


def path_segments(path: str) -> list[str]:
    return [normalise(s) for s in path.replace(">", "/").split("/") if s.strip()]


def category_sub_paths(paths: Iterable[str]) -> list[str]:
    """Every contiguous run of segments: "Men/Tops/Jackets" is found by "men",
    "men/tops", "tops/jackets", "jackets" …"""
    runs: set[str] = set()
    for path in paths:
        segs = path_segments(path)
        for i in range(len(segs)):
            for j in range(i + 1, len(segs) + 1):
                runs.add("/".join(segs[i:j]))
    return sorted(runs)


def color_matches(catalog_color: str | None, wanted: str) -> bool:
    """'Navy' matches 'navy' and also the basic colour 'blue'."""
    if catalog_color is None:
        return False
    if normalise(catalog_color) == normalise(wanted):
        return True
    return normalise(wanted) in BASIC_COLORS and basic_color(catalog_color) == normalise(wanted)


def variant_matches(variant: Variant, filters: SearchFilters) -> bool:
    if filters.colors and not any(color_matches(variant.color, c) for c in filters.colors):
        return False
    if any(color_matches(variant.color, c) for c in filters.exclude_colors):
        return False
    size = normalise(variant.size) if variant.size else None
    if filters.sizes and size not in {normalise(s) for s in filters.sizes}:
        return False
    if size is not None and size in {normalise(s) for s in filters.exclude_sizes}:
        return False
    return not (filters.available_only and not variant.available)


def product_matches(product: Product, filters: SearchFilters) -> bool:
    """The filter rule, one product at a time (the reference for `FacetIndex.mask`)."""
    if not product.visible or (filters.available_only and not product.available):
        return False
    price = product.price
    if filters.price_min is not None and (price is None or price < filters.price_min):
        return False
    if filters.price_max is not None and (price is None or price > filters.price_max):
        return False
    runs = set(category_sub_paths(product.categories))
    if filters.categories and not any(
        "/".join(path_segments(c)) in runs for c in filters.categories
    ):
        return False
    if any("/".join(path_segments(c)) in runs for c in filters.exclude_categories):
        return False
    attrs = {normalise(k): {normalise(v) for v in vs} for k, vs in product.attributes.items()}
    for key, values in filters.attributes.items():
        if not attrs.get(normalise(key), set()) & {normalise(v) for v in values}:
            return False
    for key, values in filters.exclude_attributes.items():
        if attrs.get(normalise(key), set()) & {normalise(v) for v in values}:
            return False
    return any(variant_matches(v, filters) for v in product.purchasable_variants())


class FacetIndex:
    """Columns, inverted lists and a variant table for `n` products in row order."""

    def __init__(
        self,
        price: np.ndarray,
        available: np.ndarray,
        visible: np.ndarray,
        postings: dict[str, np.ndarray],
        variant_row: np.ndarray,
        variant_color: np.ndarray,  # index into colors, -1 for none
        variant_size: np.ndarray,  # index into sizes, -1 for none
        variant_available: np.ndarray,
        colors: list[str],
        sizes: list[str],
        attribute_keys: dict[str, str],  # normalised key → display key
    ):
        self.price, self.available, self.visible = price, available, visible
        self.postings = postings
        self.variant_row, self.variant_color = variant_row, variant_color
        self.variant_size, self.variant_available = variant_size, variant_available
        self.colors, self.sizes, self.attribute_keys = colors, sizes, attribute_keys
        self.n = len(price)

    # ---- building and saving ------------------------------------------------------------
    @classmethod
    def build(cls, products: list[Product]) -> FacetIndex:
        colors: dict[str, int] = {}
        sizes: dict[str, int] = {}
        lists: dict[str, list[int]] = defaultdict(list)
        keys: dict[str, str] = {}
        v_row, v_color, v_size, v_avail = [], [], [], []
        for row, product in enumerate(products):
            for run in category_sub_paths(product.categories):
                lists[f"category:{run}"].append(row)
            for key, values in product.attributes.items():
                keys.setdefault(normalise(key), key)
                for value in {normalise(v) for v in values}:
                    lists[f"attr:{normalise(key)}:{value}"].append(row)
            for variant in product.purchasable_variants():
                v_row.append(row)
                v_color.append(
                    colors.setdefault(variant.color, len(colors)) if variant.color else -1
                )
                v_size.append(sizes.setdefault(variant.size, len(sizes)) if variant.size else -1)
                v_avail.append(variant.available)
        return cls(
            price=np.array([np.nan if p.price is None else p.price for p in products], np.float64),
            available=np.array([p.available for p in products], dtype=bool),
            visible=np.array([p.visible for p in products], dtype=bool),
            postings={k: np.asarray(v, dtype=np.int32) for k, v in lists.items()},
            variant_row=np.asarray(v_row, dtype=np.int32),
            variant_color=np.asarray(v_color, dtype=np.int32),
            variant_size=np.asarray(v_size, dtype=np.int32),
            variant_available=np.asarray(v_avail, dtype=bool),
            colors=list(colors),
            sizes=list(sizes),
            attribute_keys=keys,
        )

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        names = sorted(self.postings)
        offsets = np.cumsum([0] + [len(self.postings[k]) for k in names])
        np.savez(
            folder / "facets.npz",
            price=self.price,
            available=self.available,
            visible=self.visible,
            variant_row=self.variant_row,
            variant_color=self.variant_color,
            variant_size=self.variant_size,
            variant_available=self.variant_available,
            postings=np.concatenate([self.postings[k] for k in names])
            if names
            else np.zeros(0, np.int32),
            offsets=offsets,
        )
        meta = {
            "posting_keys": names,
            "colors": self.colors,
            "sizes": self.sizes,
            "attribute_keys": self.attribute_keys,
        }
        (folder / "facets.json").write_text(json.dumps(meta, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> FacetIndex:
        meta = json.loads((folder / "facets.json").read_text())
        arrays = np.load(folder / "facets.npz")
        flat, offsets = arrays["postings"], arrays["offsets"]
        postings = {
            key: flat[offsets[i] : offsets[i + 1]] for i, key in enumerate(meta["posting_keys"])
        }
        return cls(
            price=arrays["price"],
            available=arrays["available"],
            visible=arrays["visible"],
            postings=postings,
            variant_row=arrays["variant_row"],
            variant_color=arrays["variant_color"],
            variant_size=arrays["variant_size"],
            variant_available=arrays["variant_available"],
            colors=meta["colors"],
            sizes=meta["sizes"],
            attribute_keys=meta["attribute_keys"],
        )

    # ---- evaluating ---------------------------------------------------------------------
    def _union(self, keys: Iterable[str]) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for key in keys:
            rows = self.postings.get(key)
            if rows is not None:
                out[rows] = True
        return out

    def _vocab_lut(self, vocab: list[str], wanted: list[str], colour: bool) -> np.ndarray:
        """Boolean lookup over vocab ids, with a trailing False slot for 'none' (-1)."""
        lut = np.zeros(len(vocab) + 1, dtype=bool)
        for i, value in enumerate(vocab):
            if colour:
                lut[i] = any(color_matches(value, w) for w in wanted)
            else:
                lut[i] = normalise(value) in {normalise(w) for w in wanted}
        return lut

    def mask(self, filters: SearchFilters) -> np.ndarray:
        """Rows of the products that pass every filter."""
        m = self.visible.copy()
        if filters.available_only:
            m &= self.available
        with np.errstate(invalid="ignore"):
            if filters.price_min is not None:
                m &= self.price >= filters.price_min
            if filters.price_max is not None:
                m &= self.price <= filters.price_max

        def cat_keys(values: list[str]) -> list[str]:
            return [f"category:{'/'.join(path_segments(v))}" for v in values]

        if filters.categories:
            m &= self._union(cat_keys(filters.categories))
        if filters.exclude_categories:
            m &= ~self._union(cat_keys(filters.exclude_categories))
        for key, values in filters.attributes.items():
            m &= self._union(f"attr:{normalise(key)}:{normalise(v)}" for v in values)
        for key, values in filters.exclude_attributes.items():
            m &= ~self._union(f"attr:{normalise(key)}:{normalise(v)}" for v in values)

        if (
            filters.colors
            or filters.sizes
            or filters.exclude_colors
            or filters.exclude_sizes
            or filters.available_only
        ):
            ok = np.ones(len(self.variant_row), dtype=bool)
            if filters.colors:
                ok &= self._vocab_lut(self.colors, filters.colors, True)[self.variant_color]
            if filters.exclude_colors:
                ok &= ~self._vocab_lut(self.colors, filters.exclude_colors, True)[
                    self.variant_color
                ]
            if filters.sizes:
                ok &= self._vocab_lut(self.sizes, filters.sizes, False)[self.variant_size]
            if filters.exclude_sizes:
                ok &= ~self._vocab_lut(self.sizes, filters.exclude_sizes, False)[self.variant_size]
            if filters.available_only:
                ok &= self.variant_available
            has_variant = np.zeros(self.n, dtype=bool)
            has_variant[self.variant_row[ok]] = True
            m &= has_variant
        return m

    def explain_empty(self, filters: SearchFilters) -> str:
        """Which constraint emptied the result, in words a shopper understands."""
        parts = filters.describe()
        alone = [(label, int(self.mask(f).sum())) for label, f in parts]
        for label, count in alone:
            if count == 0:
                return f"no product matches {label}" + self._vocab_hint(label)
        # every constraint matches something alone: find the one that empties the rest
        combined = SearchFilters()
        for i, (label, single) in enumerate(parts):
            merged = _merge(combined, single)
            if not self.mask(merged).any():
                before = " and ".join(lbl for lbl, _ in parts[:i]) or "the catalog"
                counts = ", ".join(f"{lbl}: {n}" for lbl, n in alone)
                return f"{label} together with {before} leaves no product (alone: {counts})"
            combined = merged
        return "no product matches these filters"

    def _vocab_hint(self, label: str) -> str:
        key = label.split("=")[0].rstrip("!")
        if key == "color":
            return f" (colours in the catalog: {', '.join(sorted(self.colors)[:20])})"
        if key == "size":
            return f" (sizes in the catalog: {', '.join(sorted(self.sizes)[:25])})"
        return ""

    def vocabulary(self) -> dict[str, list[str]]:
        """The catalog's own words for each facet (what the dialogue engine may use).
        Merchandising collections ("Collections/Eco Friendly", "Promotions/Sale": top-level
        categories whose every product is also listed elsewhere) are kept apart from the
        categories that say what a product is."""
        runs = [k.split(":", 1)[1] for k in self.postings if k.startswith("category:")]
        inner = {seg for run in runs for seg in run.split("/")[1:]}
        tops = {run for run in runs if "/" not in run and run not in inner}
        rows = {t: set(self.postings[f"category:{t}"].tolist()) for t in tops}
        collections = {
            t
            for t in tops
            if rows[t] and rows[t] <= set().union(*(rows[o] for o in tops if o != t))
        }

        real = tops - collections
        anchored = [r for r in runs if r.split("/")[0] in real]

        def in_collection(run: str) -> bool:
            """Only ever found under a collection: no path from a real top ends with it."""
            return not any(x == run or x.endswith("/" + run) for x in anchored)

        vocab: dict[str, list[str]] = {
            "category": sorted(r for r in runs if not in_collection(r)),
            "collection": sorted(r for r in runs if in_collection(r)),
            "color": sorted(self.colors),
            "size": self.sizes,
        }
        for key in self.postings:
            if key.startswith("attr:"):
                _, attr, value = key.split(":", 2)
                vocab.setdefault(self.attribute_keys.get(attr, attr), []).append(value)
        return vocab


def _merge(a: SearchFilters, b: SearchFilters) -> SearchFilters:
    data = a.model_dump()
    for name, value in b.model_dump(exclude_defaults=True).items():
        if isinstance(value, list):
            data[name] = data[name] + value
        elif isinstance(value, dict):
            data[name] = {**data[name], **value}
        else:
            data[name] = value
    return SearchFilters(**data)
