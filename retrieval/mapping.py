"""A catalog mapping: how to read a shop's export whose columns are not Aisle's own.

A TOML file, `--mapping FILE` or `<catalog>.mapping.toml` beside the catalog, says which
column holds which field, whether one product spans several rows (a row per variant, the
product's fields on its first row only), and how packed cells read ("category:<Top>|
brand:<Brand>", option names on the first row and each variant's values on its own row).
(The README names a worked example among the bundled catalogs.) Every field is optional:

    continuation = "name"      # a row whose `name` cell is empty is another variant of the
                               # product above
    currency = "USD"           # prices carry no symbol
    ignore = ["taxCategory"]   # columns not read as attributes
    variant_facets = "variantFacets"

    [columns]                  # Aisle field = the catalog's column (id, title, description,
    id = "slug"                # category, price, images, currency, rating, available …)
    title = "name"

    [variant_columns]          # per-variant fields: sku, price, stock, available, images
    sku = "sku"
    stock = "stockOnHand"      # available when above 0

    [facets]                   # a column of key:value pairs
    column = "facets"
    category_key = "category"  # the values of this key, in order, form the category path

    [options]                  # variant option groups
    names = "optionGroups"     # "screen size|RAM", on the product's first row
    values = "optionValues"    # "13 inch|8GB", on each variant's row

    [types]                    # an attribute's type, where the one read from its values
    "Bullet points" = "free text"  # is not the shop's (categorical, numeric, flag, tag list,
    model_code = "identifier"      # free text, identifier; the ingest report shows both)

A mapping with only `[types]` leaves the rows as they are.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .schema import RowError

FacetType = Literal["categorical", "numeric", "flag", "tag list", "free text", "identifier"]


class FacetColumn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    column: str
    pair_separator: str = "|"
    key_separator: str = ":"
    category_key: str | None = "category"


class OptionColumns(BaseModel):
    model_config = ConfigDict(extra="forbid")

    names: str
    values: str
    separator: str = "|"


class CatalogMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    columns: dict[str, str] = Field(default_factory=dict)
    variant_columns: dict[str, str] = Field(default_factory=dict)
    continuation: str | None = None
    currency: str | None = None
    list_separator: str = "|"
    ignore: list[str] = Field(default_factory=list)
    facets: FacetColumn | None = None
    variant_facets: str | None = None
    options: OptionColumns | None = None
    types: dict[str, FacetType] = Field(default_factory=dict)

    @property
    def reads_rows(self) -> bool:
        """Whether it changes how rows are read (a mapping may only set attribute types)."""
        return bool(self.model_dump(exclude={"types"}, exclude_defaults=True))

    @classmethod
    def load(cls, path: Path) -> CatalogMapping:
        from .loaders import CatalogFormatError

        try:
            return cls.model_validate(tomllib.loads(Path(path).read_text(encoding="utf-8")))
        except (OSError, tomllib.TOMLDecodeError, ValidationError) as exc:
            raise CatalogFormatError(f"mapping {path}: {exc}") from None

    # ---- rows -----------------------------------------------------------------------------
    def _used(self) -> set[str]:
        used = {*self.columns.values(), *self.variant_columns.values(), *self.ignore}
        if self.continuation:
            used.add(self.continuation)
        if self.facets:
            used.add(self.facets.column)
        if self.variant_facets:
            used.add(self.variant_facets)
        if self.options:
            used |= {self.options.names, self.options.values}
        return used

    def _pairs(self, cell: str) -> list[tuple[str, str]]:
        f = self.facets or FacetColumn(column="")
        out = []
        for part in (cell or "").split(f.pair_separator):
            key, sep, value = part.partition(f.key_separator)
            if sep and key.strip() and value.strip():
                out.append((key.strip(), value.strip()))
        return out

    def _product(self, row: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field, column in self.columns.items():
            if row.get(column) not in (None, ""):
                out[field] = row[column]
        attributes: dict[str, list[str]] = {}
        path: list[str] = []
        if self.facets:
            for key, value in self._pairs(row.get(self.facets.column, "")):
                if self.facets.category_key and key == self.facets.category_key:
                    path.append(value)
                else:
                    attributes.setdefault(key, []).append(value)
        if path:
            out["category"] = "/".join(path)
        for column, value in row.items():  # any other column is an attribute
            if column not in self._used() and value not in (None, ""):
                attributes.setdefault(column, []).extend(
                    v.strip() for v in str(value).split(self.list_separator) if v.strip()
                )
        if attributes:
            out["attributes"] = attributes
        if self.currency and "currency" not in out:
            out["currency"] = self.currency
        return out

    def _variant(self, row: dict[str, Any], option_names: list[str]) -> dict[str, Any] | None:
        v: dict[str, Any] = {}
        for field, column in self.variant_columns.items():
            if row.get(column) not in (None, ""):
                v[field] = row[column]
        options: dict[str, str] = {}
        if self.options:
            cell = str(row.get(self.options.values) or "")
            values = [x.strip() for x in cell.split(self.options.separator)] if cell else []
            if values and len(values) != len(option_names):
                raise ValueError(
                    f"{self.options.values}: {len(values)} values for "
                    f"{len(option_names)} option groups ({', '.join(option_names) or 'none'})"
                )
            options = {k: x for k, x in zip(option_names, values, strict=False) if x}
        if self.variant_facets:  # a variant facet adds to the options it does not repeat
            for key, value in self._pairs(str(row.get(self.variant_facets) or "")):
                options.setdefault(key, value)
        if options:
            v["options"] = options
        return v or None

    def rows(
        self, raw: Iterable[tuple[int, dict[str, Any] | RowError]]
    ) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        """Raw CSV/JSONL rows → Aisle rows, one per product (continuation rows folded in)."""
        current: tuple[int, dict[str, Any]] | None = None
        option_names: list[str] = []
        for line, row in raw:
            if isinstance(row, RowError):
                yield line, row
                continue
            first = not self.continuation or row.get(self.continuation) not in (None, "")
            if first:
                if current:
                    yield current
                if self.options:
                    cell = str(row.get(self.options.names) or "")
                    option_names = [x.strip() for x in cell.split(self.options.separator)]
                    option_names = [x for x in option_names if x]
                current = (line, {**self._product(row), "variants": [], "_lines": [line]})
            elif current is None:
                yield (
                    line,
                    RowError(
                        line=line,
                        reason=f"a variant row (empty {self.continuation!r}) with no product above",
                    ),
                )
                continue
            try:
                variant = self._variant(row, option_names)
            except ValueError as exc:
                yield line, RowError(line=line, reason=str(exc), product_id=current[1].get("id"))
                continue
            if variant:
                current[1]["variants"].append(variant)
        if current:
            yield current


def find_mapping(catalog: Path, explicit: Path | None = None) -> CatalogMapping | None:
    """`--mapping FILE`, else `<catalog stem>.mapping.toml` beside the catalog, else none."""
    if explicit is not None:
        return CatalogMapping.load(explicit)
    beside = Path(catalog).with_suffix(".mapping.toml")
    return CatalogMapping.load(beside) if beside.is_file() else None
