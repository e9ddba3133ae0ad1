"""The query encoder: sentence-transformers (torch fp32, the baseline), ONNX Runtime fp32 (what
search uses on a CPU) and torch dynamic int8 (a candidate), in this process, one thread.

    python -m evals.benchmarks.query_encoder --index-dir DIR [--index-dir DIR …] [--rounds 3]

For each index, on its eval set's judged queries (dev and test): p50 ms to embed one query
(the three alternating, so the machine's load hits them alike) and the ratio to torch; and
agreement with the fp32 document vectors the index holds: recall@10 of the dense top 10
against the torch query's top 10, and the mean cosine to the torch vector. A candidate is
usable only at recall@10 ≥ 0.99."""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
import warnings
from pathlib import Path

import numpy as np

from retrieval.config import RetrievalConfig
from retrieval.index import ProductIndex
from retrieval.models import configure_threads, load_sentence_transformer
from retrieval.query_encoder import OnnxQueryEncoder

SETS = Path(__file__).parents[1] / "sets"


def _queries(index: ProductIndex) -> list[str]:
    from ..sets import set_for_catalog

    name = set_for_catalog(index.manifest.catalog)
    files = [SETS / name / f"judged-{s}.jsonl" for s in ("dev", "test")] if name else []
    rows = [json.loads(line) for f in files if f.is_file() for line in f.read_text().splitlines()]
    return sorted({r["query"] for r in rows})


def _int8(st):
    import torch

    q8 = copy.deepcopy(st)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's notice that eager quantisation moved
        q8[0].model = torch.ao.quantization.quantize_dynamic(
            q8[0].model, {torch.nn.Linear}, dtype=torch.qint8
        )
    return lambda texts: np.asarray(q8.encode(texts, normalize_embeddings=True), np.float32)


def measure(index_dir: Path, rounds: int) -> dict:
    index = ProductIndex(RetrievalConfig(index_dir=index_dir))
    queries = _queries(index)
    st = load_sentence_transformer(index.manifest.text_model)
    encoders = {
        "torch fp32": lambda texts: np.asarray(
            st.encode(texts, normalize_embeddings=True), np.float32
        ),
        "onnx fp32": OnnxQueryEncoder(index.manifest.text_model, threads=1).embed,
        "torch int8": _int8(st),
    }
    docs = index.vectors.text
    base = encoders["torch fp32"](queries)
    top = [set(np.argsort(-docs @ q)[:10]) for q in base]
    out = {"index": str(index_dir), "queries": len(queries), "encoders": {}}
    times: dict[str, list[float]] = {name: [] for name in encoders}
    for _ in range(rounds):
        for q in queries:
            for name, embed in encoders.items():
                t0 = time.perf_counter()
                embed([q])
                times[name].append((time.perf_counter() - t0) * 1000)
    for name, embed in encoders.items():
        vecs = embed(queries)
        recall = [
            len(set(np.argsort(-docs @ v)[:10]) & t) / 10 for v, t in zip(vecs, top, strict=True)
        ]
        out["encoders"][name] = {
            "p50_ms": round(statistics.median(times[name]), 2),
            "ratio": round(
                statistics.median(times[name]) / statistics.median(times["torch fp32"]), 2
            ),
            "recall@10": round(float(np.mean(recall)), 3),
            "min_recall@10": round(float(min(recall)), 1),
            "cosine": round(float(np.mean((vecs * base).sum(1))), 5),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--index-dir", type=Path, action="append", required=True)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    configure_threads(1)
    print(
        "| index | queries | encoder | one query p50 ms | ratio to torch "
        "| recall@10 vs fp32 (min) | cosine |"
    )
    print("|---|---|---|---|---|---|---|")
    for folder in args.index_dir:
        r = measure(folder, args.rounds)
        for name, m in r["encoders"].items():
            print(
                f"| {Path(r['index']).name} | {r['queries']} | {name} | {m['p50_ms']} | "
                f"{m['ratio']:.2f} | {m['recall@10']:.3f} ({m['min_recall@10']}) | {m['cosine']} |"
            )


if __name__ == "__main__":
    main()
