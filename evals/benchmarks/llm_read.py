"""The LLM's reading of a turn on this machine: time to its first token and to the whole
reading, before and after the reading was made lean, for each model, in one process.

    python -m evals.benchmarks.llm_read [--set luma] [--models qwen2.5-1.5b,…] [--turns 24]

Turns are the set's dev dialogues (and NLU turns), each read by the LLM (as if the rules were
unsure of all of them) in the dialogue state the rules left before it. Both readings run on
the same llama.cpp model, in blocks (before, now, now, before, …: llama.cpp keeps the
computed prompt of the reading that ran last, as it would in a shop, where only one runs):

- **before**: the reading as it was until this benchmark was written — JSON through
  llama.cpp's `response_format` (the model pretty-prints it and writes every empty field),
  the examples inside one message, the shown products listed by title;
- **now**: `assistant/understanding/llm_reader.py` as it is — one-line JSON by grammar, the
  examples as earlier chat turns, only the context the turn has.

Each configuration's fixed prompt is computed first and timed ("fixed prompt s": what the
first unsure turn costs when nothing computed it at start; `aisle serve` does, `warm`).
"LLM's intent right" is the share of labelled turns where the LLM's own reading (checked
against the shopper's words, before the rules' reading is merged in) has the set's intent;
"values dropped" counts the values a turn's reading gave that the shopper never said. They
check that a faster reading did not get worse; the NLU eval (`aisle eval nlu
--llm-every-turn`) scores the merged reading's slots.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np
from langchain_core.messages import HumanMessage, SystemMessage

from assistant.config import Settings
from assistant.llm import ChatLlamaCpp
from assistant.llm_models import LLMUnavailableError
from assistant.pipeline import Assistant
from assistant.records import DialogueState
from assistant.understanding.llm_reader import SYSTEM, Interpreter
from assistant.understanding.read_turn import read_turn

from ..sets import load_set
from ..suites.dialogues import load_dialogues

SYSTEM_BEFORE = SYSTEM.replace(
    "Write only the fields that have a value; leave out a field when unsure.",
    "Leave a field empty when unsure.",
)


class PrettyJSON(ChatLlamaCpp):
    """llama.cpp answering through `response_format`, as the reader did before."""

    def _payload(self, messages, stop, **kwargs):
        schema = kwargs.pop("json_schema", None)
        payload = super()._payload(messages, stop, **kwargs)
        if schema:
            payload["response_format"] = {"type": "json_schema", "json_schema": {"schema": schema}}
        return payload


class ReaderBefore(Interpreter):
    """The prompt as it was: examples and context in one message, shown titles listed."""

    def _messages(self, text: str, state: DialogueState):
        from assistant.examples import reader_examples

        context = {
            "current_search": state.need,
            "shown_products": [f"{i}. {s.title}" for i, s in enumerate(state.shown[:6], 1)],
            "assistant_asked_about": state.asked[-1:],
        }
        examples = reader_examples(self.words.lexicon, self.view)
        shots = "\n".join(f"Message: {m}\nJSON: {json.dumps(j)}" for m, j in examples)
        user = (
            f"Examples:\n{shots}\n\nContext: {json.dumps(context)}\n"
            f"Message: {json.dumps(text)}\nJSON:"
        )
        return [SystemMessage(content=SYSTEM_BEFORE), HumanMessage(content=user)]


def cases(bot: Assistant, set_name: str, turns: int, seed: int) -> list[tuple[str, str, object]]:
    """(text, gold intent, state before it) for the set's dev turns, states from the rules."""
    reader, bot.parts.interpreter.llm = bot.parts.interpreter.llm, None
    out = []
    for d in load_dialogues(load_set(set_name), "dev", ("dialogues.jsonl", "nlu.jsonl")):
        session = f"bench-read-{d.id}"
        bot.reset(session)
        for t in d.turns:
            out.append((t.text, t.intent, bot.state(session).model_copy(deep=True)))
            bot.respond(session, t.text)
        bot.reset(session)
    bot.parts.interpreter.llm = reader
    random.Random(seed).shuffle(out)
    return out[:turns]


def timed_reading(reader: Interpreter, text: str, state: DialogueState) -> dict | None:
    """The LLM's own reading of one turn (what `Interpreter.interpret` asks, timed, before it
    is merged with the rules' reading), or None when the call failed."""
    try:
        raw, took = reader.ask(text, state)
    except (LLMUnavailableError, ValueError):
        return None
    checked, invented = reader.validate(
        raw, text, state, read_turn(text, state, reader.words, reader.view)
    )
    return {
        "ms": took["llm_ms"],
        "first_ms": took["llm_first_token_ms"] or took["llm_ms"],
        "intent": checked.intent,
        "invented": invented,
    }


def run(
    settings: Settings, model: str, set_name: str, turns: int, seed: int, rounds: int
) -> list[dict]:
    bot = Assistant(settings.with_overrides(llm_model=model), use_llm=True)
    bot.parts.writer.llm = None
    now = bot.parts.interpreter
    if not isinstance(now.llm, ChatLlamaCpp):
        raise SystemExit(f"{model}: this benchmark measures llama.cpp in process")
    llm = now.llm
    pretty = PrettyJSON(
        model_path=llm.model_path,
        n_ctx=llm.n_ctx,
        n_threads=llm.n_threads,
        n_gpu_layers=llm.n_gpu_layers,
        max_tokens=llm.max_tokens,
    )  # the same llama.cpp server: one model in memory, one prompt cache
    before = ReaderBefore(now.words, now.view, pretty, now.config)
    readers = {"before": before, "now": now}
    rows = {
        name: {"first": [], "whole": [], "ok": 0, "labelled": 0, "invented": 0} for name in readers
    }
    fixed: dict[str, list[float]] = {name: [] for name in readers}
    turns_read = cases(bot, set_name, turns, seed)
    for round_ in range(rounds):  # blocks, in turn: llama.cpp keeps one prompt's prefix
        for name in readers if round_ % 2 == 0 else reversed(readers):
            reader = readers[name]
            started = time.perf_counter()
            reader.warm()  # its fixed prompt, after the other one's turns pushed it out
            fixed[name].append(time.perf_counter() - started)
            for text, intent, state in turns_read:
                read = timed_reading(reader, text, state)
                if read is None:  # the call failed or timed out: counted as missing
                    continue
                row = rows[name]
                row["whole"].append(read["ms"])
                row["first"].append(read["first_ms"])
                row["invented"] += read["invented"]
                if intent:
                    row["labelled"] += 1
                    row["ok"] += read["intent"] == intent
    out = []
    for name, r in rows.items():
        pct = lambda v, q: float(np.percentile(v, q)) if v else float("nan")  # noqa: E731
        out.append(
            {
                "set": set_name,
                "model": model,
                "reading": name,
                "turns": len(r["whole"]),
                "fixed_prompt_s": float(np.median(fixed[name])),
                "first_token_p50_ms": pct(r["first"], 50),
                "first_token_p95_ms": pct(r["first"], 95),
                "reading_p50_ms": pct(r["whole"], 50),
                "reading_p95_ms": pct(r["whole"], 95),
                "intent_accuracy": r["ok"] / r["labelled"] if r["labelled"] else None,
                "invented_per_turn": r["invented"] / len(r["whole"]) if r["whole"] else None,
            }
        )
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", default="luma", help="eval set whose dev turns to read")
    parser.add_argument("--models", default="qwen2.5-1.5b,qwen2.5-0.5b")
    parser.add_argument("--turns", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="blocks of turns per reading")
    parser.add_argument("--index-dir", default=None, help="the set's catalog, indexed")
    parser.add_argument("--out", type=Path, default=Path("evals/results/bench_llm_read.json"))
    args = parser.parse_args()
    settings = Settings().with_overrides(index_dir=args.index_dir)
    rows = [
        row
        for m in [x.strip() for x in args.models.split(",") if x.strip()]
        for row in run(settings, m, args.set, args.turns, args.seed, args.rounds)
    ]
    print(
        "| set | model | reading | turns | fixed prompt s | first token p50 / p95 ms "
        "| reading p50 / p95 ms | × before | LLM's intent right | values dropped a turn |"
    )
    print("|---" * 10 + "|")
    base = {(r["model"]): r["reading_p50_ms"] for r in rows if r["reading"] == "before"}
    for r in rows:
        acc = f"{r['intent_accuracy']:.2f}" if r["intent_accuracy"] is not None else "—"
        print(
            f"| {r['set']} | {r['model']} | {r['reading']} | {r['turns']} "
            f"| {r['fixed_prompt_s']:.1f} "
            f"| {r['first_token_p50_ms']:.0f} / {r['first_token_p95_ms']:.0f} "
            f"| {r['reading_p50_ms']:.0f} / {r['reading_p95_ms']:.0f} "
            f"| {r['reading_p50_ms'] / base[r['model']]:.2f} | {acc} "
            f"| {r['invented_per_turn']:.2f} |"
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
