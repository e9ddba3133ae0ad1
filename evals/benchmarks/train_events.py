"""How long `aisle train-ranker --keep-encoder` takes as the event log grows, on this machine.

    python -m evals.benchmarks.train_events --log sqlite:///RUN/config-1/events.sqlite \\
        [--sessions 1000,10000] [--synthetic 300]

The log is one written by simulated shoppers (`aisle eval learning` leaves it in its run
folder, `config-1/events.sqlite`). Larger sizes than it holds are made by repeating its
sessions under new ids (and new reply ids), so the events, queries and products are the
ones shoppers produced, in the same mix; repeated queries share their candidate search,
as in a real log, where queries repeat too. Runs the smallest size first as the baseline,
in this process, and prints each size's seconds and its ratio to it. Needs the index's
trained ranker (its encoder is kept)."""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from assistant.config import Settings
from ranking.events import EventLog
from ranking.train import TrainConfig, train
from retrieval.index import ProductIndex


def grown(events, sessions: int):
    """The log's sessions, repeated under new ids up to `sessions`."""
    by_session: dict[str, list] = {}
    for e in events:
        by_session.setdefault(e.session, []).append(e)
    ids = list(by_session)
    out = []
    for n in range(sessions):
        copy, round_ = ids[n % len(ids)], n // len(ids)
        for e in by_session[copy]:
            reply = f"{e.reply_id}~{round_}" if e.reply_id else None
            out.append(e.model_copy(update={"session": f"{e.session}~{round_}", "reply_id": reply}))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--log", required=True, help="SQLAlchemy URL of a simulated event log")
    ap.add_argument("--sessions", default="1000,10000")
    ap.add_argument("--synthetic", type=int, default=300)
    args = ap.parse_args()
    settings = Settings()
    index = ProductIndex(settings)
    events = list(EventLog(args.log).events())
    sizes = sorted(int(x) for x in args.sessions.split(","))
    sessions = len({e.session for e in events})
    print(f"log: {sessions} sessions, {len(events)} events; index {index.dir}")
    base = None
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            log = grown(events, n)
            t0 = time.perf_counter()
            card = train(
                index,
                TrainConfig(synthetic_queries=args.synthetic, keep_encoder=True, gate=False),
                settings.text_model,
                events=log,
                progress=False,
                out_dir=Path(tmp) / f"ranker-{n}",
            )
            seconds = time.perf_counter() - t0
            base = base or seconds
            stages = ", ".join(f"{k} {v:.0f} s" for k, v in card.training_seconds.items())
            print(
                f"{n:>6} sessions ({len(log)} events, "
                f"{card.sources.get('feedback', {}).get('queries', 0)} feedback queries): "
                f"{seconds:.0f} s  ×{seconds / base:.2f}  [{stages}]"
            )


if __name__ == "__main__":
    main()
