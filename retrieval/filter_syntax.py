"""`--filter key=value` strings → `SearchFilters`.

`price_max=80`, `price_min=20`, `category=men/tops`, `color=blue,black`, `size=M`,
`color!=yellow` (exclusion), `material!=leather`, `available=true`; any other key is an
attribute of the catalog (`material=wool`, `activity=hiking`)."""

from __future__ import annotations

from collections.abc import Iterable

from .schema import SearchFilters, normalise

_ALIASES = {
    "colour": "color",
    "colors": "color",
    "colours": "color",
    "sizes": "size",
    "categories": "category",
    "max_price": "price_max",
    "min_price": "price_min",
}
_LIST_FIELDS = {"category": "categories", "color": "colors", "size": "sizes"}


class FilterSyntaxError(ValueError):
    pass


def parse_filters(
    items: Iterable[str], attribute_keys: Iterable[str] | None = None
) -> SearchFilters:
    """`attribute_keys`: the catalog's attribute names; an unknown key is an error that
    lists them, so a typo never silently filters nothing."""
    known = {normalise(k): k for k in attribute_keys} if attribute_keys is not None else None
    data: dict = {}
    for item in items:
        exclude = "!=" in item
        key, sep, raw = item.partition("!=" if exclude else "=")
        key = _ALIASES.get(normalise(key), normalise(key)).replace(" ", "_")
        values = [v.strip() for v in raw.split(",") if v.strip()]
        if not sep or not key or not values:
            raise FilterSyntaxError(f"filter {item!r}: expected key=value or key!=value")
        if key in ("price_min", "price_max"):
            if exclude or len(values) != 1:
                raise FilterSyntaxError(f"filter {item!r}: {key} takes one number")
            try:
                data[key] = float(values[0].lstrip("$"))
            except ValueError:
                raise FilterSyntaxError(f"filter {item!r}: {values[0]!r} is not a number") from None
        elif key in ("available", "in_stock"):
            data["available_only"] = normalise(values[0]) in ("true", "yes", "1")
        elif key in _LIST_FIELDS:
            name = ("exclude_" if exclude else "") + _LIST_FIELDS[key]
            data.setdefault(name, []).extend(values)
        else:
            if known is not None and key not in known:
                raise FilterSyntaxError(
                    f"filter {item!r}: unknown key {key!r}; use price_min, price_max, category, "
                    f"color, size, available, or an attribute: {', '.join(sorted(known.values()))}"
                )
            name = "exclude_attributes" if exclude else "attributes"
            data.setdefault(name, {}).setdefault(known[key] if known else key, []).extend(values)
    try:
        return SearchFilters(**data)
    except ValueError as exc:
        raise FilterSyntaxError(str(exc)) from None
