"""Search + rank latency quiet and beside a CPU-busy neighbour, for torch's own intra-op
thread count and for the one `inference_threads` sets, in this process.

    python -m evals.benchmarks.threads [--index-dir DIR] [--queries 40] [--neighbours 1]

Each query is searched (its embedding not cached) and its 50 candidates ranked by the
index's trained ranker (retrieval order without one). A neighbour is another process
spinning on a core — what a second turn, an ingest or another worker is to this one.
Prints p50/p95 per setting and the ratio busy / quiet (target: ≤ 1.5×)."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from assistant.config import Settings
from ranking.model import load_ranker
from retrieval.index import ProductIndex
from retrieval.models import configure_threads
from retrieval.schema import SearchRequest
from retrieval.search import HybridSearcher

SETS = Path(__file__).parents[1] / "sets"


def _texts(index: ProductIndex, n: int) -> list[str]:
    from ..sets import set_for_catalog

    name = set_for_catalog(index.manifest.catalog) or "luma"
    rows = (SETS / name / "queries.jsonl").read_text().splitlines()
    return [json.loads(line)["query"] for line in rows][:n]


def _round(searcher, ranker, texts: list[str]) -> list[float]:
    out = []
    for text in texts:
        searcher._query_cache.clear()
        getattr(ranker, "_query_vector", None) and ranker._query_vector.cache_clear()
        t0 = time.perf_counter()
        result = searcher.search(SearchRequest(text=text, k=50))
        ranker.rank(text, result.candidates)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index-dir", type=Path, default=None)
    ap.add_argument("--queries", type=int, default=40)
    ap.add_argument("--neighbours", type=int, default=1)
    args = ap.parse_args()
    import torch

    settings = Settings().with_overrides(index_dir=args.index_dir)
    index = ProductIndex(settings)
    searcher = HybridSearcher(index)
    ranker, _ = load_ranker(index.dir)
    texts = _texts(index, args.queries)
    default = torch.get_num_threads()
    chosen = settings.threads_for_inference()
    _round(searcher, ranker, texts[:3])  # warm-up
    rows = {}
    for label, n in (
        (f"torch default ({default} threads)", default),
        (f"inference_threads ({chosen})", chosen),
    ):
        configure_threads(n)
        quiet = _round(searcher, ranker, texts)
        spin = [
            subprocess.Popen([sys.executable, "-c", "while True: pass"])
            for _ in range(args.neighbours)
        ]
        try:
            time.sleep(0.5)
            busy = _round(searcher, ranker, texts)
        finally:
            for p in spin:
                p.kill()
        rows[label] = (quiet, busy)
    print(
        f"search + rank 50, {len(texts)} queries, {index.manifest.products} products, "
        f"ranker {ranker.name}, {args.neighbours} busy neighbour(s)"
    )
    for label, (quiet, busy) in rows.items():
        q50, q95, b50, b95 = (np.percentile(x, p) for x in (quiet, busy) for p in (50, 95))
        print(
            f"{label:28} quiet p50 {q50:6.1f} ms p95 {q95:6.1f} | busy p50 {b50:6.1f} ms "
            f"p95 {b95:6.1f} | busy/quiet ×{b50 / q50:.2f} (p95 ×{b95 / q95:.2f})"
        )


if __name__ == "__main__":
    main()
