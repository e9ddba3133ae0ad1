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

import re
import tomllib
from collections.abc import Iterable, Iterator
from html.parser import HTMLParser
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
    # the standard feeds (retrieval/feeds/*.toml) need these as well:
    detect: dict[str, list[str]] = Field(default_factory=dict)  # {"columns": header names}
    group_by: str | None = None  # rows sharing this column's value are one product's variants
    option_columns: list[str] = Field(default_factory=list)  # a grouped row's own options
    option_pairs: list[tuple[str, str]] = Field(default_factory=list)  # (name col, value col)
    skip_option_values: list[str] = Field(default_factory=list)  # a platform's "no option"
    html: list[str] = Field(default_factory=list)  # fields whose HTML is read as text
    images_on_every_row: bool = False  # a variant row's product photo adds to the product's
    category_separator: str | None = None  # "Home > Kitchen > Knives" → Home/Kitchen/Knives
    values: dict[str, dict[str, str]] = Field(default_factory=dict)  # field → cell → value

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
        if self.group_by:
            used.add(self.group_by)
        used |= set(self.option_columns) | {c for pair in self.option_pairs for c in pair}
        return used

    def _cleaned(self, fields: dict[str, Any]) -> dict[str, Any]:
        """A feed's cells as Aisle reads them: values renamed ("in stock" → true), HTML as
        text, a "›"-style category path as a path, extra image links as images."""
        for field, renames in self.values.items():
            cell = fields.get(field)
            if isinstance(cell, str) and cell.strip().casefold() in renames:
                fields[field] = renames[cell.strip().casefold()]
        for field in self.html:
            if isinstance(fields.get(field), str):
                fields[field] = html_text(fields[field])
        if self.category_separator and isinstance(fields.get("category"), str):
            parts = fields["category"].split(self.category_separator)
            fields["category"] = "/".join(p.strip() for p in parts if p.strip())
        if "more_images" in fields:
            more = [u.strip() for u in re.split(r"[,|]", str(fields.pop("more_images")))]
            fields["images"] = [*_listed(fields.get("images")), *(u for u in more if u)]
        return fields

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
        return self._cleaned(out)

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
        for n, (name_col, value_col) in enumerate(self.option_pairs):  # Option1 Name/Value
            name = str(row.get(name_col) or (option_names[n] if n < len(option_names) else ""))
            value = str(row.get(value_col) or "").strip()
            if name.strip() and value and value not in self.skip_option_values:
                options[name.strip()] = value
        if self.group_by:
            for column in self.option_columns:  # a grouped row's own colour, size …
                if row.get(column) not in (None, ""):
                    options[column] = str(row[column]).strip()
        if options:
            v["options"] = options
        if v.get("sale_price") not in (None, ""):  # on sale: what the shopper pays
            v["price"] = v.pop("sale_price")
        v.pop("sale_price", None)
        return self._cleaned(v) or None

    def rows(
        self, raw: Iterable[tuple[int, dict[str, Any] | RowError]]
    ) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        """Raw CSV/JSONL rows → Aisle rows, one per product (continuation rows folded in)."""
        if self.group_by:
            yield from self._grouped(raw)
            return
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
                elif self.option_pairs:  # the option names on the product's first row
                    option_names = [str(row.get(n) or "").strip() for n, _ in self.option_pairs]
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
            if variant and set(variant) == {"images"} and not first:
                # a row that only adds a photo to the product (Shopify's image rows)
                current[1]["images"] = [*_listed(current[1].get("images")), *variant["images"]]
            elif variant:
                current[1]["variants"].append(variant)
            if (
                not first
                and self.images_on_every_row
                and (extra := self._product(row).get("images"))
            ):
                current[1]["images"] = [*_listed(current[1].get("images")), *_listed(extra)]
        if current:
            yield current

    def _grouped(self, raw) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
        """Rows that share `group_by`'s value are one product, each row a variant of it (a
        product's fields from its first row); a row without a group is its own product."""
        groups: dict[str, list[tuple[int, dict[str, Any]]]] = {}
        for line, row in raw:
            if isinstance(row, RowError):
                yield line, row
                continue
            key = str(row.get(self.group_by) or "").strip() or f"\x00{line}"
            groups.setdefault(key, []).append((line, row))
        for key, rows in groups.items():
            line, first = rows[0]
            product = {**self._product(first), "variants": [], "_lines": [n for n, _ in rows]}
            if not key.startswith("\x00"):
                product["id"] = key  # the group's id; each row's own id is its variant's SKU
            if len(rows) > 1 or not key.startswith("\x00"):
                for n, row in rows:
                    try:
                        variant = self._variant(row, [])
                    except ValueError as exc:
                        yield n, RowError(line=n, reason=str(exc), product_id=key)
                        continue
                    if variant:
                        product["variants"].append(variant)
                        product["images"] = [
                            *_listed(product.get("images")),
                            *_listed(variant.get("images")),
                        ]
            yield line, product


def _listed(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]


class _TextOfHtml(HTMLParser):
    BLOCKS = {"p", "br", "li", "div", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skip:
            self.parts.append(data)


def html_text(text: str) -> str:
    """A description's HTML as its text: tags gone, entities read, block breaks kept as
    line breaks (a stdlib parser: the feeds' HTML is small and needs no rendering)."""
    if "<" not in text and "&" not in text:
        return text
    parser = _TextOfHtml()
    parser.feed(text)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    return "\n".join(line for line in lines if line)


FEEDS = Path(__file__).parent / "feeds"


def find_mapping(
    catalog: Path, explicit: Path | None = None, header: Iterable[str] = ()
) -> CatalogMapping | None:
    """`--mapping FILE`, else `<catalog stem>.mapping.toml` beside the catalog, else the
    standard feed (`feeds/*.toml`: Google Merchant Center, Shopify) whose columns the
    header holds, else none."""
    if explicit is not None:
        return CatalogMapping.load(explicit)
    beside = Path(catalog).with_suffix(".mapping.toml")
    if beside.is_file():
        return CatalogMapping.load(beside)
    return standard_feed(header)


def standard_feed(header: Iterable[str]) -> CatalogMapping | None:
    names = {h.strip() for h in header}
    for path in sorted(FEEDS.glob("*.toml")):
        mapping = CatalogMapping.load(path)
        if set(mapping.detect.get("columns", [])) <= names and mapping.detect.get("columns"):
            return mapping
    return None
