"""Latency of ranking 50 hybrid candidates with the trained ranker, on the indexed catalog.

    python -m evals.benchmarks.rank [--repeat 3] [--device cpu|cuda]

Queries are the judged set's texts (latency only; no labels used). For each query the
same 50 candidates go through retrieval order (the baseline) and the trained ranker,
alternating, in this process; prints p50/p95 of each and the ratio of the medians. The
first call for each query includes its query encoding (the ranker's own cache is cleared
between rounds so every round pays it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from assistant.config import Settings
from ranking.model import FineTunedRanker, ranker_dir
from ranking.rank import RetrievalOrderRanker
from retrieval.index import ProductIndex
from retrieval.schema import SearchRequest
from retrieval.search import HybridSearcher

QUERIES = Path(__file__).parents[1] / "sets" / "luma" / "queries.jsonl"  # the demo's


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--depth", type=int, default=50)
    ap.add_argument("--device", default="cpu")
    args = ap.parse_args()
    settings = Settings()
    index = ProductIndex(settings)
    folder = ranker_dir(index.dir)
    if not (folder / "card.json").is_file():
        raise SystemExit("no trained ranker for this index: run `aisle train-ranker` first")
    ranker = FineTunedRanker(folder, args.device)
    baseline = RetrievalOrderRanker()
    searcher = HybridSearcher(index)
    texts = [json.loads(line)["query"] for line in QUERIES.read_text().splitlines()]
    pools = [searcher.search(SearchRequest(text=t, k=args.depth)).candidates for t in texts]
    ranker.rank(texts[0], pools[0])  # warm-up: first-call allocations
    times: dict[str, list[float]] = {"retrieval order": [], "trained ranker": []}
    for _ in range(args.repeat):
        ranker._query_vector.cache_clear()
        for text, pool in zip(texts, pools, strict=True):
            for name, r in (("retrieval order", baseline), ("trained ranker", ranker)):
                t0 = time.perf_counter()
                r.rank(text, pool)
                times[name].append((time.perf_counter() - t0) * 1000)
    base = float(np.median(times["retrieval order"]))
    print(f"ranking {args.depth} candidates, {len(texts)} queries × {args.repeat}, {args.device}")
    for name, t in times.items():
        p50, p95 = np.percentile(t, 50), np.percentile(t, 95)
        print(f"{name:16} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms  ×{p50 / base:,.0f} of baseline")


if __name__ == "__main__":
    main()
