"""Typed records of the retrieval layer: products, filters, search requests and results."""

from __future__ import annotations

import hashlib
import json
import math
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


def normalise(value: str) -> str:
    """Comparison key for vocabulary values: case- and space-insensitive."""
    return " ".join(value.split()).casefold()


class Variant(BaseModel):
    """A purchasable option of a product (a colour/size combination)."""

    model_config = ConfigDict(extra="forbid")

    sku: str | None = None
    color: str | None = None
    size: str | None = None
    price: float | None = Field(None, ge=0)
    available: bool = True
    images: list[str] = Field(default_factory=list)


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
    category: str = ""  # primary path, "/"-separated: "Men/Tops/Jackets"
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

    def _option_values(self, name: str) -> list[str]:
        values = list(self.variant_options.get(name, []))
        values += [getattr(v, name) for v in self.variants if getattr(v, name)]
        values += self.attributes.get(name, [])
        seen: dict[str, str] = {}
        for value in values:
            seen.setdefault(normalise(value), value)
        return list(seen.values())

    @property
    def colors(self) -> list[str]:
        return self._option_values("color")

    @property
    def sizes(self) -> list[str]:
        return self._option_values("size")

    def purchasable_variants(self) -> list[Variant]:
        """The variants a filter is checked against; a product without variants gets one
        per colour × size it lists (or a single blank one)."""
        if self.variants:
            return self.variants
        colors = self.colors or [None]
        sizes = self.sizes or [None]
        return [
            Variant(color=c, size=s, price=self.price, available=self.available)
            for c in colors
            for s in sizes
        ]

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


class SearchFilters(BaseModel):
    """Hard constraints. A product that breaks one is never returned.

    Colour, size and per-variant price are checked on one variant together: "blue in M"
    needs a variant that is blue *and* M. Exclusions drop a product only when none of its
    variants escapes them ("not yellow" keeps a jacket that also comes in blue)."""

    model_config = ConfigDict(extra="forbid")

    price_min: float | None = Field(None, ge=0)
    price_max: float | None = Field(None, ge=0)
    categories: list[str] = Field(default_factory=list)  # any of these paths (sub-path match)
    colors: list[str] = Field(default_factory=list)  # any of these
    sizes: list[str] = Field(default_factory=list)
    attributes: dict[str, list[str]] = Field(default_factory=dict)  # per key: any of the values
    exclude_colors: list[str] = Field(default_factory=list)
    exclude_sizes: list[str] = Field(default_factory=list)
    exclude_categories: list[str] = Field(default_factory=list)
    exclude_attributes: dict[str, list[str]] = Field(default_factory=dict)
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

    def is_empty(self) -> bool:
        return self == SearchFilters()

    def describe(self) -> list[tuple[str, SearchFilters]]:
        """Each constraint alone, with a label, for explaining an empty result."""
        parts: list[tuple[str, SearchFilters]] = []
        for name, value in self:
            if name == "available_only" and value:
                parts.append(("available only", SearchFilters(available_only=True)))
            elif isinstance(value, dict):
                for key, values in value.items():
                    op = "!=" if name.startswith("exclude") else "="
                    label = f"{key}{op}{','.join(values)}"
                    parts.append((label, SearchFilters(**{name: {key: values}})))
            elif isinstance(value, list) and value:
                key = name.removeprefix("exclude_").rstrip("s").replace("categorie", "category")
                op = "!=" if name.startswith("exclude") else "="
                parts.append((f"{key}{op}{','.join(value)}", SearchFilters(**{name: value})))
            elif isinstance(value, float | int) and not isinstance(value, bool):
                parts.append((f"{name}={value:g}", SearchFilters(**{name: value})))
        return parts


SignalName = Literal["lexical", "dense", "image_text", "color", "image"]


class SignalScore(BaseModel):
    rank: int  # 1-based rank within the signal
    score: float  # the signal's own score (BM25, cosine …)


class SearchRequest(BaseModel):
    text: str = ""
    image_path: str | None = None
    filters: SearchFilters = Field(default_factory=SearchFilters)
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
