"""Grades for the judged retrieval set, from each query's written relevance criteria.

    python -m evals.retrieval_judge    # evals/retrieval/queries.jsonl → judged-{dev,test}.jsonl

Each query in `queries.jsonl` was written the way shoppers write, with what a relevant
product must be (`cat`: any of these category path parts; `color`: a basic colour among its
variants) and what the shopper wants of it (`want`: groups of phrases, `|` between
synonyms, matched as word prefixes in the product's title, description and attribute
values). Grade: 0 when a must fails; else 3 × share of `want` groups met, rounded, at least
1 (2 when nothing is wanted beyond the musts). Odd query numbers are dev, even are test.
The output is the judged-pairs format (`ranking/judgments.py`).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from ranking.judgments import Judgment, save_judgments
from retrieval.color import basic_color
from retrieval.loaders import load_catalog
from retrieval.schema import Product

HERE = Path(__file__).parent / "retrieval"
CATALOG = Path(__file__).parents[1] / "data" / "luma" / "products.jsonl"


def _text(p: Product) -> str:
    values = [v for vs in p.attributes.values() for v in vs]
    return " ".join([p.title, p.description, *values]).casefold()


def grade(p: Product, spec: dict) -> int:
    if not any(c.casefold() in p.category.casefold() for c in spec["cat"]):
        return 0
    if spec.get("color") and spec["color"] not in {basic_color(c) for c in p.colors}:
        return 0
    groups = spec.get("want", [])
    if not groups:
        return 2
    text = _text(p)
    met = sum(
        any(re.search(r"(?<![a-z])" + re.escape(w.casefold()), text) for w in g.split("|"))
        for g in groups
    )
    return max(1, round(3 * met / len(groups)))


def main() -> None:
    products, _ = load_catalog(CATALOG)
    products = [p for p in products if p.visible]
    splits: dict[str, list[Judgment]] = {"dev": [], "test": []}
    for line in (HERE / "queries.jsonl").read_text().splitlines():
        spec = json.loads(line)
        split = "dev" if int(spec["qid"][1:]) % 2 else "test"
        grades = {p.id: grade(p, spec) for p in products}
        if not any(g >= 2 for g in grades.values()):
            print(f"{spec['qid']} {spec['query']!r}: nothing relevant in the catalog, left out")
            continue
        splits[split] += [
            Judgment(query=spec["query"], product_id=pid, grade=g, query_id=spec["qid"])
            for pid, g in grades.items()
            if g > 0
        ]
    for split, pairs in splits.items():
        n = save_judgments(pairs, HERE / f"judged-{split}.jsonl")
        print(f"{split}: {len({j.qid for j in pairs})} queries, {n} graded pairs")


if __name__ == "__main__":
    main()
