"""Turn latency per stage, for each chat model, on the indexed catalog.

    python -m evals.benchmarks.turn [--set luma] [--models rules,qwen2.5-0.5b,qwen2.5-1.5b]

Plays the same scripted dialogues (`[turn]` of the eval set's bench.toml, written for the
catalog that is indexed: evals/benchmarks/scripts.py) with each model (the rules-only
configuration is the baseline, run in the same process) and prints p50/p95 per stage, the
time to the first streamed line, and how often each LLM call was needed.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from assistant.config import Settings
from assistant.pipeline import Assistant

from ..sets import load_set
from .scripts import script_for

STAGES = ["interpret_ms", "search_ms", "respond_ms", "total_ms"]


def run(settings: Settings, model: str | None, repeat: int, dialogues: list[list[str]]) -> dict:
    bot = Assistant(
        settings.with_overrides(llm_model=model) if model else settings, use_llm=model is not None
    )
    bot.respond("warm-up", dialogues[0][0])  # loads every model once, outside the timings
    stages: dict[str, list[float]] = {s: [] for s in STAGES}
    first_line: list[float] = []
    llm_interpret = llm_writes = product_turns = turns = 0
    for r in range(repeat):
        for d, dialogue in enumerate(dialogues):
            session = f"{model}-{r}-{d}"
            for text in dialogue:
                started = time.perf_counter()
                seen: list[float] = []
                reply = bot.respond(
                    session, text, on_token=lambda _t, s=seen: s or s.append(time.perf_counter())
                )
                turns += 1
                for stage in STAGES:
                    stages[stage].append(reply.timings_ms.get(stage, 0.0))
                if seen:
                    first_line.append((seen[0] - started) * 1000)
                reading_used_llm = reply.interpretation.source != "rules"
                llm_interpret += reading_used_llm
                if reply.products and reply.intent in ("search", "refine", "clarify_answer"):
                    product_turns += 1
                    llm_writes += (
                        not any("built from the catalog" in n for n in reply.notes)
                        and model is not None
                    )
    pct = {f"{s}_p50": float(np.percentile(v, 50)) for s, v in stages.items()}
    pct |= {f"{s}_p95": float(np.percentile(v, 95)) for s, v in stages.items()}
    return {
        "model": model or "rules only (no LLM)",
        "turns": turns,
        **pct,
        "first_line_p50": float(np.percentile(first_line, 50)) if first_line else None,
        "llm_interpret_share": llm_interpret / turns,
        "llm_reply_share": llm_writes / product_turns if product_turns else 0.0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="luma", help="eval set whose dialogues to play")
    parser.add_argument("--models", default="rules,qwen2.5-0.5b,qwen2.5-1.5b")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--index-dir", default=None)
    parser.add_argument("--out", type=Path, default=Path("evals/results/bench_turn.json"))
    args = parser.parse_args()
    settings = Settings().with_overrides(index_dir=args.index_dir)
    dialogues = script_for(load_set(args.set), "turn").dialogues
    rows = [
        run(settings, None if m == "rules" else m, args.repeat, dialogues)
        for m in [x.strip() for x in args.models.split(",") if x.strip()]
    ]
    base = rows[0]["total_ms_p50"] if rows else 1.0
    print(
        "| model | turns | interpret p50/p95 ms | search p50/p95 ms | respond p50/p95 ms "
        "| full turn p50/p95 ms | × rules-only | first line p50 ms | LLM read | LLM wrote |"
    )
    print("|---" * 10 + "|")
    for r in rows:
        first = f"{r['first_line_p50']:.0f}" if r["first_line_p50"] is not None else "—"
        print(
            f"| {r['model']} | {r['turns']} | "
            + " | ".join(f"{r[s + '_p50']:.0f} / {r[s + '_p95']:.0f}" for s in STAGES)
            + f" | {r['total_ms_p50'] / base:.1f} | {first} | {r['llm_interpret_share']:.0%} "
            f"| {r['llm_reply_share']:.0%} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
