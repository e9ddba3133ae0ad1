"""Reliability figures for issue-style claims, on this machine:

    python -m evals.benchmarks.reliability [--kills 20] [--catalog data/grocery/products.csv]

1. kill -9 during `aisle ingest` (a real SIGKILL at each fault point in turn, a catalog
   re-ordered and edited over the original): how many runs left a consistent index (the
   old one or the new one, whole, and `--check` clean of problems).
2. One shopper sends 100,000-character messages while another chats: the other's turn
   time, next to the same turns with nobody else, in the same run (ratio of medians).
3. Four clients send 2,000,000-character messages through the page while a shopper chats:
   the shopper's p95 beside them against alone, in the same run.
4. Conversations across restarts: N conversations, each turn on a freshly started
   assistant sharing one store; conversations or cart lines lost.
5. A disk that refuses the write (a small tmpfs, so root only): `aisle ingest` of an edited
   catalog onto a read-only and onto a full index folder: its exit code and last line, and
   whether the live index is still the one before.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

from assistant.config import Settings
from assistant.pipeline import Assistant
from base.faults import POINTS
from retrieval.config import RetrievalConfig
from retrieval.index import ProductIndex
from retrieval.index_check import check_index
from retrieval.ingest import ingest


def _versions(catalog: Path, folder: Path) -> tuple[Path, Path]:
    rows = list(csv.DictReader(io.StringIO(catalog.read_text(encoding="utf-8-sig"))))
    title = next(k for k in rows[0] if k.lower() in ("title", "name"))
    a, b = folder / "a.csv", folder / "b.csv"
    changed = [dict(r) for r in reversed(rows[:-3])]
    changed[0][title] += " (new)"
    for path, data in ((a, rows), (b, changed)):
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(data)
    return a, b


def _seen(index_dir: Path) -> list[tuple[str, str]]:
    index = ProductIndex(RetrievalConfig(index_dir=index_dir, device="cpu"))
    return [(p.id, p.model_dump_json()) for p in index.all_products()]


def kills(catalog: Path, runs: int, work: Path) -> dict:
    a, b = _versions(catalog, work)
    base = work / "base"
    ingest(a, RetrievalConfig(index_dir=base, device="cpu"), progress=False)
    old = _seen(base)
    probe = work / "probe"
    shutil.copytree(base, probe)
    ingest(b, RetrievalConfig(index_dir=probe, device="cpu"), progress=False)
    new = _seen(probe)
    outcomes = []
    for n in range(runs):
        point = POINTS[n % len(POINTS)]
        target = work / f"run-{n}"
        shutil.copytree(base, target)
        env = {**os.environ, "AISLE_INDEX_DIR": str(target), "AISLE_FAULT_AT": point}
        cmd = [sys.executable, "-m", "cli", "ingest", str(b), "--quiet", "--json"]
        done = subprocess.run(cmd, env=env, capture_output=True)
        seen = _seen(target)
        report = check_index(ProductIndex(RetrievalConfig(index_dir=target, device="cpu")))
        which = "old" if seen == old else "new" if seen == new else "MIX"
        outcomes.append(
            {"point": point, "rc": done.returncode, "left": which, "check_ok": report.ok}
        )
        shutil.rmtree(target, ignore_errors=True)
    consistent = sum(o["left"] != "MIX" and o["check_ok"] for o in outcomes)
    return {"runs": runs, "consistent": consistent, "outcomes": outcomes}


def stall(settings: Settings, turns: int) -> dict:
    bot = Assistant(settings, use_llm=False)
    request = bot.example_request()

    def timed(session: str) -> list[float]:
        out = []
        for i in range(turns):
            t0 = time.perf_counter()
            bot.respond(f"{session}-{i}", request)
            out.append(time.perf_counter() - t0)
        return out

    timed("warm")
    quiet = timed("quiet")
    stop = threading.Event()
    long_turns = []

    def flood():
        noise = (("a" * 60 + "@") * 2000)[:100_000]
        while not stop.is_set():
            t0 = time.perf_counter()
            bot.respond("flood", f"{request} {noise}")
            long_turns.append(time.perf_counter() - t0)

    thread = threading.Thread(target=flood)
    thread.start()
    busy = timed("beside")
    stop.set()
    thread.join()
    q, b = statistics.median(quiet), statistics.median(busy)
    return {
        "quiet_p50_ms": q * 1000,
        "beside_p50_ms": b * 1000,
        "ratio": b / q,
        "long_message_p50_ms": statistics.median(long_turns) * 1000,
    }


def oversized(ask: str, turns: int, attackers: int = 4) -> dict:
    """Through the page (`aisle serve` in its own process, the index of AISLE_INDEX_DIR), as
    clients send it: one shopper's turn times alone, then each turn of theirs starting as
    `attackers` other clients each send a 2,000,000-character message at once. p95 of
    each, and the ratio (the issue's target: within 1.5x)."""
    from .serve import PageClient, start_server

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = start_server(port, None, no_llm=True)
    url = f"http://127.0.0.1:{port}/"
    answers: list[str] = []
    # the request as a page would send it, built once: the clients' own work is not measured
    body = json.dumps(
        {
            "data": [{"text": "a jacket " + "x" * 2_000_000, "files": []}, None, None, None],
            "fn_index": 0,
            "session_hash": "oversized",
        }
    ).encode()

    def attack() -> None:
        join = urllib.request.Request(
            url + "gradio_api/queue/join", data=body, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(join, timeout=60) as r:
                answers.append(str(r.status))
        except urllib.error.HTTPError as exc:
            answers.append(str(exc.code))
        except OSError as exc:  # the server closed the connection mid-body: refused as well
            answers.append(type(exc).__name__)

    try:
        shopper = PageClient(url, {})

        def turn() -> float:
            t0 = time.perf_counter()
            shopper.chat(ask, shopper.conversation)
            return time.perf_counter() - t0

        for _ in range(3):
            turn()  # warm
        quiet = [turn() for _ in range(turns)]
        busy = []
        for _ in range(turns):
            burst = [threading.Thread(target=attack) for _ in range(attackers)]
            for t in burst:
                t.start()
            busy.append(turn())
            for t in burst:
                t.join(timeout=120)
    finally:
        server.kill()
        server.wait(10)
    p95 = lambda xs: sorted(xs)[max(0, int(round(0.95 * len(xs))) - 1)]  # noqa: E731
    return {
        "quiet_p95_ms": p95(quiet) * 1000,
        "beside_p95_ms": p95(busy) * 1000,
        "ratio": p95(busy) / p95(quiet),
        "answers": dict(Counter(answers)),
    }


def restarts(settings: Settings, conversations: int, work: Path) -> dict:
    store = f"sqlite:///{work / 'conversations.sqlite'}"
    s = settings.with_overrides(conversation_store_url=store, event_log_enabled=False)
    request = Assistant(s, use_llm=False).example_request()
    lost_conversations = lost_lines = 0
    for n in range(conversations):
        cid = f"restart-{n}"
        first = Assistant(s, use_llm=False)  # each turn on a newly started process
        reply = first.respond(cid, request)
        if not reply.products:
            continue
        product = reply.products[0].product
        variants = product.purchasable_variants()
        if product.available and variants:
            first.actions.add_variant(cid, product.id, variants[0].label())
        kept = first.state(cid)
        second = Assistant(s, use_llm=False)
        state = second.state(cid)
        lost_conversations += state.shown != kept.shown or state.filters != kept.filters
        lost_lines += max(0, len(kept.cart) - len(state.cart))
    return {
        "conversations": conversations,
        "lost_conversations": int(lost_conversations),
        "lost_cart_lines": lost_lines,
    }


def refused(catalog: Path, work: Path) -> dict:
    """Ingest onto a read-only, then a full, tmpfs; what the user reads and what is left."""
    mount = work / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)]).returncode:
        return {"skipped": "a tmpfs cannot be mounted here (needs root)"}
    a, b = _versions(catalog, work)
    index_dir = mount / "index"
    env = {**os.environ, "AISLE_INDEX_DIR": str(index_dir)}

    def run_ingest(path: Path) -> tuple[int, str]:
        done = subprocess.run(
            [sys.executable, "-m", "cli", "ingest", str(path)],
            env=env, capture_output=True, text=True, timeout=900,
        )  # fmt: skip
        lines = [x for x in done.stderr.splitlines() if x.startswith("error:")]
        return done.returncode, lines[-1] if lines else ""

    out = {}
    try:
        run_ingest(a)
        before = _seen(index_dir)
        used = shutil.disk_usage(mount).used
        cases = (("read-only", "remount,ro"), ("full", f"remount,rw,size={used + 65536}"))
        for case, options in cases:
            subprocess.run(["mount", "-o", options, str(mount)], check=True)
            rc, said = run_ingest(b)
            out[case] = {"rc": rc, "said": said, "live index kept": _seen(index_dir) == before}
    finally:
        subprocess.run(["umount", "-l", str(mount)])  # lazily: this process still maps its files
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--catalog", type=Path, default=Path("data/grocery/products.csv"))
    ap.add_argument("--turns", type=int, default=20)
    ap.add_argument("--conversations", type=int, default=5)
    ap.add_argument(
        "--only",
        default="kills,stall,oversized,restarts,refused",
        help="the sections to run, by name",
    )
    args = ap.parse_args()
    only = set(args.only.split(","))
    settings = Settings()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if "kills" in only:
            k = kills(args.catalog, args.kills, work)
            print(f"kill -9 during ingest: {k['consistent']}/{k['runs']} left a consistent index")
            for o in k["outcomes"]:
                print(f"    {o['point']:<20} rc={o['rc']:<4} left {o['left']}, ok: {o['check_ok']}")
        if "stall" in only:
            st = stall(settings, args.turns)
            print(
                f"a shopper beside 100k-character messages: p50 {st['beside_p50_ms']:.0f} ms "
                f"vs {st['quiet_p50_ms']:.0f} ms alone (x{st['ratio']:.2f}); the long turns "
                f"p50 {st['long_message_p50_ms']:.0f} ms"
            )
        if "oversized" in only:
            ask = Assistant(settings, use_llm=False).example_request()
            o = oversized(ask, args.turns)
            print(
                f"a shopper whose every turn starts with 4 other clients' 2,000,000-character "
                f"messages: p95 {o['beside_p95_ms']:.0f} ms vs {o['quiet_p95_ms']:.0f} ms "
                f"alone (x{o['ratio']:.2f}); the oversized requests: {o['answers']}"
            )
        if "restarts" in only:
            r = restarts(settings, args.conversations, work)
            print(
                f"restarts: {r['lost_conversations']} of {r['conversations']} conversations "
                f"and {r['lost_cart_lines']} cart lines lost"
            )
        if "refused" in only:
            for case, result in refused(args.catalog, work).items():
                print(f"ingest onto a {case} index folder: {result}")


if __name__ == "__main__":
    main()
