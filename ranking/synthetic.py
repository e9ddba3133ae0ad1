"""Training queries generated from the catalog itself, for a shop with no judged data:
templates over each product's kind (its title's head noun, else its category), the
audience its top category names, and its facet values — brands, materials, flavours,
colours, pack sizes, whatever this catalog lists ("<colour> <kind>", "<audience>'s
<material> <kind>", "<brand> <kind>", "<quantity> <kind>"), optionally paraphrased by an LLM, and
every product labelled by how many of the query's parts it matches.

Grades: 0 wrong kind or audience; otherwise 1 + round(2 × share of the query's facet values
the product has) — 3 when it has them all. A query naming no value grades every product
of the right kind 2.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from base.language.general import language, phrasings
from base.language.text import plural, singular, term, words
from retrieval.color import basic_color
from retrieval.facets import value_matches
from retrieval.kinds import title_kind
from retrieval.lexicon import Lexicon
from retrieval.schema import Product

from .judgments import Judgment

MAX_VALUE_CHARS = 25
FOR, WITH = (min(phrasings().words[k]) for k in ("for_whom", "with_value"))


@dataclass(frozen=True)
class Spec:
    """What a synthetic query asks for, and so how every product is graded."""

    kind: str  # "cat:<leaf category>" or "kind:<title head noun>": see kind_of
    department: str | None = None  # an audience top category
    attributes: tuple[tuple[str, str], ...] = ()  # (facet key, value); colours as basic colours


@dataclass
class SyntheticQuery:
    text: str
    spec: Spec
    paraphrase_of: str | None = None
    grades: dict[str, int] = field(default_factory=dict)


def _leaf(p: Product) -> str:
    return p.category.replace(">", "/").split("/")[-1].strip() if p.category else ""


def _leaf_terms(leaf: str) -> set[str]:
    return {term(w) for part in kind_words(leaf) for w in part.split()}


def kind_keys(p: Product) -> set[str]:
    """What kinds a product is, as the turn reader reads them: its category ("cat:…"), and
    the kind its title names when the category does not ("kind:<noun>" under a wider leaf)."""
    keys = {f"cat:{_leaf(p).casefold()}"} if _leaf(p) else set()
    k = title_kind(p.title)
    if k and k not in _leaf_terms(_leaf(p)):
        keys.add(f"kind:{k}")
    return keys


def kind_of(p: Product) -> tuple[str, str] | None:
    """(the kind a query about this product asks for, the word a shopper would say): a kind
    only its title names (a noun narrower than its leaf category) is graded by title; a word
    its category names (one part of "<kind> & <kind>") by category."""
    k = title_kind(p.title)
    leaf = _leaf(p)
    if k and k not in _leaf_terms(leaf):
        return f"kind:{k}", k
    parts = kind_words(leaf)
    if not parts:
        return (f"kind:{k}", k) if k else None
    return f"cat:{leaf.casefold()}", random.Random(p.id).choice(parts)


def kind_words(leaf: str) -> list[str]:
    """ "<Kind A> & <Kind B>" → ["<kind a>", "<kind b>"]."""
    joiners = sorted({"&", ",", *(f" {w} " for w in phrasings().words["conjunction"])})
    parts = re.split("|".join(map(re.escape, joiners)), leaf)
    return [w.strip().casefold() for w in parts if w.strip()]


def audience_of(p: Product) -> str | None:
    top = p.category.split("/")[0] if "/" in p.category else ""
    groups = {term(w) for ws in language().audience.values() for w in ws}
    return top if top and term(top.replace(" ", "")) in groups else None


COMMON = 0.6  # a value most products share ("Solid" pattern) tells the ranker nothing
COMMON_MIN = 10  # …judged only on a facet that many products list


def attribute_options(p: Product, lexicon: Lexicon, kind: str) -> list[tuple[str, str]]:
    out = []
    top = term((p.category.split("/")[0] if p.category else "").replace(" ", ""))
    for key in p.facet_keys():
        f = lexicon.facet(key)
        if f is None or f.flag:  # tag lists ("climate: Warm") are words a shopper says too
            continue
        for v in p.values(key):
            common = f.products >= COMMON_MIN and f.values.get(v, 0) > COMMON * f.products
            if common or term(v.replace(" ", "")) == top:
                continue
            if f.color:
                if b := basic_color(v):
                    out.append((f.key, b))
                continue
            if len(v) < MAX_VALUE_CHARS and term(v) != kind and not v.isdigit() and len(v) > 2:
                out.append((f.key, v))
    return list(dict.fromkeys(out))


def has(p: Product, key: str, value: str) -> bool:
    return any(value_matches(key, v, value) for v in p.values(key))


def grade(p: Product, spec: Spec) -> int:
    if spec.kind not in kind_keys(p) or (spec.department and audience_of(p) != spec.department):
        return 0
    if not spec.attributes:
        return 2
    matched = sum(has(p, k, v) for k, v in spec.attributes)
    return 1 + round(2 * matched / len(spec.attributes))


def _phrase(spec: Spec, kind_word: str, rng: random.Random) -> str:
    values = [v.casefold() for _, v in spec.attributes]
    before, after = [], []
    for v in values:
        (before if rng.random() < 0.7 else after).append(v)
    dept = ""
    if spec.department:
        d = spec.department.casefold()
        dept = rng.choice([f"{d}'s ", f"{d} "])
        if rng.random() < 0.3:
            dept = ""
            after.append(f"{FOR} {d}")
    tail = [v if v.startswith(f"{FOR} ") or rng.random() < 0.7 else f"{WITH} {v}" for v in after]
    return " ".join([dept + " ".join([*before, kind_word]), *tail]).strip()


def generate(
    products: list[Product], n_queries: int = 400, seed: int = 0, lexicon: Lexicon | None = None
) -> list[SyntheticQuery]:
    """Template queries sampled from the products' own values; each graded over the whole
    catalog."""
    rng = random.Random(seed)
    visible = [p for p in products if p.visible and kind_of(p)]
    lexicon = lexicon or Lexicon.build(products)
    specs: dict[str, Spec] = {}
    tries = 0
    while len(specs) < n_queries and tries < n_queries * 20 and visible:
        tries += 1
        p = rng.choice(visible)
        kind, word = kind_of(p)
        options = attribute_options(p, lexicon, term(word.split()[-1]))
        n_attr = rng.choice([0, 1, 1, 1, 2, 2])
        attrs = tuple(rng.sample(options, min(n_attr, len(options))))
        if len({k for k, _ in attrs}) < len(attrs):
            continue  # two values of one facet read as nonsense
        department = audience_of(p) if rng.random() < 0.5 else None
        spec = Spec(kind=kind, department=department, attributes=attrs)
        if rng.random() < 0.5:  # plural and singular both
            if kind.startswith("cat:"):
                word = " ".join([*word.split()[:-1], singular(word.split()[-1])])
            elif not word.endswith("s"):
                word = plural(word)
        specs.setdefault(_phrase(spec, word, rng), spec)
    out = []
    for text, spec in specs.items():
        q = SyntheticQuery(text=text, spec=spec)
        q.grades = {p.id: grade(p, spec) for p in visible}
        out.append(q)
    return out


def paraphrase(
    queries: list[SyntheticQuery], rewrite: Callable[[str], list[str]], per_query: int = 1
) -> list[SyntheticQuery]:
    """Shopper-style rewrites from an LLM (`rewrite(text) -> candidates`). A rewrite is kept
    only if it still names every attribute value and the kind, so the labels still hold."""
    out = []
    for q in queries:
        try:
            candidates = rewrite(q.text)
        except Exception:  # noqa: BLE001 - a failed call costs this query's paraphrase only
            continue
        kept = 0
        for c in candidates:
            c = " ".join(str(c).split())[:120]
            low = c.casefold()
            values_kept = all(v.casefold() in low for _, v in q.spec.attributes)
            kind_kept = q.spec.kind.split(":", 1)[-1][:5] in low
            if q.spec.department and not re.search(
                rf"\b{q.spec.department.casefold()}", low
            ):  # an audience's query rewritten without it would still be graded as theirs
                kind_kept = False
            # a rewrite that only changes case or plurals adds nothing to train on
            before = {term(w) for w in words(q.text)}
            new_words = (
                {term(w) for w in words(low) if len(w) >= 3} - before - phrasings().words["common"]
            )
            if c and new_words and values_kept and kind_kept:
                out.append(
                    SyntheticQuery(text=c, spec=q.spec, paraphrase_of=q.text, grades=q.grades)
                )
                kept += 1
                if kept >= per_query:
                    break
    return out


def judgments(queries: list[SyntheticQuery]) -> list[Judgment]:
    return [
        Judgment(query=q.text, product_id=pid, grade=g, source="synthetic")
        for q in queries
        for pid, g in q.grades.items()
    ]
