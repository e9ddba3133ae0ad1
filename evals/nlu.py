"""NLU evaluation: intent accuracy and per-slot precision/recall on hand-written shopper
dialogues (`evals/nlu/dev.jsonl`, `evals/nlu/test.jsonl`; develop on dev only).

Each dialogue runs through the real pipeline on the indexed catalog, so references
resolve against the products it actually showed. Replies are built from facts (the
writer's LLM is off): this measures understanding, not wording.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from collections import Counter
from pathlib import Path

from pydantic import BaseModel, Field

from assistant.config import Settings
from assistant.pipeline import Assistant
from assistant.records import TurnInterpretation

DATA = Path(__file__).resolve().parent / "nlu"


class TurnCase(BaseModel):
    text: str
    intent: str
    slots: dict = Field(default_factory=dict)

    def expected(self) -> set[tuple[str, str]]:
        out = set()
        for name, value in self.slots.items():
            values = value if isinstance(value, list) else [value]
            for v in values:
                numeric = isinstance(v, float | int) and name != "references"
                out.add((name, f"{v:g}" if numeric else str(v).casefold()))
        return out


class Dialogue(BaseModel):
    id: str
    turns: list[TurnCase]


def load_split(split: str) -> list[Dialogue]:
    names = ["dev", "test"] if split == "all" else [split]
    out = []
    for name in names:
        for number, line in enumerate((DATA / f"{name}.jsonl").read_text().splitlines(), 1):
            if line.strip():
                try:
                    out.append(Dialogue.model_validate_json(line))
                except ValueError as exc:
                    raise ValueError(f"{name}.jsonl line {number}: {exc}") from None
    return out


def slot_type(slot: str) -> str:
    return slot.split(".")[0] if slot.startswith("exclude_attributes") else slot


def grounded(slot: str, value: str, text: str, assistant: Assistant) -> bool:
    """Could this value have come from the shopper's words (or what was shown)?"""
    low = text.casefold()
    vocab = assistant.vocab
    toks = re.findall(r"[a-z0-9]+(?:[-'][a-z0-9]+)*", low)
    if slot in ("price_max", "price_min"):
        numbers = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", low)]
        return any(abs(float(value) - n) <= 0.2 * n + 0.01 for n in numbers)
    if slot in ("colors", "exclude_colors"):
        return any((c := vocab.color(t)) and c.casefold() == value for t in toks)
    if slot == "categories":
        return any(value in vocab.kind(t) or vocab.department(t) == value for t in toks)
    if slot in ("sizes", "cart.size"):
        return value in toks or any(
            vocab.size_word(w) and vocab.size_word(w).casefold() == value
            for w in ("small", "medium", "large", "extra large", "extra small")
            if w in low
        )
    if slot == "references":
        return True  # references resolve against what was shown; checked by the reader
    return True


class Report(BaseModel):
    config: str
    split: str
    turns: int
    intent_accuracy: float
    slot_precision: float
    slot_recall: float
    slot_f1: float
    per_slot: dict[str, dict[str, float]]
    invented_values: int  # predicted values the shopper never said
    llm_skipped_share: float  # turns the deterministic reading served alone
    llm_invented_dropped: int  # values the LLM invented and validation dropped
    interpret_ms_p50: float
    interpret_ms_p95: float
    errors: list[dict]


def evaluate(settings: Settings, split: str, model: str | None, force_llm: bool = False) -> Report:
    """`model` None: the deterministic reading alone."""
    config = settings.with_overrides(llm_model=model) if model else settings
    assistant = Assistant(config, use_llm=model is not None)
    assistant.writer.llm = None  # understanding only; replies from facts
    tp, fp, fn = Counter(), Counter(), Counter()
    intents_ok = total = invented = skipped = dropped = 0
    latencies, errors = [], []
    for dialogue in load_split(split):
        session = f"{dialogue.id}-{time.monotonic_ns()}"
        for case in dialogue.turns:
            before = assistant.state(session)
            t0 = time.perf_counter()
            reading = assistant.interpreter.interpret(case.text, before, force_llm=force_llm)
            latencies.append((time.perf_counter() - t0) * 1000)
            turn: TurnInterpretation = reading.turn
            skipped += not reading.llm_called
            dropped += reading.llm_invented
            got, want = turn.slots(), case.expected()
            total += 1
            answered = turn.intent == "clarify_answer" and case.intent == "refine" and before.asked
            intents_ok += turn.intent == case.intent or bool(answered)
            for slot, _ in got & want:
                tp[slot_type(slot)] += 1
            for slot, value in got - want:
                fp[slot_type(slot)] += 1
                invented += not grounded(slot, value, case.text, assistant)
            for slot, _ in want - got:
                fn[slot_type(slot)] += 1
            if (turn.intent != case.intent and not answered) or got != want:
                errors.append(
                    {
                        "dialogue": dialogue.id,
                        "text": case.text,
                        "intent": [turn.intent, case.intent],
                        "extra": sorted(got - want),
                        "missing": sorted(want - got),
                    }
                )
            assistant.respond(session, case.text)  # advance the dialogue as a shopper would
    per_slot = {}
    for slot in sorted(set(tp) | set(fp) | set(fn)):
        p = tp[slot] / (tp[slot] + fp[slot]) if tp[slot] + fp[slot] else 1.0
        r = tp[slot] / (tp[slot] + fn[slot]) if tp[slot] + fn[slot] else 1.0
        per_slot[slot] = {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "support": tp[slot] + fn[slot],
        }
    TP, FP, FN = sum(tp.values()), sum(fp.values()), sum(fn.values())
    precision = TP / (TP + FP) if TP + FP else 1.0
    recall = TP / (TP + FN) if TP + FN else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    latencies.sort()
    return Report(
        config=(model or "rules only") + (" (LLM every turn)" if force_llm else ""),
        split=split,
        turns=total,
        intent_accuracy=round(intents_ok / total, 3),
        slot_precision=round(precision, 3),
        slot_recall=round(recall, 3),
        slot_f1=round(f1, 3),
        per_slot=per_slot,
        invented_values=invented,
        llm_skipped_share=round(skipped / total, 3),
        llm_invented_dropped=dropped,
        interpret_ms_p50=round(statistics.median(latencies), 1),
        interpret_ms_p95=round(latencies[int(0.95 * (len(latencies) - 1))], 1),
        errors=errors,
    )


def print_reports(reports: list[Report]) -> None:
    print(
        "| config | split | turns | intent acc | slot P | slot R | slot F1 | invented "
        "| LLM skipped | LLM values dropped | interpret p50 / p95 ms |"
    )
    print("|---" * 11 + "|")
    for r in reports:
        print(
            f"| {r.config} | {r.split} | {r.turns} | {r.intent_accuracy:.3f} | "
            f"{r.slot_precision:.3f} | {r.slot_recall:.3f} | {r.slot_f1:.3f} | "
            f"{r.invented_values} | {r.llm_skipped_share:.0%} | {r.llm_invented_dropped} | "
            f"{r.interpret_ms_p50:.0f} / {r.interpret_ms_p95:.0f} |"
        )
    for r in reports:
        slots = ", ".join(
            f"{k} {v['precision']:.2f}/{v['recall']:.2f}" for k, v in r.per_slot.items()
        )
        print(f"\n{r.config} ({r.split}) per slot P/R: {slots}")


def save(reports: list[Report], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps([r.model_dump() for r in reports], indent=2))
