"""Typed records of the retrieval layer: products, filters, search requests and results."""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from base.language.text import normalise

__all__ = ["normalise"]  # re-exported: the one normaliser, from the language layer

MAX_GENERATED_VARIANTS = 500  # option combinations expanded for a product listing no variants


def _fresh(record: BaseModel) -> BaseModel:
    """A copy without the values its original had cached (its fields may have changed)."""
    for name in ("_keyed", "_facets", "_keys", "_generated", "attributes_by_key"):
        record.__dict__.pop(name, None)
    return record


class Variant(BaseModel):
    """A purchasable option of a product: its option values ({"<option>": "<value>", …}),
    SKU, price and stock."""

    model_config = ConfigDict(extra="forbid")

    sku: str | None = None
    options: dict[str, str] = Field(default_factory=dict)
    price: float | None = Field(None, ge=0)
    available: bool = True
    images: list[str] = Field(default_factory=list)

    # option values by normalised key, built at first use: a turn asks every candidate's
    # variants for several keys, and normalising every key each time was a tenth of a turn
    # under load. A cached_property (not a private attribute: those are read through
    # pydantic's __getattr__, 35x slower, and count in ==). Records are not edited after
    # they are built; `model_copy` starts afresh.
    @functools.cached_property
    def _keyed(self) -> dict[str, str]:
        keyed: dict[str, str] = {}
        for k, v in self.options.items():
            keyed.setdefault(normalise(k), v)
        return keyed

    def option(self, key: str) -> str | None:
        return self._keyed.get(normalise(key))

    def model_copy(self, *, update=None, deep: bool = False):
        return _fresh(super().model_copy(update=update, deep=deep))

    def label(self) -> str:
        """ "<value> / <value>", or the SKU when it has no options."""
        return " / ".join(v for v in self.options.values() if v) or (self.sku or "standard")


class Review(BaseModel):
    rating: float | None = Field(None, ge=0, le=5)
    title: str = ""
    text: str = ""
    reviewer: str = ""


class Product(BaseModel):
    """One catalog product, general enough for any shop."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    description: str = ""
    category: str = ""  # primary path, "/"-separated: "<Top>/<Group>/<Leaf>"
    categories: list[str] = Field(default_factory=list)  # every path it is listed under
    price: float | None = Field(None, ge=0)  # the price a shopper pays now
    list_price: float | None = Field(None, ge=0)  # the regular price, when on sale
    currency: str = "USD"
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    variant_options: dict[str, list[str]] = Field(default_factory=dict)  # {"color": [...]}
    variants: list[Variant] = Field(default_factory=list)
    images: list[str] = Field(default_factory=list)  # main photo first
    rating: float | None = Field(None, ge=0, le=5)
    review_count: int = Field(0, ge=0)
    reviews: list[Review] = Field(default_factory=list)
    available: bool = True
    visible: bool = True  # False: sold only as part of another product

    @field_validator("id", "title")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("must not be blank")
        return value

    @field_validator("price", "list_price", "rating")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _categories_include_primary(self) -> Product:
        if self.category and self.category not in self.categories:
            self.categories.insert(0, self.category)
        if not self.category and self.categories:
            self.category = self.categories[0]
        return self

    # every facet's values and keys, built at first use (see Variant._keyed)
    @functools.cached_property
    def _facets(self) -> dict[str, list[str]]:
        return self._facet_values()

    @functools.cached_property
    def _keys(self) -> list[str]:
        keys = [*self.variant_options, *(k for v in self.variants for k in v.options)]
        keys += list(self.attributes)
        seen: dict[str, str] = {}
        for k in keys:
            seen.setdefault(normalise(k), k)
        return list(seen.values())

    def values(self, key: str) -> list[str]:
        """Every value the product lists for a facet, options and attributes alike
        (display case, de-duplicated)."""
        return list(self._facets.get(normalise(key), ()))

    def _facet_values(self) -> dict[str, list[str]]:
        found: dict[str, list[str]] = {}
        for k, vs in self.variant_options.items():
            found.setdefault(normalise(k), []).extend(vs)
        for var in self.variants:
            for k in {normalise(k) for k in var.options}:
                if v := var.option(k):
                    found.setdefault(k, []).append(v)
        for k, vs in self.attributes.items():
            found.setdefault(normalise(k), []).extend(vs)
        out = {}
        for k, vs in found.items():
            seen: dict[str, str] = {}
            for value in vs:
                seen.setdefault(normalise(value), value)
            out[k] = list(seen.values())
        return out

    def model_copy(self, *, update=None, deep: bool = False):
        return _fresh(super().model_copy(update=update, deep=deep))

    def facet_keys(self) -> list[str]:
        return list(self._keys)

    def purchasable_variants(self) -> list[Variant]:
        """The variants a filter is checked against; a product without variants gets one
        per combination of the options it lists (or a single blank one)."""
        return self.variants or self._generated

    @functools.cached_property
    def _generated(self) -> list[Variant]:  # made once: every search checks them
        keys = [k for k, vs in self.variant_options.items() if vs]
        combos = itertools.islice(
            itertools.product(*(self.variant_options[k] for k in keys)), MAX_GENERATED_VARIANTS
        )
        return [
            Variant(
                options=dict(zip(keys, combo, strict=True)),
                price=self.price,
                available=self.available,
            )
            for combo in combos
        ]

    @functools.cached_property
    def attributes_by_key(self) -> dict[str, list[str]]:
        """The attributes' values by normalised key, as listed (not de-duplicated)."""
        out: dict[str, list[str]] = {}
        for k, vs in self.attributes.items():
            out.setdefault(normalise(k), []).extend(vs)
        return out

    def variant_price(self, variant: Variant) -> float | None:
        return variant.price if variant.price is not None else self.price

    def is_available(self, variant: Variant | None = None) -> bool:
        return self.available and (variant is None or variant.available)

    def content_hash(self, image_digests: dict[str, str] | None = None) -> str:
        """Changes when anything that goes into the index changes, photos' bytes included."""
        payload = self.model_dump(mode="json")
        payload["_images"] = [(image_digests or {}).get(p, "") for p in self.images]
        blob = json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()


class RowError(BaseModel):
    """A catalog row that could not be read."""

    line: int
    reason: str
    product_id: str | None = None


class Range(BaseModel):
    """Bounds on a number. strict: the bound itself is excluded ("under $60": 60.00 fails)."""

    min: float | None = None
    max: float | None = None
    min_strict: bool = False
    max_strict: bool = False

    def contains(self, x: float | None) -> bool:
        if x is None or (isinstance(x, float) and math.isnan(x)):
            return self.min is None and self.max is None
        if self.min is not None and (x <= self.min if self.min_strict else x < self.min):
            return False
        return not (self.max is not None and (x >= self.max if self.max_strict else x > self.max))

    def is_open(self) -> bool:
        return self.min is None and self.max is None

    def describe(self, write) -> str:
        """ "under $60", "$20–$40", "at least 16 GB" with `write(number) -> str`."""
        lo, hi = self.min, self.max
        if lo is not None and hi is not None:
            return f"{write(lo)}–{write(hi)}" if lo != hi else write(lo)
        if hi is not None:
            return f"under {write(hi)}" if self.max_strict else f"{write(hi)} or less"
        if lo is not None:
            return f"over {write(lo)}" if self.min_strict else f"at least {write(lo)}"
        return "any"


class QuantityFilter(BaseModel):
    """A numeric facet with units: "at least 16 GB", "under 2 kg", "55 inch". Values are in
    the dimension's base unit (base/language/quantities.py)."""

    dimension: str  # "mass", "volume", "length", "data", "count" …
    keys: list[str] = Field(default_factory=list)  # facets it is about; empty: any of the
    # dimension (and, for a product with no such facet, a quantity its title states)
    range: Range
    unit: str = ""  # as the shopper wrote it, for labels
    label: str = ""  # "at least 16 GB"


class SearchFilters(BaseModel):
    """Hard constraints. A product that breaks one is never returned.

    Facet values, price, quantities and stock are checked on one variant together: "<colour>
    in <size>" needs a variant that is both, and "a 15 inch <kind> under <price>" a variant
    that is both. A variant takes its product's attributes for the facets it has no option
    for. Exclusions drop a product only when none of its variants escapes them ("not
    <colour>" keeps a product that also comes in another colour)."""

    model_config = ConfigDict(extra="forbid")

    price_min: float | None = Field(None, ge=0)
    price_max: float | None = Field(None, ge=0)
    price_min_strict: bool = False  # "over $20": 20.00 excluded
    price_max_strict: bool = False  # "under $60": 60.00 excluded
    categories: list[str] = Field(default_factory=list)  # any of these paths (sub-path match)
    exclude_categories: list[str] = Field(default_factory=list)
    facets: dict[str, list[str]] = Field(default_factory=dict)  # per key: any of the values
    exclude_facets: dict[str, list[str]] = Field(default_factory=dict)
    quantities: list[QuantityFilter] = Field(default_factory=list)
    available_only: bool = False

    @model_validator(mode="after")
    def _price_range(self) -> SearchFilters:
        if (
            self.price_min is not None
            and self.price_max is not None
            and self.price_min > self.price_max
        ):
            raise ValueError(f"price_min {self.price_min} is above price_max {self.price_max}")
        return self

    @property
    def price(self) -> Range:
        return Range(
            min=self.price_min,
            max=self.price_max,
            min_strict=self.price_min_strict,
            max_strict=self.price_max_strict,
        )

    def is_empty(self) -> bool:
        return self == SearchFilters()

    def has_variant_constraints(self) -> bool:
        return bool(self.facets or self.exclude_facets or self.quantities)

    def describe(self) -> list[tuple[str, SearchFilters]]:
        """Each constraint alone, with a label, for explaining an empty result."""
        parts: list[tuple[str, SearchFilters]] = []
        if self.available_only:
            parts.append(("available only", SearchFilters(available_only=True)))
        if not self.price.is_open():
            parts.append(
                (
                    "price " + self.price.describe(lambda x: f"{x:g}"),
                    SearchFilters(
                        price_min=self.price_min,
                        price_max=self.price_max,
                        price_min_strict=self.price_min_strict,
                        price_max_strict=self.price_max_strict,
                    ),
                )
            )
        if self.categories:
            parts.append(
                (f"category={','.join(self.categories)}", SearchFilters(categories=self.categories))
            )
        if self.exclude_categories:
            parts.append(
                (
                    f"category!={','.join(self.exclude_categories)}",
                    SearchFilters(exclude_categories=self.exclude_categories),
                )
            )
        for key, values in self.facets.items():
            parts.append((f"{key}={','.join(values)}", SearchFilters(facets={key: values})))
        for key, values in self.exclude_facets.items():
            parts.append(
                (f"{key}!={','.join(values)}", SearchFilters(exclude_facets={key: values}))
            )
        for q in self.quantities:
            name = ",".join(q.keys) or q.dimension
            parts.append((f"{name} {q.label}".strip(), SearchFilters(quantities=[q])))
        return parts


SignalName = Literal["lexical", "dense", "image_text", "color", "image"]


class SignalScore(BaseModel):
    rank: int  # 1-based rank within the signal
    score: float  # the signal's own score (BM25, cosine …)


class SearchRequest(BaseModel):
    text: str = ""
    image_path: str | None = None
    filters: SearchFilters = Field(default_factory=SearchFilters)
    # basic colours to look for in the photos; None: read from `text`
    colors: list[str] | None = None
    k: int = Field(10, ge=1, le=1000)


class Candidate(BaseModel):
    product: Product
    score: float  # fused score
    signals: dict[str, SignalScore] = Field(default_factory=dict)
    matching_variants: list[Variant] = Field(default_factory=list)


class SearchResult(BaseModel):
    candidates: list[Candidate]
    total_matching: int  # products that pass the filters
    empty_reason: str | None = None  # set when no product passes the filters
    timings_ms: dict[str, float] = Field(default_factory=dict)
