"""Read a catalog file (JSONL or CSV) into `Product` records.

A row that cannot be read becomes a `RowError` with its line number; the other rows are
kept. Field names are mapped from common spellings (`name`/`title`, `sku`/`id`, special or
sale prices, stock, hidden bundle components), so a shop's file usually needs no mapping
step; an export shaped otherwise (a row per variant, packed facet cells) is read through a
mapping file (`retrieval/mapping.py`). Any other field is an attribute of the product; any
other field of a variant is one of its options ("color", "size", "screen size").
"""

from __future__ import annotations

import csv
import itertools
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from base.language.money import find_money, parse_amount
from base.language.text import normalise

from .mapping import CatalogMapping, find_mapping
from .schema import Product, Review, RowError, Variant

ID_KEYS = ("id", "product_id", "sku")
TITLE_KEYS = ("title", "name", "product_name")
DESCRIPTION_KEYS = ("description", "body", "body_html", "short_description")
CATEGORY_KEYS = ("category", "category_path", "product_type")
IMAGE_KEYS = ("images", "image", "image_url", "image_path", "photo")
RATING_KEYS = ("rating", "rating_avg", "average_rating")
REVIEW_COUNT_KEYS = (
    "review_count",
    "reviews_count",
    "rating_count",
    "ratings_count",
    "num_reviews",
)
STOCK_KEYS = ("stock", "stock_on_hand", "quantity_in_stock", "inventory", "qty")
VARIANT_FIELDS = {
    "sku",
    "price",
    "images",
    "image",
    "available",
    "in_stock",
    "options",
    *STOCK_KEYS,
}
# Columns that are read into fields; every other column of a CSV becomes an attribute.
KNOWN_KEYS = {
    *ID_KEYS,
    *TITLE_KEYS,
    *DESCRIPTION_KEYS,
    *CATEGORY_KEYS,
    *IMAGE_KEYS,
    *RATING_KEYS,
    *STOCK_KEYS,
    *REVIEW_COUNT_KEYS,
    "categories",
    "price",
    "special_price",
    "sale_price",
    "list_price",
    "currency",
    "attributes",
    "variant_options",
    "variants",
    "review_count",
    "reviews",
    "available",
    "in_stock",
    "visible_individually",
    "visible",
    "images_by_color",
    "type",
    "attribute_set",
    "url_key",
    "source_file",
    "components",
    "price_note",
    "url",
    "_lines",
}
LIST_SEPARATOR = "|"  # inside a CSV cell: "<value>|<value>"


class CatalogFormatError(ValueError):
    """The file as a whole cannot be read (unknown format, unreadable, no header)."""


def load_catalog(
    path: Path, mapping: Path | CatalogMapping | None = None
) -> tuple[list[Product], list[RowError]]:
    """Read every row of a `.jsonl`/`.json`/`.csv` catalog, through `mapping` (a file, one
    already read, or the `<catalog>.mapping.toml` beside it) when there is one."""
    path = Path(path)
    if not path.is_file():
        raise CatalogFormatError(f"catalog file not found: {path}")
    suffix = path.suffix.lower()
    header: list[str] = []
    if suffix in (".jsonl", ".ndjson", ".json"):
        rows = _jsonl_rows(path)
    elif suffix in (".csv", ".tsv", ".txt"):
        delimiter = _delimiter(path, "\t" if suffix in (".tsv", ".txt") else ",")
        header = _header(path, delimiter)
        rows = _csv_rows(path, delimiter)
    elif suffix in (".xml", ".rss", ".atom"):
        rows = _xml_rows(path)
        first = next(rows, None)  # an item's fields name the feed, as a header does
        header = list(first[1]) if first and isinstance(first[1], dict) else []
        rows = itertools.chain([first] if first else [], rows)
    else:
        raise CatalogFormatError(
            f"{path.name}: unknown catalog format {suffix!r}; use JSONL, CSV, TSV or an "
            "RSS/Atom XML feed"
        )
    found = (
        mapping
        if isinstance(mapping, CatalogMapping)
        else find_mapping(path, mapping, header)  # a standard feed is known by its header
    )
    if found is not None and found.reads_rows:
        rows = found.rows(rows)
    rows = _one_currency(list(rows))

    products: list[Product] = []
    errors: list[RowError] = []
    first_line: dict[str, int] = {}
    for line, row in rows:
        if isinstance(row, RowError):
            errors.append(row)
            continue
        try:
            product = map_row(row)
        except (ValueError, TypeError) as exc:  # ValidationError is a ValueError
            errors.append(RowError(line=line, reason=_reason(exc), product_id=_row_id(row)))
            continue
        except Exception as exc:  # noqa: BLE001 - one odd row never aborts the whole ingest
            reason = f"cannot read this row ({type(exc).__name__}: {exc})"
            errors.append(RowError(line=line, reason=reason, product_id=_row_id(row)))
            continue
        if product.id in first_line:
            errors.append(
                RowError(
                    line=line,
                    reason=f"duplicate id {product.id!r} "
                    f"(first seen on line {first_line[product.id]})",
                    product_id=product.id,
                )
            )
            continue
        first_line[product.id] = line
        products.append(product)
    return products, errors


def _jsonl_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    # utf-8-sig: a file saved with a byte-order mark keeps its first row
    with path.open(encoding="utf-8-sig", errors="replace") as handle:
        for line_no, text in enumerate(handle, start=1):
            if not text.strip():
                continue
            try:
                row = json.loads(text)
            except json.JSONDecodeError as exc:
                yield line_no, RowError(line=line_no, reason=f"invalid JSON: {exc.msg}")
                continue
            except RecursionError:
                yield line_no, RowError(line=line_no, reason="invalid JSON: nested too deeply")
                continue
            if not isinstance(row, dict):
                yield line_no, RowError(line=line_no, reason="row is not a JSON object")
                continue
            yield line_no, row


DELIMITERS = (",", ";", "\t")
# cells that are one line in any catalog: a line break in one means a quote was not closed
ONE_LINE_KEYS = {*ID_KEYS, *TITLE_KEYS, *CATEGORY_KEYS, "price"}


def _delimiter(path: Path, default: str) -> str:
    """The separator the header row uses (`;` from a spreadsheet in many locales, tabs), by
    counting the candidates in it; the default when none splits it."""
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        header = handle.readline()
    counts = {d: len(next(csv.reader([header], delimiter=d), [])) for d in DELIMITERS}
    best = max(DELIMITERS, key=lambda d: (counts[d], d == default))
    return best if counts[best] > 1 else default


def _xml_rows(path: Path) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    """An RSS 2.0 or Atom product feed (Google Merchant Center's `g:` fields): each `item`
    or `entry` a row of its fields by local name, a repeated field's values joined with
    "|". Parsed without entities, DTDs or the network (an XML bomb or an external entity
    reads nothing); a file that is not well-formed is named with its line."""
    from lxml import etree

    items = etree.iterparse(
        str(path),
        events=("end",),
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
    )
    seen = 0
    try:
        for _, element in items:
            name = etree.QName(element).localname if isinstance(element.tag, str) else ""
            if name not in ("item", "entry"):
                continue
            seen += 1
            row: dict[str, Any] = {}
            for child in element:
                if not isinstance(child.tag, str):
                    continue
                key = etree.QName(child).localname
                text = (child.text or child.get("href") or "").strip()
                if text:
                    row[key] = f"{row[key]}{LIST_SEPARATOR}{text}" if key in row else text
            yield element.sourceline or 0, row
            element.clear()
    except etree.XMLSyntaxError as exc:
        raise CatalogFormatError(f"{path.name}: line {exc.lineno}: {exc.msg}") from None
    if not seen:
        raise CatalogFormatError(
            f"{path.name}: no <item> or <entry> elements: not an RSS or Atom product feed"
        )


def header_of(path: Path) -> list[str]:
    """A CSV/TSV catalog's column names (none for JSONL): what a standard feed is known by."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in (".xml", ".rss", ".atom") and path.is_file():
        first = next(_xml_rows(path), None)
        return list(first[1]) if first and isinstance(first[1], dict) else []
    if suffix not in (".csv", ".tsv", ".txt") or not path.is_file():
        return []
    return _header(path, _delimiter(path, "\t" if suffix in (".tsv", ".txt") else ","))


def _header(path: Path, delimiter: str) -> list[str]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        return next(csv.reader([handle.readline()], delimiter=delimiter), [])


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[int, dict[str, Any] | RowError]]:
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as handle:
        reader = csv.DictReader(handle, delimiter=delimiter)
        if not reader.fieldnames:
            raise CatalogFormatError(f"{path.name}: no header row")
        if len(reader.fieldnames) == 1:
            raise CatalogFormatError(
                f"{path.name}: the header has one column ({reader.fieldnames[0][:60]!r}); "
                f"separate columns with one of {', '.join(map(repr, DELIMITERS))}"
            )
        while True:
            start = reader.line_num + 1
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as exc:
                yield start, RowError(line=start, reason=f"malformed CSV: {exc}")
                continue
            if broken := _unclosed_quote(row, delimiter, len(reader.fieldnames)):
                end = reader.line_num
                reason = (
                    f"a quote in {broken!r} is not closed: lines {start}–{end} were read as "
                    "one row (close the quote, or double it inside a quoted cell)"
                )
                yield start, RowError(line=start, reason=reason, product_id=_row_id(row))
                continue
            if None in row:  # more cells than header columns
                yield start, RowError(line=start, reason="more cells than header columns")
                continue
            cells = {k.strip(): v.strip() for k, v in row.items() if k and v is not None}
            yield start, {k: v for k, v in cells.items() if v}


def _unclosed_quote(row: dict[str, Any], delimiter: str, columns: int) -> str | None:
    """The column whose cell swallowed line breaks it cannot hold: a one-line field, or a
    cell holding a whole further row (as many separators as the header)."""
    for key, value in row.items():
        if key is None or not isinstance(value, str) or "\n" not in value:
            continue
        rest = value.split("\n", 1)[1]
        if key.strip().casefold() in ONE_LINE_KEYS or rest.count(delimiter) >= columns - 1:
            return key
    return None


def map_row(row: dict[str, Any]) -> Product:
    """Map one raw row (JSON object or CSV record) onto `Product`."""
    product_id = _row_id(row)
    if product_id is None:
        raise ValueError(f"no product id (expected one of: {', '.join(ID_KEYS)})")
    title = _first(row, TITLE_KEYS)
    if title is None:
        raise ValueError(f"no title (expected one of: {', '.join(TITLE_KEYS)})")

    price = _number(row.get("price"), "price")
    special = _number(row.get("special_price", row.get("sale_price")), "special_price")
    list_price = _number(row.get("list_price"), "list_price")
    if special is not None and (price is None or special < price):
        price, list_price = special, price

    attributes = _attributes(row)
    variant_options = {str(k): _strings(v) for k, v in (row.get("variant_options") or {}).items()}
    raw_variants = row.get("variants") or []
    if not isinstance(raw_variants, list):
        raise ValueError("variants: expected a list of objects")
    variants = [Variant(**_variant_fields(v)) for v in raw_variants]
    if price is None and (prices := [v.price for v in variants if v.price is not None]):
        price = min(prices)  # a product listed by its variants costs from the cheapest
    available = _availability(row)
    if variants and not any(v.available for v in variants):
        available = False

    categories = _breadcrumb_or_paths(_strings(row.get("categories")), _first(row, CATEGORY_KEYS))
    description = "\n".join(
        str(row[k]).strip() for k in DESCRIPTION_KEYS if row.get(k) and str(row[k]).strip()
    )
    visible = row.get("visible", row.get("visible_individually", True))
    return Product(
        id=str(product_id),
        title=str(title),
        description=description,
        category=str(_first(row, CATEGORY_KEYS) or ""),
        categories=categories,
        price=price,
        list_price=list_price,
        currency=_currency(row),
        attributes=attributes,
        variant_options={k: v for k, v in variant_options.items() if v},
        variants=variants,
        images=_images(row),
        rating=_number(_first(row, RATING_KEYS), "rating"),
        review_count=int(_number(_first(row, REVIEW_COUNT_KEYS), "review_count") or 0),
        reviews=[Review(**r) for r in row.get("reviews") or [] if isinstance(r, dict)],
        available=available,
        visible=_boolean(visible, "visible"),
    )


def _breadcrumb_or_paths(categories: list[str], primary: Any) -> list[str]:
    """`categories` as extra paths, unless it is the primary path's breadcrumb (its segments
    one by one, as scraped feeds write it): then it is that one path, not a top-level
    category per segment."""
    if not primary or len(categories) < 2:
        return categories
    segments = [s.strip().casefold() for s in re.split(r"[/>]", str(primary)) if s.strip()]
    if [c.strip().casefold() for c in categories] == segments:
        return []
    return categories


def _row_id(row: dict[str, Any]) -> str | None:
    value = _first(row, ID_KEYS)
    return None if value is None or not str(value).strip() else str(value).strip()


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    for key in keys:
        if row.get(key) not in (None, "", []):
            return row[key]
    return None


def _number(value: Any, field: str) -> float | None:
    """A number cell: 12, "12.50", "$12.50", "12,50 €", "1,299.00"."""
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        raise ValueError(f"{field}: expected a number, got {value!r}")
    if isinstance(value, str):
        found = find_money(value)
        try:
            number = found[0].amount if found else parse_amount(value)
        except (ValueError, OverflowError):
            raise ValueError(f"{field}: expected a number, got {value!r}") from None
        if not math.isfinite(number):
            raise ValueError(f"{field}: {value!r} is not a finite number")
        return number
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        raise ValueError(f"{field}: expected a number, got {value!r}") from None
    if not math.isfinite(number):  # JSON's 1e400 is infinity
        raise ValueError(f"{field}: {value!r} is not a finite number")
    return number


def _one_currency(rows: list) -> list:
    """A file whose prices name one currency ("7,49 €") has it for its bare prices too
    ("1,20"): a file is one shop's, in one currency (a row's own currency still wins)."""
    named = set()
    for _, row in rows:
        if isinstance(row, dict) and not row.get("currency"):
            for key in ("price", "special_price", "sale_price"):
                cell = row.get(key)
                found = find_money(cell) if isinstance(cell, str) else []
                if found and found[0].currency:
                    named.add(found[0].currency)
    if len(named) != 1:
        return rows  # none named, or several: each row as written
    currency = named.pop()
    return [
        (line, {**row, "currency": currency})
        if isinstance(row, dict) and not row.get("currency")
        else (line, row)
        for line, row in rows
    ]


def _currency(row: dict[str, Any]) -> str:
    """The `currency` field, else the one the price cell was written in ("€2.49"), else USD."""
    if row.get("currency"):
        return str(row["currency"]).strip().upper()
    for key in ("price", "special_price", "sale_price"):
        found = find_money(row[key]) if isinstance(row.get(key), str) else []
        if found and found[0].currency:
            return found[0].currency
    return "USD"


def _availability(row: dict[str, Any]) -> bool:
    """`available`/`in_stock` (true/false), else a stock count (available when above 0)."""
    if "available" in row or "in_stock" in row:
        return _boolean(row.get("available", row.get("in_stock")), "available")
    stock = _first(row, STOCK_KEYS)
    return True if stock is None else (_number(stock, "stock") or 0) > 0


def _boolean(value: Any, field: str) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().casefold()
    if text in ("1", "true", "yes", "y", "t"):
        return True
    if text in ("0", "false", "no", "n", "f"):
        return False
    raise ValueError(f"{field}: expected true/false, got {value!r}")


def _strings(value: Any) -> list[str]:
    if value in (None, ""):
        return []
    if isinstance(value, str):
        parts = value.split(LIST_SEPARATOR)
    elif isinstance(value, list | tuple):
        parts = [str(v) for v in value if v is not None]
    else:
        parts = [str(value)]
    return [p.strip() for p in parts if p.strip()]


def _attributes(row: dict[str, Any]) -> dict[str, list[str]]:
    raw = row.get("attributes") or {}
    if isinstance(raw, str):  # a CSV cell holding JSON
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError("attributes: not a JSON object") from None
    if not isinstance(raw, dict):
        raise ValueError("attributes: expected an object of name → value(s)")
    # Extra scalar fields (a CSV's extra columns, "department", …) are attributes too.
    extras = {k: v for k, v in row.items() if k not in KNOWN_KEYS and _is_scalar_or_scalars(v)}
    raw = {**extras, **raw}
    attributes: dict[str, list[str]] = {}
    spelled: dict[str, str] = {}  # a feed's "brand" and its attributes' "Brand" are one
    for key, value in raw.items():
        if isinstance(value, bool):  # flags such as eco_collection: true → "yes"
            values = ["yes" if value else "no"]
        elif isinstance(value, dict):
            raise ValueError(f"attributes.{key}: nested objects are not supported")
        else:
            values = _strings(value)
        if values:
            merged = attributes.setdefault(spelled.setdefault(normalise(str(key)), str(key)), [])
            merged += [v for v in values if v not in merged]
    return attributes


def _is_scalar_or_scalars(value: Any) -> bool:
    scalar = (str, int, float, bool)
    if isinstance(value, list):
        return all(isinstance(v, scalar) for v in value)
    return isinstance(value, scalar)


def _variant_fields(raw: Any) -> dict[str, Any]:
    """A variant object: sku, price, stock and images; every other field is an option
    ({"<option>": "<value>", …}), as is everything in its `options` object."""
    if not isinstance(raw, dict):
        raise ValueError("variants: each variant must be an object")
    fields: dict[str, Any] = {}
    if raw.get("sku") not in (None, ""):
        fields["sku"] = str(raw["sku"])
    fields["price"] = _number(raw.get("price"), "variants.price")
    fields["images"] = _strings(raw.get("images", raw.get("image")))
    fields["available"] = _availability(raw)
    options = raw.get("options") or {}
    if not isinstance(options, dict):
        raise ValueError("variants.options: expected an object of name → value")
    extra = {k: v for k, v in raw.items() if k not in VARIANT_FIELDS}
    fields["options"] = {
        str(k): str(v).strip()
        for k, v in {**extra, **options}.items()
        if isinstance(v, str | int | float) and not isinstance(v, bool) and str(v).strip()
    }
    return fields


def _images(row: dict[str, Any]) -> list[str]:
    images: list[str] = []
    for key in IMAGE_KEYS:
        images += _strings(row.get(key))
    for variant in row.get("variants") or []:
        if isinstance(variant, dict):
            images += _strings(variant.get("images"))
    return list(dict.fromkeys(images))  # de-duplicated, main photo first


def _reason(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'row'}: {err['msg']}" for err in exc.errors()
        )
    return str(exc)
