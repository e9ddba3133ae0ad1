"""Grades for a set's judged queries, from each query's written relevance criteria.

    python -m evals.judge luma vendure grocery     # queries.jsonl → judged-{dev,test}.jsonl

Each query was written the way shoppers write, with what a relevant product must be
(`must`: criteria as in evals/criteria.py; the Luma set's older `cat` — any of these
category path parts — and `color` — a basic colour among its options — mean the same) and
what the shopper wants of it (`want`: groups of phrases, `|` between synonyms, matched as
word prefixes in the product's title, description and facet values). Grade: 0 when a must
fails; else 3 × share of `want` groups met, rounded, at least 1 (2 when nothing is wanted).
Odd query numbers are dev, even are test. Output: the judged-pairs format
(`ranking/judgments.py`)."""

from __future__ import annotations

import json
import re
import sys

from ranking.judgments import Judgment, save_judgments
from retrieval.color import basic_color
from retrieval.lexicon import Lexicon
from retrieval.loaders import load_catalog
from retrieval.schema import Product

from .criteria import Criteria
from .sets import load_set


def _text(p: Product) -> str:
    values = [v for k in p.facet_keys() for v in p.values(k)]
    return " ".join([p.title, p.description, *values]).casefold()


def grade(p: Product, spec: dict, must: Criteria) -> int:
    if spec.get("cat") and not any(c.casefold() in p.category.casefold() for c in spec["cat"]):
        return 0
    if spec.get("color") and spec["color"] not in {
        basic_color(v)
        for k in p.facet_keys()
        if k.casefold() in ("color", "colour")
        for v in p.values(k)
    }:
        return 0
    if not must.satisfied_by(p):
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


def judge(name: str) -> None:
    es = load_set(name)
    products, _ = load_catalog(es.catalog)
    products = [p for p in products if p.visible]
    keys = [f.key for f in Lexicon.build(products).facets.values()]
    splits: dict[str, list[Judgment]] = {"dev": [], "test": []}
    for line in es.file("queries.jsonl").read_text().splitlines():
        if not line.strip():
            continue
        spec = json.loads(line)
        split = "dev" if int(re.sub(r"\D", "", spec["qid"])) % 2 else "test"
        must = Criteria(spec.get("must", []), keys)
        grades = {p.id: grade(p, spec, must) for p in products}
        if not any(g >= 2 for g in grades.values()):
            print(
                f"{name} {spec['qid']} {spec['query']!r}: nothing relevant in the catalog, left out"
            )
            continue
        splits[split] += [
            Judgment(query=spec["query"], product_id=pid, grade=g, query_id=spec["qid"])
            for pid, g in grades.items()
            if g > 0
        ]
    for split, pairs in splits.items():
        n = save_judgments(pairs, es.file(f"judged-{split}.jsonl"))
        print(f"{name} {split}: {len({j.qid for j in pairs})} queries, {n} graded pairs")


if __name__ == "__main__":
    for arg in sys.argv[1:] or ["luma", "vendure", "grocery"]:
        judge(arg)
