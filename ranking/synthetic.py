"""Training queries generated from the catalog itself, for a shop with no judged data:
templates over each product's kind, department and attributes ("blue hoodie", "women's
wool jacket", "pants for yoga"), optionally paraphrased by an LLM, and every product
labelled by how many of the query's parts it matches.

Grades: 0 wrong kind or department; otherwise 1 + round(2 × share of the query's
attributes the product has) — 3 when it has them all. A query naming no attribute grades
every product of the right kind 2.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from retrieval.color import basic_color
from retrieval.schema import Product

from .judgments import Judgment

# attribute keys whose values read naturally before a kind ("wool jacket", "yoga pants")
BEFORE_KIND = (
    "material",
    "style_general",
    "style_bottom",
    "features_bags",
    "pattern",
    "style_bags",
    "strap_bags",
)
FOR_ACTIVITY = ("activity",)
FOR_WEATHER = ("climate",)
SKIP_VALUES = {"yes", "no", "true", "false", "basic", "solid"}


@dataclass(frozen=True)
class Spec:
    """What a synthetic query asks for, and so how every product is graded."""

    kind: str  # category leaf, e.g. "Jackets"
    department: str | None = None  # category top, e.g. "Women"
    attributes: tuple[tuple[str, str], ...] = ()  # (key, value); key "color" = basic colour


@dataclass
class SyntheticQuery:
    text: str
    spec: Spec
    paraphrase_of: str | None = None
    grades: dict[str, int] = field(default_factory=dict)


def _leaf(p: Product) -> str:
    return p.category.split("/")[-1] if p.category else ""


def _top(p: Product) -> str:
    return p.category.split("/")[0] if "/" in p.category else ""


def _singular(word: str) -> str:
    word = word.strip().casefold()
    for end, new in (("ies", "y"), ("sses", "ss"), ("ches", "ch"), ("shes", "sh"), ("s", "")):
        if word.endswith(end) and len(word) > 3 and not word.endswith("ss"):
            return word[: -len(end)] + new
    return word


def kind_words(leaf: str) -> list[str]:
    """ "Hoodies & Sweatshirts" → ["hoodies", "sweatshirts"]; "Fitness Equipment" → ["fitness
    equipment"]."""
    return [w.strip().casefold() for w in re.split(r"&|,| and ", leaf) if w.strip()]


def _colors(p: Product) -> set[str]:
    return {c for name in p.colors if (c := basic_color(name))}


def has(p: Product, key: str, value: str) -> bool:
    if key == "color":
        return value in _colors(p)
    return value.casefold() in {v.casefold() for v in p.attributes.get(key, [])}


def grade(p: Product, spec: Spec) -> int:
    if _leaf(p) != spec.kind or (spec.department and _top(p) != spec.department):
        return 0
    if not spec.attributes:
        return 2
    matched = sum(has(p, k, v) for k, v in spec.attributes)
    return 1 + round(2 * matched / len(spec.attributes))


def _phrase(spec: Spec, kind_word: str, rng: random.Random) -> str:
    before = [v.casefold() for k, v in spec.attributes if k in (*BEFORE_KIND, "color")]
    after = []
    for k, v in spec.attributes:
        if k in FOR_ACTIVITY:
            after.append(f"for {v.casefold()}")
        elif k in FOR_WEATHER:
            v = v.casefold()
            after.append(f"for {v}" if "weather" in v else f"for {v} weather")
    dept = ""
    if spec.department:
        dept = rng.choice([f"{spec.department.casefold()}'s ", f"{spec.department.casefold()} "])
        if rng.random() < 0.3:
            dept, after = "", [*after, f"for {spec.department.casefold()}"]
    return " ".join(x for x in [dept + " ".join([*before, kind_word]), *after] if x).strip()


def generate(products: list[Product], n_queries: int = 400, seed: int = 0) -> list[SyntheticQuery]:
    """Template queries sampled from the products' own values; each graded over the whole
    catalog."""
    rng = random.Random(seed)
    visible = [p for p in products if p.visible and p.category]
    specs: dict[str, Spec] = {}
    tries = 0
    while len(specs) < n_queries and tries < n_queries * 20 and visible:
        tries += 1
        p = rng.choice(visible)
        options = [("color", c) for c in sorted(_colors(p))]
        options += [
            (k, v)
            for k, vs in p.attributes.items()
            if k in (*BEFORE_KIND, *FOR_ACTIVITY, *FOR_WEATHER)
            for v in vs
            if v.casefold() not in SKIP_VALUES
            and len(v) < 25
            and _singular(v) not in {_singular(w) for w in kind_words(_leaf(p))}
        ]
        n_attr = rng.choice([0, 1, 1, 1, 2, 2])
        attrs = tuple(rng.sample(options, min(n_attr, len(options))))
        if len({k for k, _ in attrs}) < len(attrs):
            continue  # "wool polyester jacket" reads as nonsense
        department = _top(p) if _top(p) in ("Men", "Women") and rng.random() < 0.5 else None
        spec = Spec(kind=_leaf(p), department=department, attributes=attrs)
        word = rng.choice(kind_words(spec.kind))
        if rng.random() < 0.5:
            word = " ".join(_singular(w) for w in word.split())
        text = _phrase(spec, word, rng)
        specs.setdefault(text, spec)
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
            kind_kept = any(_singular(w)[:5] in low for w in kind_words(q.spec.kind))
            if q.spec.department and not re.search(
                rf"\b{q.spec.department.casefold()}", low
            ):  # "women's tanks" rewritten as "a tank" would be graded as women's
                kind_kept = False
            # a rewrite that only changes case or plurals adds nothing to train on
            before = {_singular(w) for w in re.findall(r"[a-z]+", q.text.casefold())}
            new_words = (
                {_singular(w) for w in re.findall(r"[a-z]{3,}", low)}
                - before
                - {"the", "and", "for"}
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
