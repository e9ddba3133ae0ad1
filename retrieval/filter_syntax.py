"""Filter strings (`aisle search --filter`, eval expectations) → `SearchFilters`.

    price<60  price<=60  price>20  price>=20   price_max=60 (≤)  price_min=20 (≥)
    category=<top>/<group>   category!=<top>    available=true
    <facet>=<v1>,<v2>   <facet>!=<value>                    (any facet of the catalog)
    <facet>>=16GB   <facet>=15 inch   <facet><=500 g        (a facet's quantity)
    quantity>=2 TB                              (a quantity of any facet of that unit)

Facet names are matched case-insensitively against the catalog's; an unknown name is an
error that lists them, so a typo never silently filters nothing."""

from __future__ import annotations

import math
import re
from collections.abc import Iterable

from base.language.general import language
from base.language.money import find_money, parse_amount
from base.language.quantities import parse_quantity

from .schema import QuantityFilter, Range, SearchFilters, normalise

FILTER = re.compile(r"^\s*([^<>=!]+?)\s*(!=|<=|>=|=|<|>)\s*(.+?)\s*$")
PRICE_KEYS = {"price", "price_max", "price_min", "max_price", "min_price"}
QUANTITY_KEYS = {"quantity", "qty", "amount"}


class FilterSyntaxError(ValueError):
    pass


def _number(item: str, raw: str) -> float:
    found = find_money(raw)
    try:
        value = found[0].amount if found else parse_amount(raw)
    except ValueError:
        raise FilterSyntaxError(f"filter {item!r}: {raw!r} is not a number") from None
    if not math.isfinite(value):  # "1e400" parses as infinity
        raise FilterSyntaxError(f"filter {item!r}: {raw!r} is not a finite number")
    return value


def _range(op: str, value: float) -> Range:
    return {
        "<": Range(max=value, max_strict=True),
        "<=": Range(max=value),
        ">": Range(min=value, min_strict=True),
        ">=": Range(min=value),
        "=": Range(min=value, max=value),
    }[op]


def parse_filters(items: Iterable[str], facet_keys: Iterable[str] | None = None) -> SearchFilters:
    """`facet_keys`: the catalog's facet names (None: any name is accepted as given)."""
    known = {normalise(k): k for k in facet_keys} if facet_keys is not None else None
    colour_key = next((k for n, k in (known or {}).items() if language().is_color_key(n)), None)
    data: dict = {}
    for item in items:
        m = FILTER.match(item)
        if not m:
            raise FilterSyntaxError(f"filter {item!r}: expected key=value, key!=value or key<value")
        key, op, raw = normalise(m.group(1)), m.group(2), m.group(3)
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not values:
            raise FilterSyntaxError(f"filter {item!r}: no value")
        if key in PRICE_KEYS:
            values = [raw]  # "1.299,00 €": a comma inside one amount
            if op == "!=":
                raise FilterSyntaxError(f"filter {item!r}: price takes one number and <, <=, >, >=")
            if key in ("price_max", "max_price"):
                op = "<="
            elif key in ("price_min", "min_price"):
                op = ">="
            r = _range(op, _number(item, values[0]))
            if r.max is not None:
                data["price_max"], data["price_max_strict"] = r.max, r.max_strict
            if r.min is not None:
                data["price_min"], data["price_min_strict"] = r.min, r.min_strict
        elif key in ("available", "in_stock"):
            data["available_only"] = normalise(values[0]) in ("true", "yes", "1")
        elif key in ("category", "categories"):
            if op not in ("=", "!="):
                raise FilterSyntaxError(f"filter {item!r}: category takes = or !=")
            name = "exclude_categories" if op == "!=" else "categories"
            data.setdefault(name, []).extend(values)
        elif (q := parse_quantity(raw)) is not None and (
            op not in ("=", "!=")
            or (key in QUANTITY_KEYS or (known is None or key in known) and _numeric_value(raw, q))
        ):
            if op == "!=":
                raise FilterSyntaxError(f"filter {item!r}: a quantity takes =, <, <=, > or >=")
            keys = [] if key in QUANTITY_KEYS else [_facet_key(item, key, known, colour_key)]
            data.setdefault("quantities", []).append(
                QuantityFilter(
                    dimension=q.dimension,
                    keys=keys,
                    range=_range(op, q.value),
                    unit=q.unit,
                    label=f"{op} {q.label()}",
                )
            )
        else:
            if op not in ("=", "!="):
                raise FilterSyntaxError(f"filter {item!r}: {key} is not a number with a unit")
            name = "exclude_facets" if op == "!=" else "facets"
            facet = _facet_key(item, key, known, colour_key)
            data.setdefault(name, {}).setdefault(facet, []).extend(values)
    try:
        return SearchFilters(**data)
    except ValueError as exc:
        raise FilterSyntaxError(str(exc)) from None


def _numeric_value(raw: str, q) -> bool:
    """The whole value is the quantity ("15 inch"), not a name that holds one."""
    return len(raw.strip()) - (q.end - q.start) <= 1


def _facet_key(item: str, key: str, known: dict[str, str] | None, colour_key: str | None) -> str:
    if known is None:
        return key
    if key in known:
        return known[key]
    if colour_key and language().is_color_key(key):
        return colour_key  # "colour=…" in a shop whose facet is "Color"
    names = ", ".join(sorted(known.values())) or "none"
    raise FilterSyntaxError(
        f"filter {item!r}: unknown key {key!r}; use price, category, available, or a facet of "
        f"this catalog: {names}"
    )
