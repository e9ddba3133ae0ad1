"""The catalog's own words: a typed lexicon built at ingest from the catalog's facets, with
how often each occurs. Everything Aisle knows of a shop's words comes from here (and from
the general language layer in base/language/, and a shop's optional lexicon file):

- categories: every segment of every path, at its depth, with its product count; kinds
  found in titles (retrieval/kinds.py) as segments below the categories;
- facets: attribute and variant-option names with their values and counts, whether a facet
  is a colour (by its name), a numeric quantity (its values read as "500 g", "16GB") or a
  descriptive tag list (products list more than three values on average, like a "climate"
  of five seasons: searchable words, not constraints); yes/no flags ("eco_collection",
  "sale") are merchandising, so searchable words too; free text (bullet points: long or
  mostly one-product values) is searchable words, never a filter; identifiers and counts
  (codes, barcodes, numbers without a unit) are neither words nor filters. Each facet's
  type and why are in the ingest report (`FacetTerm.type`, `.why`);
- collections: top-level categories whose every product is also listed elsewhere;
- words: every word of the titles, categories, facet values and descriptions, with the
  number of products it occurs in; title bigrams that recur are product phrases;
- currency: the one most products are priced in;
- synonyms: the shop's own (`[synonyms]` in `<catalog>.lexicon.toml` beside the catalog, or
  the file `lexicon_file` names), each shopper word → the catalog words it means.

It sits in `retrieval` because ingestion writes it and the ranker's training queries read
it; the turn reader (assistant/understanding/) reads it too."""

from __future__ import annotations

import re
import tomllib
from collections import Counter, defaultdict
from pathlib import Path

from pydantic import BaseModel, Field

from base.language.general import language
from base.language.quantities import parse_quantity
from base.language.text import normalise, term, words

from .facets import category_sub_paths, path_segments
from .kinds import kind_paths
from .schema import Product

FILE = "lexicon.json"
TAG_MEAN_VALUES = 3.0  # a facet whose products list more values than this is a tag list
FLAG_VALUES = {"yes", "no", "true", "false"}
TEXT_MEAN_WORDS = 6.0  # values longer than this on average are sentences, not a vocabulary
TEXT_UNIQUE = 0.9  # …or values of several words that nearly every product has its own of
CODE = re.compile(r"[\d.,:/+#-]+|(?=.*\d)[A-Za-z\d-]{8,}")  # a number without unit, or a code


class CategoryTerm(BaseModel):
    segment: str  # normalised, as in filters ("<kind a> & <kind b>")
    display: str  # as the catalog writes it ("<Kind A> & <Kind B>")
    depth: int  # 0 = a top-level category
    count: int  # products under it
    derived: bool = False  # a kind read from titles, not a category of the catalog
    parents: list[str] = Field(default_factory=list)
    leaf: bool = True  # nothing below it in the catalog's own paths


class FacetTerm(BaseModel):
    key: str  # as the catalog names it ("Material", "screen size")
    level: str  # "attribute", "option" or "both"
    values: dict[str, int]  # display value → products
    products: int  # products that list it
    mean_values: float  # values per product that lists it
    color: bool = False
    flag: bool = False  # yes/no
    tag: bool = False  # descriptive tag list
    dimension: str | None = None  # numeric facet: "data", "length", "mass" … (most common)
    dimensions: list[str] = Field(default_factory=list)  # all its values' dimensions
    unit: str | None = None  # its most common unit as written ("GB", "inch")
    text: bool = False  # free text (bullet points): searchable words, never a filter
    identifier: bool = False  # ids, barcodes, counts: neither words nor filters
    why: str = ""  # how its type was read from the catalog

    @property
    def type(self) -> str:
        if self.identifier:
            return "identifier"
        if self.text:
            return "free text"
        if self.flag:
            return "flag"
        if self.tag:
            return "tag list"
        return "numeric" if self.dimension else "categorical"

    def typed(self, kind: str) -> FacetTerm:
        """This facet as the shop says it is (`kind`: a `type`), whatever its values read."""
        if kind == "numeric" and not self.dimension:  # said, but nothing to read as one
            return self.model_copy(
                update={"why": f"{self.why}; the mapping's numeric needs amounts with units"}
            )
        update = {
            "flag": kind == "flag",
            "tag": kind == "tag list",
            "text": kind == "free text",
            "identifier": kind == "identifier",
            "why": f"set by the mapping file ({self.why})",
        }
        if kind == "categorical":
            update["dimension"] = None
        return self.model_copy(update=update)

    @property
    def constrains(self) -> bool:
        """Whether a value of this facet is a hard constraint when a shopper names it."""
        return not (self.flag or self.tag or self.text or self.identifier)


class Lexicon(BaseModel):
    version: int = 1
    products: int = 0
    currency: str = "USD"
    currencies: dict[str, int] = Field(default_factory=dict)
    categories: dict[str, CategoryTerm] = Field(default_factory=dict)
    collections: list[str] = Field(default_factory=list)
    facets: dict[str, FacetTerm] = Field(default_factory=dict)  # normalised key → term
    words: dict[str, int] = Field(default_factory=dict)  # term → products
    title_words: dict[str, int] = Field(default_factory=dict)
    phrases: list[str] = Field(default_factory=list)  # recurring title bigrams (terms)
    bigrams: dict[str, list[str]] = Field(default_factory=dict)  # title bigram → categories
    paths: dict[str, int] = Field(default_factory=dict)  # full kind paths → products
    synonyms: dict[str, list[str]] = Field(default_factory=dict)  # the shop's own

    # ---- building -------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        products: list[Product],
        synonyms: dict[str, list[str]] | None = None,
        types: dict[str, str] | None = None,
    ):
        """`types`: attribute → type, the shop's word over the one read from the values
        (a mapping file's `[types]`)."""
        products = [p for p in products if p.visible]
        lex = cls(products=len(products), synonyms=synonyms or {})
        currencies = Counter(p.currency for p in products)
        lex.currencies = dict(currencies)
        lex.currency = currencies.most_common(1)[0][0] if currencies else "USD"
        lex._categories(products)
        lex._facets(products)
        for key, kind in (types or {}).items():
            if (f := lex.facet(key)) is not None:
                lex.facets[normalise(key)] = f.typed(kind)
        lex._words(products)
        return lex

    def _categories(self, products: list[Product]) -> None:
        count: Counter[str] = Counter()
        depth: dict[str, int] = {}
        display: dict[str, str] = {}
        parents: dict[str, set[str]] = defaultdict(set)
        has_child: set[str] = set()
        derived: set[str] = set()
        own: set[str] = set()
        rows_of_top: dict[str, set[int]] = defaultdict(set)
        for row, p in enumerate(products):
            seen: set[str] = set()
            own_paths = set(p.categories)
            for path in kind_paths(p):
                full = "/".join(path_segments(path))
                self.paths[full] = self.paths.get(full, 0) + 1
                raw = [s.strip() for s in path.replace(">", "/").split("/") if s.strip()]
                segs = path_segments(path)
                if segs:
                    rows_of_top[segs[0]].add(row)
                for i, (seg, shown) in enumerate(zip(segs, raw, strict=True)):
                    display.setdefault(seg, shown)
                    depth[seg] = min(depth.get(seg, i), i)
                    if i:
                        parents[seg].add(segs[i - 1])
                    if path in own_paths:
                        own.add(seg)
                        if i < len(segs) - 1:
                            has_child.add(seg)
                    elif i == len(segs) - 1:
                        derived.add(seg)
                    seen.add(seg)
            count.update(seen)
        for seg in count:
            self.categories[seg] = CategoryTerm(
                segment=seg,
                display=display[seg],
                depth=depth[seg],
                count=count[seg],
                derived=seg in derived and seg not in own,
                parents=sorted(parents[seg]),
                leaf=seg not in has_child,
            )
        # merchandising collections: a top whose every product is also under another top
        tops = [t for t, c in self.categories.items() if c.depth == 0 and not c.derived]
        self.collections = sorted(
            t
            for t in tops
            if rows_of_top[t]
            and rows_of_top[t] <= set().union(*(rows_of_top[o] for o in tops if o != t))
        )

    def _facets(self, products: list[Product]) -> None:
        lang = language()
        values: dict[str, Counter[str]] = defaultdict(Counter)
        listed: dict[str, list[int]] = defaultdict(list)
        level: dict[str, set[str]] = defaultdict(set)
        display: dict[str, str] = {}
        for p in products:
            per: dict[str, set[str]] = defaultdict(set)
            shown: dict[str, dict[str, str]] = defaultdict(dict)
            for k, vs in p.attributes.items():
                level[normalise(k)].add("attribute")
                display.setdefault(normalise(k), k)
                for v in vs:
                    per[normalise(k)].add(normalise(v))
                    shown[normalise(k)].setdefault(normalise(v), v)
            options: dict[str, list[str]] = defaultdict(list)
            for k, vs in p.variant_options.items():
                options[k] += vs
            for var in p.variants:
                for k, v in var.options.items():
                    options[k].append(v)
            for k, vs in options.items():
                level[normalise(k)].add("option")
                display.setdefault(normalise(k), k)
                for v in vs:
                    per[normalise(k)].add(normalise(v))
                    shown[normalise(k)].setdefault(normalise(v), v)
            for k, vs in per.items():
                listed[k].append(len(vs))
                for v in vs:
                    values[k][shown[k][v]] += 1
        for k, counter in values.items():
            names = {normalise(v) for v in counter}
            quantities = [q for v in counter if (q := parse_quantity(v))]
            dimension = unit = None
            dims: list[str] = []
            if quantities and len(quantities) >= 0.8 * len(counter):
                ranked = Counter(q.dimension for q in quantities).most_common()
                dimension, dims = ranked[0][0], [d for d, _ in ranked]
                unit = Counter(q.unit for q in quantities if q.dimension == dimension).most_common(
                    1
                )[0][0]
            lv = level[k]
            mean = sum(listed[k]) / len(listed[k])
            kind = _value_kind(counter, len(listed[k]), dimension is not None)
            self.facets[k] = FacetTerm(
                key=display[k],
                level="both" if len(lv) == 2 else next(iter(lv)),
                values=dict(counter.most_common()),
                products=len(listed[k]),
                mean_values=round(mean, 3),
                color=lang.is_color_key(display[k]),
                flag=names <= FLAG_VALUES,
                tag=lv == {"attribute"} and mean > TAG_MEAN_VALUES,
                dimension=dimension,
                dimensions=dims,
                unit=unit,
                text=kind[0] == "text",
                identifier=kind[0] == "identifier",
                why=kind[1],
            )

    def _words(self, products: list[Product]) -> None:
        docs: Counter[str] = Counter()
        titles: Counter[str] = Counter()
        bigrams: Counter[str] = Counter()
        colours_of: dict[str, list[set[str]]] = defaultdict(list)  # bigram → products' colours
        where: dict[str, set[str]] = defaultdict(set)  # bigram → leaf categories
        color_keys = self.color_keys()
        shades = language().color_of
        for p in products:
            text = " ".join(
                [
                    p.title,
                    " ".join(p.categories),
                    p.description,
                    *(v for vs in p.attributes.values() for v in vs),
                    *(v for var in p.variants for v in var.options.values()),
                    *(v for vs in p.variant_options.values() for v in vs),
                ]
            )
            docs.update({term(w) for w in words(text)})
            t = [term(w) for w in words(p.title)]
            titles.update(set(t))
            grams = {
                f"{a} {b}" for a, b in zip(t, t[1:], strict=False) if a.isalpha() and b.isalpha()
            }
            bigrams.update(grams)
            own = {
                shades.get(normalise(w), "")
                for k in color_keys
                for v in p.values(k)
                for w in v.split()
            }
            leaf = path_segments(p.category)[-1] if p.category else ""
            for g in grams:
                colours_of[g].append(own)
                if leaf:
                    where[g].add(leaf)
        self.words = dict(docs)
        self.title_words = dict(titles)

        def describes_colour(gram: str) -> bool:
            """'<Colour> <Kind>' may name the product's own colour, or be what the product
            is called (a colour word the product's colour facet does not hold)."""
            named = {shades[w] for w in gram.split() if w in shades}
            if not named or not color_keys:
                return False
            agree = sum(bool(named & own) for own in colours_of[gram])
            return agree >= 0.5 * len(colours_of[gram])

        self.phrases = sorted(b for b, c in bigrams.items() if c >= 2 and not describes_colour(b))
        self.bigrams = {g: sorted(where.get(g, ())) for g in sorted(bigrams)}

    # ---- reading --------------------------------------------------------------------------
    def facet(self, key: str) -> FacetTerm | None:
        return self.facets.get(normalise(key))

    def color_keys(self) -> list[str]:
        return [f.key for f in self.facets.values() if f.color]

    def kinds(self) -> list[CategoryTerm]:
        """Categories that say what a product is (not collections, not their sub-paths)."""
        return [
            c
            for c in self.categories.values()
            if c.segment not in self.collections
            and not (c.parents and set(c.parents) <= set(self.collections))
        ]

    def category_of_path(self, path: str) -> list[str]:
        return category_sub_paths([path])

    # ---- files ----------------------------------------------------------------------------
    def save(self, folder: Path) -> None:
        tmp = Path(folder) / (FILE + ".tmp")
        tmp.write_text(self.model_dump_json())
        tmp.replace(Path(folder) / FILE)

    @classmethod
    def load(cls, folder: Path) -> Lexicon | None:
        path = Path(folder) / FILE
        return cls.model_validate_json(path.read_text()) if path.is_file() else None


def _value_kind(values: Counter[str], products: int, numeric: bool) -> tuple[str, str]:
    """("text" | "identifier" | "", why) from the values alone: what a facet of this shape is,
    whatever the catalog calls it."""
    n = sum(values.values())
    distinct = len(values)
    if numeric:
        return "", f"{distinct} values read as amounts with units"
    codes = sum(c for v, c in values.items() if CODE.fullmatch(v.strip()))
    if codes >= 0.9 * n and distinct > 10:
        return "identifier", f"{codes / n:.0%} of its values are numbers or codes without a unit"
    mean_words = sum(len(v.split()) * c for v, c in values.items()) / max(n, 1)
    if mean_words > TEXT_MEAN_WORDS:
        return "text", f"its values average {mean_words:.1f} words"
    if mean_words > 3 and products >= 20 and distinct >= TEXT_UNIQUE * n:
        return "text", f"{distinct / n:.0%} of its values are one product's own"
    shared = sum(c for c in values.values() if c > 1)
    return "", f"{distinct} values, {shared / max(n, 1):.0%} of uses shared by two or more products"


def read_shop_synonyms(path: Path | None) -> dict[str, list[str]]:
    """`[synonyms]` of a shop lexicon file: "<word>" = ["<word>", …] or "<word>" = "<word>"."""
    if path is None or not Path(path).is_file():
        return {}
    try:
        raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"lexicon file {path}: {exc}") from None
    table = raw.get("synonyms", {})
    if not isinstance(table, dict):
        raise ValueError(f"lexicon file {path}: [synonyms] must be a table of word = words")
    out = {}
    for word, means in table.items():
        means = [means] if isinstance(means, str) else means
        if not isinstance(means, list) or not all(isinstance(m, str) for m in means):
            raise ValueError(f"lexicon file {path}: synonyms.{word} must be a word or a list")
        out[normalise(word)] = [normalise(m) for m in means]
    return out
