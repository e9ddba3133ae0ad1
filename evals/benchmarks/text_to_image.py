"""How far text → image search gets without an aligned image–text model.

    python -m evals.benchmarks.text_to_image [--set luma] [--index-dir DIR]

Ranks the indexed catalog's products for the product-kind queries and colour + kind
queries of an eval set's `bench.toml` (`[text_to_image]`, evals/benchmarks/scripts.py) by each
signal alone and by the hybrid, and prints NDCG@10. A product is relevant to a kind query
when its category path contains the kind's category; to a colour query when, besides,
the catalog lists that colour for it (under a colour key of the language data). The
queries were written before any measurement and nothing was tuned on them.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.metrics import ndcg_score

from base.language.general import language
from retrieval.config import RetrievalConfig
from retrieval.facets import value_matches
from retrieval.index import ProductIndex
from retrieval.schema import Product, SearchFilters, SearchRequest
from retrieval.search import HybridSearcher

from ..sets import load_set
from .scripts import script_for


def ndcg_at_10(ranked_rows: list[int], relevant: np.ndarray) -> float:
    if not relevant.any():
        return float("nan")
    scores = np.zeros(len(relevant))
    scores[ranked_rows[:10]] = np.linspace(1.0, 0.5, len(ranked_rows[:10]))
    return float(ndcg_score(relevant[None, :].astype(float), scores[None, :], k=10))


def has_colour(product: Product, colour: str) -> bool:
    lang = language()
    keys = [k for k in {*product.attributes, *product.variant_options} if lang.is_color_key(k)]
    return any(value_matches(k, v, colour) for k in keys for v in product.values(k))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="luma", help="eval set whose queries to run")
    parser.add_argument("--index-dir", default=None)
    args = parser.parse_args()
    script = script_for(load_set(args.set), "text_to_image")
    config = RetrievalConfig(**({"index_dir": args.index_dir} if args.index_dir else {}))
    index = ProductIndex(config)
    searcher = HybridSearcher(index)
    products = index.products(list(range(len(index.ids))))
    allowed = index.facets.mask(SearchFilters())
    rng = np.random.default_rng(0)

    def signal_rows(name: str, text: str) -> list[int]:
        if name == "random":
            return list(rng.permutation(np.flatnonzero(allowed))[:10])
        if name == "hybrid":
            result = searcher.search(SearchRequest(text=text, k=10))
            return [index.row_of[c.product.id] for c in result.candidates]
        vec = searcher.text_embedder.embed([text])[0]
        ranking = {
            "dense product text": lambda: searcher._dense("text", index.vectors.text, vec, allowed),
            "image_text (ConSE)": lambda: searcher._image_text(text, vec, allowed),
            "color (pixels)": lambda: searcher._color(
                searcher.query_colors(text, SearchFilters()), allowed
            ),
        }[name]()
        return [int(r) for r in ranking.rows[:10]]

    suites = {
        "kind": {q: (cat, None) for q, cat in script.kinds.items()},
        "colour + kind": script.colours,
    }
    names = ["random", "image_text (ConSE)", "color (pixels)", "dense product text", "hybrid"]
    print("| queries | " + " | ".join(names) + " |")
    print("|---" * (len(names) + 1) + "|")
    for suite, queries in suites.items():
        row = []
        for name in names:
            values = []
            for text, (category, color) in queries.items():
                relevant = np.array(
                    [
                        allowed[i]
                        and category in p.category
                        and (color is None or has_colour(p, color))
                        for i, p in enumerate(products)
                    ]
                )
                values.append(ndcg_at_10(signal_rows(name, text), relevant))
            row.append(np.nanmean(values))
        print(f"| {suite} ({len(queries)}) | " + " | ".join(f"{v:.2f}" for v in row) + " |")


if __name__ == "__main__":
    main()
