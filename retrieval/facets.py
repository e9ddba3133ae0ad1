"""Hard filters, evaluated in process over a columnar view of the catalog.

Chroma's `where` takes ~74 ms at 100k products (TESTING.md); a filter here is a few numpy
operations over inverted lists and a variant table, so the search can filter first and
rank only what is allowed. `product_matches` is the same rule in plain Python: the
reference the vectorised version is tested against.

The rule (see `SearchFilters`): a product passes when it is visible (and in stock, if
asked), lies under one of the categories (its title's kind counts as a category below its
own: retrieval/kinds.py), and one of its variants meets every facet value, exclusion,
quantity and price bound at once. A variant's value for a facet is its own option value,
or, for a facet it has no option for, its product's attribute values.
"""

from __future__ import annotations

import functools
import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from base.language.general import language, phrasings
from base.language.quantities import find_quantities, parse_quantity

from .color import basic_color
from .kinds import kind_paths
from .schema import Product, QuantityFilter, SearchFilters, Variant, normalise

EPS = 1e-6  # "1 kg" and "1000 g" compare equal after the unit conversion


def path_segments(path: str) -> list[str]:
    return [normalise(s) for s in path.replace(">", "/").split("/") if s.strip()]


def category_sub_paths(paths: Iterable[str]) -> list[str]:
    """Every contiguous run of segments: "A/B/C" is found by "a", "a/b", "b/c", "c" …"""
    runs: set[str] = set()
    for path in paths:
        segs = path_segments(path)
        for i in range(len(segs)):
            for j in range(i + 1, len(segs) + 1):
                runs.add("/".join(segs[i:j]))
    return sorted(runs)


def product_runs(product: Product) -> set[str]:
    return set(category_sub_paths(kind_paths(product)))


def value_matches(key: str, catalog_value: str | None, wanted: str) -> bool:
    """Same value (case, accents, spaces ignored); on a colour facet a basic colour also
    matches the catalog's shades (by the language data's colors.shades), and "&" reads as
    "and"."""
    if catalog_value is None:
        return False
    a, b = normalise(catalog_value), normalise(wanted)
    amp = phrasings().ampersand
    if a == b or a.replace("&", amp) == b.replace("&", amp):
        return True
    return (  # the set lookup first: every value of a thousand-value facet comes here
        b in language().colors.basic
        and language().is_color_key(key)
        and basic_color(catalog_value) == b
    )


def variant_values(product: Product, variant: Variant, key: str) -> list[str]:
    """The variant's value for a facet: its option, else the product's attribute values."""
    own = variant.option(key)
    if own is not None:
        return [own]
    return product.attributes_by_key.get(normalise(key), [])


def value_quantities(key: str, value: str) -> list[tuple[str, str, float]]:
    q = parse_quantity(value)
    if q is None:
        return []
    out = [(q.dimension, normalise(key), q.value)]
    if q.count:
        out.append(("count", normalise(key), float(q.count)))
    return out


def variant_quantities(product: Product, variant: Variant) -> list[tuple[str, str, float]]:
    """(dimension, facet key, value in base units) of one variant: from its options, from its
    product's attributes for facets it has no option for, and, for a dimension no facet
    states, from quantities in the title ('Sprite Stasis Ball 55 cm'); key '' then."""
    out: list[tuple[str, str, float]] = []
    own = {normalise(k) for k in variant.options}
    for k, v in variant.options.items():
        out += value_quantities(k, v)
    for k, vs in product.attributes.items():
        if normalise(k) not in own:
            for v in vs:
                out += value_quantities(k, v)
    stated = {d for d, _, _ in out}
    for q in find_quantities(product.title):
        if q.dimension not in stated:
            out.append((q.dimension, "", q.value))
            if q.count:
                out.append(("count", "", float(q.count)))
    return out


def quantity_ok(q: QuantityFilter, rows: list[tuple[str, str, float]]) -> bool:
    keys = {normalise(k) for k in q.keys}
    r = q.range
    return any(d == q.dimension and (not keys or k in keys) and _in_range(r, v) for d, k, v in rows)


def _in_range(r, v: float) -> bool:
    lo = None if r.min is None else r.min * (1 + EPS if r.min_strict else 1 - EPS)
    hi = None if r.max is None else r.max * (1 - EPS if r.max_strict else 1 + EPS)
    if lo is not None and (v <= lo if r.min_strict else v < lo):
        return False
    return not (hi is not None and (v >= hi if r.max_strict else v > hi))


def variant_matches(product: Product, variant: Variant, filters: SearchFilters) -> bool:
    price = filters.price
    if not price.is_open() and not price.contains(product.variant_price(variant)):
        return False
    if filters.available_only and not variant.available:
        return False
    for key, wanted in filters.facets.items():
        values = variant_values(product, variant, key)
        if not any(value_matches(key, v, w) for v in values for w in wanted):
            return False
    for key, banned in filters.exclude_facets.items():
        values = variant_values(product, variant, key)
        if any(value_matches(key, v, b) for v in values for b in banned):
            return False
    if filters.quantities:
        rows = variant_quantities(product, variant)
        if not all(quantity_ok(q, rows) for q in filters.quantities):
            return False
    return True


def product_listed(product: Product, filters: SearchFilters) -> bool:
    """The rule's product-level half: shown, available if asked, in the categories."""
    if not product.visible or (filters.available_only and not product.available):
        return False
    runs = product_runs(product)
    if filters.categories and not any(
        "/".join(path_segments(c)) in runs for c in filters.categories
    ):
        return False
    return not any("/".join(path_segments(c)) in runs for c in filters.exclude_categories)


def product_matches(product: Product, filters: SearchFilters) -> bool:
    """The filter rule, one product at a time (the reference for `FacetIndex.mask`)."""
    return product_listed(product, filters) and any(
        variant_matches(product, v, filters) for v in product.purchasable_variants()
    )


def matching_variants(product: Product, filters: SearchFilters) -> list[Variant]:
    return [v for v in product.purchasable_variants() if variant_matches(product, v, filters)]


class FacetIndex:
    """Columns, inverted lists and a variant table for `n` products in row order."""

    def __init__(self, arrays: dict[str, np.ndarray], meta: dict):
        self.a, self.meta = arrays, meta
        self.n = len(arrays["visible"])
        offsets, flat = arrays["offsets"], arrays["postings"]
        self.postings = {
            key: flat[offsets[i] : offsets[i + 1]] for i, key in enumerate(meta["posting_keys"])
        }
        self.option_keys: list[str] = meta["option_keys"]  # normalised
        self.option_values: dict[str, list[str]] = meta["option_values"]
        self.attribute_values: dict[str, list[str]] = meta["attribute_values"]  # normalised key
        self.attribute_keys: dict[str, str] = meta["attribute_keys"]  # normalised → display
        self.dimensions: list[str] = meta["dimensions"]
        self.quantity_keys: list[str] = meta["quantity_keys"]
        self._lists: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # see _option_lists

    # ---- building and saving ------------------------------------------------------------
    @classmethod
    def build(cls, products: list[Product]) -> FacetIndex:
        lists: dict[str, list[int]] = defaultdict(list)
        display: dict[str, str] = {}
        attr_values: dict[str, dict[str, str]] = defaultdict(dict)
        opt_values: dict[str, dict[str, int]] = defaultdict(dict)
        opt_rows: dict[str, list[tuple[int, int]]] = defaultdict(list)
        dims: dict[str, int] = {}
        qkeys: dict[str, int] = {"": 0}
        v_row, v_price, v_avail = [], [], []
        q_var, q_dim, q_key, q_val = [], [], [], []
        for row, product in enumerate(products):
            for run in category_sub_paths(kind_paths(product)):
                lists[f"category:{run}"].append(row)
            for key, values in product.attributes.items():
                k = normalise(key)
                display.setdefault(k, key)
                for value in {normalise(v): v for v in values}.values():
                    attr_values[k].setdefault(normalise(value), value)
                    lists[f"attr:{k}:{normalise(value)}"].append(row)
            for variant in product.purchasable_variants():
                vi = len(v_row)
                v_row.append(row)
                price = product.variant_price(variant)
                v_price.append(np.nan if price is None else price)
                v_avail.append(variant.available and product.available)
                for key, value in variant.options.items():
                    k = normalise(key)
                    display.setdefault(k, key)
                    ids = opt_values[k]
                    opt_rows[k].append((vi, ids.setdefault(value, len(ids))))
                for d, k, value in variant_quantities(product, variant):
                    q_var.append(vi)
                    q_dim.append(dims.setdefault(d, len(dims)))
                    q_key.append(qkeys.setdefault(k, len(qkeys)))
                    q_val.append(value)
        n_var = len(v_row)
        option_keys = sorted(opt_values)
        options = np.full((len(option_keys), n_var), -1, dtype=np.int32)
        for i, k in enumerate(option_keys):
            for vi, vid in opt_rows[k]:
                options[i, vi] = vid
        names = sorted(lists)
        arrays = {
            "visible": np.array([p.visible for p in products], dtype=bool),
            "available": np.array([p.available for p in products], dtype=bool),
            "price": np.array([np.nan if p.price is None else p.price for p in products]),
            "variant_row": np.asarray(v_row, dtype=np.int32),
            "variant_price": np.asarray(v_price, dtype=np.float64),
            "variant_available": np.asarray(v_avail, dtype=bool),
            "options": options,
            "q_var": np.asarray(q_var, dtype=np.int32),
            "q_dim": np.asarray(q_dim, dtype=np.int16),
            "q_key": np.asarray(q_key, dtype=np.int32),
            "q_val": np.asarray(q_val, dtype=np.float64),
            "postings": np.concatenate([np.asarray(lists[k], np.int32) for k in names])
            if names
            else np.zeros(0, np.int32),
            "offsets": np.cumsum([0] + [len(lists[k]) for k in names]),
        }
        meta = {
            "posting_keys": names,
            "option_keys": option_keys,
            "option_values": {k: list(opt_values[k]) for k in option_keys},
            "attribute_values": {k: list(v.values()) for k, v in attr_values.items()},
            "attribute_keys": display,
            "dimensions": list(dims),
            "quantity_keys": list(qkeys),
        }
        return cls(arrays, meta)

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        np.savez(folder / "facets.npz", **self.a)
        (folder / "facets.json").write_text(json.dumps(self.meta, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> FacetIndex:
        meta = json.loads((folder / "facets.json").read_text())
        if "option_keys" not in meta:
            raise ValueError(
                f"{folder} was written by an older Aisle: run `aisle ingest` again to rebuild it"
            )
        with np.load(folder / "facets.npz") as data:
            arrays = {k: data[k] for k in data.files}
        return cls(arrays, meta)

    # ---- what the catalog holds ---------------------------------------------------------
    @property
    def variant_row(self) -> np.ndarray:
        return self.a["variant_row"]

    def keys(self) -> list[str]:
        """Display names of every facet (attributes and variant options)."""
        return list(dict.fromkeys(self.attribute_keys.values()))

    def values_of(self, key: str) -> list[str]:
        k = normalise(key)
        vals = list(self.option_values.get(k, [])) + list(self.attribute_values.get(k, []))
        return list({normalise(v): v for v in vals}.values())

    def has_key(self, key: str) -> np.ndarray:
        """Products that list any value for this facet."""
        k = normalise(key)
        out = self._union(f"attr:{k}:{normalise(v)}" for v in self.attribute_values.get(k, []))
        if k in self.option_keys:
            has = self.a["options"][self.option_keys.index(k)] >= 0
            out[self.variant_row[has]] = True
        return out

    # ---- evaluating ---------------------------------------------------------------------
    def _union(self, keys: Iterable[str]) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for key in keys:
            rows = self.postings.get(key)
            if rows is not None:
                out[rows] = True
        return out

    def _matches(self, key: str, wanted: list[str]) -> tuple[list[str], list[int]]:
        """The facet's attribute values and option value ids (if an option) that match."""
        k = normalise(key)
        hits = [
            v
            for v in self.attribute_values.get(k, [])
            if any(value_matches(key, v, w) for w in wanted)
        ]
        vocab = self.option_values.get(k, [])
        ids = [j for j, v in enumerate(vocab) if any(value_matches(key, v, w) for w in wanted)]
        return hits, ids

    def _attr_products(self, key: str, hits: list[str]) -> np.ndarray:
        k = normalise(key)
        return self._union(f"attr:{k}:{normalise(v)}" for v in hits)

    def _facet_products(self, key: str, wanted: list[str]) -> np.ndarray:
        """Products that can meet the facet: a variant with a matching option or a matching
        attribute of their own (a superset: which variant it is, is checked per variant)."""
        hits, ids = self._matches(key, wanted)
        out = self._attr_products(key, hits)
        k = normalise(key)
        if k in self.option_keys:
            order, starts = self._option_lists(self.option_keys.index(k))
            for j in ids:
                out[self.variant_row[order[starts[j + 1] : starts[j + 2]]]] = True
        return out

    def _facet(self, key: str, wanted: list[str], variants: np.ndarray | None) -> np.ndarray:
        """Per variant (of `variants`, or all): its value for the facet is one of `wanted`."""
        k = normalise(key)
        hits, matched = self._matches(key, wanted)

        def rows(at=slice(None)):  # the variants' product rows, gathered only when needed
            return (self.variant_row if variants is None else self.variant_row[variants])[at]

        if k not in self.option_keys:
            return self._attr_products(key, hits)[rows()]
        i = self.option_keys.index(k)
        if variants is None:
            # the whole table: mark the variants listed under each matching value (a few
            # slices) instead of looking up every variant's value
            order, starts = self._option_lists(i)
            out = np.zeros(len(self.variant_row), dtype=bool)
            for j in matched:
                out[order[starts[j + 1] : starts[j + 2]]] = True
            none = order[starts[0] : starts[1]]
        else:
            opt = self.a["options"][i][variants]
            lut = np.zeros(len(self.option_values[k]) + 1, dtype=bool)  # last: -1, no option
            lut[matched] = True
            out = lut[opt]
            none = np.flatnonzero(opt < 0)
        if hits and len(none):  # the product's attribute answers for variants without one
            out[none] = self._attr_products(key, hits)[rows(none)]
        return out

    def _option_lists(self, i: int) -> tuple[np.ndarray, np.ndarray]:
        """Variants sorted by their value of option `i`, and where each value's run starts
        (run 0: no value; run j + 1: value j). Built on first use, about 60 ms at 900k."""
        got = self._lists.get(i)
        if got is None:
            shifted = self.a["options"][i].astype(np.int64) + 1
            order = np.argsort(shifted, kind="stable")
            counts = np.bincount(
                shifted, minlength=len(self.option_values[self.option_keys[i]]) + 1
            )
            got = self._lists[i] = (order, np.concatenate([[0], np.cumsum(counts)]))
        return got

    def _quantity(self, q: QuantityFilter) -> np.ndarray:
        ok = np.zeros(len(self.variant_row), dtype=bool)
        if q.dimension not in self.dimensions:
            return ok
        rows = self.a["q_dim"] == self.dimensions.index(q.dimension)
        if q.keys:
            ids = [
                self.quantity_keys.index(normalise(k))
                for k in q.keys
                if normalise(k) in self.quantity_keys
            ]
            rows &= np.isin(self.a["q_key"], ids)
        vals, r = self.a["q_val"], q.range
        with np.errstate(invalid="ignore"):
            if r.min is not None:
                lo = r.min * (1 + EPS if r.min_strict else 1 - EPS)
                rows &= vals > lo if r.min_strict else vals >= lo
            if r.max is not None:
                hi = r.max * (1 - EPS if r.max_strict else 1 + EPS)
                rows &= vals < hi if r.max_strict else vals <= hi
        ok[self.a["q_var"][rows]] = True
        return ok

    def mask(self, filters: SearchFilters) -> np.ndarray:
        """Rows of the products that pass every filter."""
        m = self.a["visible"].copy()
        if filters.available_only:
            m &= self.a["available"]

        def cat_keys(values: list[str]) -> list[str]:
            return [f"category:{'/'.join(path_segments(v))}" for v in values]

        if filters.categories:
            m &= self._union(cat_keys(filters.categories))
        if filters.exclude_categories:
            m &= ~self._union(cat_keys(filters.exclude_categories))
        price = filters.price
        if not price.is_open():
            # some variant in range needs the cheapest under the top and the dearest over
            # the floor; with one bound that is also enough
            cheapest, dearest = self._price_span
            m &= _meets(cheapest, price.max, price.max_strict, below=True)
            m &= _meets(dearest, price.min, price.min_strict, below=False)
        one_sided = price.min is None or price.max is None
        if not (filters.has_variant_constraints() or filters.available_only or not one_sided):
            return m
        for key, wanted in filters.facets.items():  # fewer products, fewer variants to check
            m &= self._facet_products(key, wanted)
        return self._variant_mask(m, filters)

    def _variant_mask(self, m: np.ndarray, filters: SearchFilters) -> np.ndarray:
        """`m` narrowed to products with one variant meeting every variant-level constraint;
        only the variants of products still in `m` are looked at when they are few."""
        starts = self._variant_starts
        rows = np.flatnonzero(m)
        first, count = starts[rows], starts[rows + 1] - starts[rows]
        out = np.zeros(self.n, dtype=bool)
        total = int(count.sum())
        if not total:
            return out
        # gathering the variants of the products left costs more per variant than one pass
        # over the whole table (a few slices per facet value): worth it below an eighth
        if total > len(self.variant_row) // 8:
            rows = np.flatnonzero(starts[1:] > starts[:-1])
            variants, segments = None, starts[rows]
        else:
            rows, first, count = rows[count > 0], first[count > 0], count[count > 0]
            segments = np.cumsum(count) - count  # where each product's run begins
            variants = np.repeat(first - segments, count) + np.arange(total)
        pick = (lambda x: x) if variants is None else (lambda x: x[variants])
        ok = np.ones(len(self.variant_row) if variants is None else total, dtype=bool)
        price = filters.price
        vp = pick(self.a["variant_price"])
        ok &= _meets(vp, price.max, price.max_strict, below=True)
        ok &= _meets(vp, price.min, price.min_strict, below=False)
        if filters.available_only:
            ok &= pick(self.a["variant_available"])
        for key, wanted in filters.facets.items():
            ok &= self._facet(key, wanted, variants)
        for key, banned in filters.exclude_facets.items():
            ok &= ~self._facet(key, banned, variants)
        for q in filters.quantities:
            ok &= pick(self._quantity(q))
        hit = np.flatnonzero(ok)
        if len(hit) < len(ok) // 8:  # few variants pass: mark their products directly
            out[self.variant_row[hit if variants is None else variants[hit]]] = True
        else:
            out[rows] = np.logical_or.reduceat(ok, segments)
        return out & m

    @functools.cached_property
    def _variant_starts(self) -> np.ndarray:
        """Where each product's run of variants begins (the table is in product order)."""
        return np.searchsorted(self.variant_row, np.arange(self.n + 1))

    @functools.cached_property
    def _price_span(self) -> tuple[np.ndarray, np.ndarray]:
        """Each product's cheapest and dearest variant price (NaN: none priced)."""
        starts = self._variant_starts
        has = starts[1:] > starts[:-1]
        cheapest, dearest = np.full(self.n, np.nan), np.full(self.n, np.nan)
        vp = self.a["variant_price"]
        if has.any():
            with np.errstate(invalid="ignore"):
                cheapest[has] = np.fmin.reduceat(vp, starts[:-1][has])
                dearest[has] = np.fmax.reduceat(vp, starts[:-1][has])
        return cheapest, dearest

    def count(self, filters: SearchFilters) -> int:
        return int(self.mask(filters).sum())

    def explain_empty(self, filters: SearchFilters) -> str:
        """Which constraint emptied the result, in words a shopper understands."""
        parts = filters.describe()
        alone = [(label, int(self.mask(f).sum())) for label, f in parts]
        for (label, single), (_, count) in zip(parts, alone, strict=True):
            if count == 0:
                return f"no product matches {label}" + self._hint(single)
        combined = SearchFilters()
        for i, (label, single) in enumerate(parts):
            merged = _merge(combined, single)
            if not self.mask(merged).any():
                before = " and ".join(lbl for lbl, _ in parts[:i]) or "the catalog"
                counts = ", ".join(f"{lbl}: {n}" for lbl, n in alone)
                return f"{label} together with {before} leaves no product (alone: {counts})"
            combined = merged
        return "no product matches these filters"

    def _hint(self, single: SearchFilters) -> str:
        keys = list(single.facets) + list(single.exclude_facets)
        if keys and (values := self.values_of(keys[0])):
            return f" ({keys[0]} in the catalog: {', '.join(sorted(values)[:20])})"
        return ""


def _meets(values: np.ndarray, bound: float | None, strict: bool, below: bool) -> np.ndarray:
    """`values` under (below=True) or over a price bound; NaN (no price) meets none, and
    every value meets an absent bound."""
    if bound is None:
        return np.ones(len(values), dtype=bool)
    with np.errstate(invalid="ignore"):
        if below:
            return values < bound if strict else values <= bound
        return values > bound if strict else values >= bound


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
