"""Load benchmark for `aisle serve`: N simultaneous scripted shoppers over loopback.

    python -m evals.benchmarks.serve [--shoppers 1,5,20] [--llm-model qwen2.5-0.5b | --no-llm]
    python -m evals.benchmarks.serve --url http://127.0.0.1:8080/   # a running deployment

Starts `aisle serve` in a subprocess on the indexed catalog, then for each N runs N
shoppers at once, each in its own Gradio session (its page's config fetched, then the queue
protocol the browser speaks: `PageClient`), each playing a short dialogue with its own price
limit. Reports turn latency p50/p95 (submit → the turn completed), errors, cross-session
leaks (a reply that does not carry this shopper's own price limit, or a chat that holds
another shopper's messages), and the CPU the server and the shoppers' side used a turn.
N = 1 is the baseline; ratios are against it, in the same run. The page draws a turn from
that one event (cards and chips are HTML values, no render event follows), so the server's
CPU a turn is what a browser's turn costs it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import threading
import time
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from assistant.config import Settings
from base.language.money import format_amount
from ui.render import from_plain_text

from ..sets import load_set
from .scripts import ServeScript, script_for


class Script:
    """Each shopper's dialogue: one of the set's requests with the shopper's own price
    limit, then the follow-ups; the first two replies must carry that limit."""

    def __init__(self, serve: ServeScript, currency: str):
        self.serve, self.currency = serve, currency

    def limit(self, shopper: int) -> str:
        return f"under {format_amount(40 + shopper * 3, self.currency)}"

    def turns(self, shopper: int) -> list[tuple[str, str]]:
        """(message, what the reply must say)."""
        limit = self.limit(shopper)
        request = self.serve.requests[shopper % len(self.serve.requests)]
        musts = [limit] + [limit if i == 0 else "" for i in range(len(self.serve.follow_ups))]
        return list(zip([f"{request} {limit}", *self.serve.follow_ups], musts, strict=True))


def start_server(port: int, llm_model: str | None, no_llm: bool) -> subprocess.Popen:
    env = {**os.environ, "AISLE_SERVE_PORT": str(port), "GRADIO_ANALYTICS_ENABLED": "False"}
    cmd = [sys.executable, "-m", "cli", "serve"]
    cmd += ["--no-llm"] if no_llm else (["--llm-model", llm_model] if llm_model else [])
    proc = subprocess.Popen(
        cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    deadline = time.time() + 300
    for line in proc.stdout:
        if "running at" in line:
            threading.Thread(target=lambda: [None for _ in proc.stdout], daemon=True).start()
            return proc
        if time.time() > deadline:
            break
    proc.kill()
    raise RuntimeError("aisle serve did not start")


def cpu_seconds(pid: int | None) -> float | None:
    """CPU the server process has used so far (all its threads), from /proc: the work a
    turn costs the server, which does not depend on what else this machine is doing."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, TypeError, IndexError):
        return None  # another OS, or a deployment measured by --url
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class PageClient:
    """One shopper's page: Gradio's queue protocol over plain HTTP, as the browser speaks it
    (join the queue, read the event stream until the turn completes). Not gradio_client:
    its 20 shoppers used twice the server's CPU a turn on this 2-core machine (measured),
    so the benchmark mostly measured itself."""

    def __init__(self, url: str, headers: dict[str, str]):
        self.url, self.headers = url, headers
        self.session_hash = uuid.uuid4().hex[:12]
        self.conversation: str | None = None
        with urllib.request.urlopen(self._request("config"), timeout=60) as r:
            config = json.loads(r.read())  # the page's own first request
        self.fn_index = next(d["id"] for d in config["dependencies"] if d.get("api_name") == "chat")

    def _request(self, path: str, body: dict | None = None) -> urllib.request.Request:
        data = None if body is None else json.dumps(body).encode()
        headers = {**self.headers, **({"content-type": "application/json"} if data else {})}
        return urllib.request.Request(self.url + path, data=data, headers=headers)

    def chat(self, message: str, conversation: str | None) -> list[dict]:
        """The chat's messages once the turn completed."""
        join = {
            "data": [{"text": message, "files": []}, conversation, None, None],
            "fn_index": self.fn_index,
            "session_hash": self.session_hash,
            "event_data": None,
            "trigger_id": None,
        }
        with urllib.request.urlopen(self._request("gradio_api/queue/join", join), timeout=60):
            pass
        stream = self._request(f"gradio_api/queue/data?session_hash={self.session_hash}")
        with urllib.request.urlopen(stream, timeout=120) as events:
            for line in events:
                if not line.startswith(b"data:"):
                    continue
                msg = json.loads(line[5:])
                if msg.get("msg") == "process_completed":
                    if not msg.get("success"):
                        raise RuntimeError(str(msg.get("output"))[:200])
                    self.conversation = msg["output"]["data"][0]  # the id the shop issued
                    return msg["output"]["data"][1]  # the chat, after the conversation id
        raise RuntimeError("the event stream ended before the turn completed")


def shopper(url: str, n: int, script: Script) -> dict:
    # behind scripts/nginx-aisle.conf shoppers are spread by this header, as distinct
    # browsers would be by address and user agent; a single server ignores it
    client = PageClient(url, {"x-aisle-route": f"shopper-{n}"})
    conversation = None  # the shop issues the id on the first turn; it is passed back
    latencies, errors, leaks = [], [], []
    for turn, (message, must) in enumerate(script.turns(n), 1):
        t0 = time.perf_counter()
        try:
            chat = client.chat(message, conversation)
            conversation = client.conversation
        except Exception as exc:  # noqa: BLE001 - counted and reported
            errors.append(f"shopper {n} turn {turn}: {exc}"[:200])
            continue
        latencies.append(time.perf_counter() - t0)
        said = [m for m in chat if m["role"] == "user"]
        reply = _text(chat[-1]["content"]) if chat else ""
        if len(said) != turn:  # another shopper's message in this chat
            leaks.append(f"shopper {n}: {len(said)} user messages after {turn} turns")
        if "doesn't sell" in reply:  # a kind this catalog lacks: a plain no is right
            continue
        if must and must not in reply:
            leaks.append(f"shopper {n} turn {turn}: reply lacks {must!r}: {reply[:80]!r}")
        # later turns set their own bounds ("cheaper than the first one"), which may equal
        # another shopper's limit by chance: only the turns that carry the limit are read
        others = {script.limit(k) for k in range(60) if k != n}
        if must and any(re.search(re.escape(o) + r"(?![\d.])", reply) for o in others):
            leaks.append(f"shopper {n} turn {turn}: another shopper's limit in {reply[:80]!r}")
    return {"latencies": latencies, "errors": errors, "leaks": leaks}


def _text(content) -> str:
    if isinstance(content, str):
        return from_plain_text(content)
    if isinstance(content, list):
        return " ".join(_text(c) for c in content)
    if isinstance(content, dict):
        return from_plain_text(str(content.get("text") or content.get("value") or ""))
    return str(content)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--set", default="luma", help="eval set whose requests the shoppers make")
    ap.add_argument("--shoppers", default="1,5,20")
    ap.add_argument("--llm-model", default="qwen2.5-0.5b")
    ap.add_argument("--no-llm", action="store_true")
    ap.add_argument("--port", type=int, default=7871)
    ap.add_argument("--out", default="evals/results/bench_serve.json")
    ap.add_argument(
        "--url", help="measure a running deployment (e.g. workers behind nginx) instead"
    )
    args = ap.parse_args()
    from retrieval.index import ProductIndex

    settings = Settings()
    currency = ProductIndex(settings).manifest.currency
    script = Script(script_for(load_set(args.set), "serve"), currency)

    proc = None if args.url else start_server(args.port, args.llm_model, args.no_llm)
    url = args.url or f"http://127.0.0.1:{args.port}/"
    rows = []
    try:
        shopper(url, 99, script)  # warm-up: models load, caches fill
        for n in [int(x) for x in args.shoppers.split(",")]:
            started, cpu0 = time.perf_counter(), cpu_seconds(proc and proc.pid)
            mine0 = time.process_time()
            with ThreadPoolExecutor(n) as pool:
                results = list(pool.map(lambda i: shopper(url, i, script), range(n)))
            wall = time.perf_counter() - started
            cpu1 = cpu_seconds(proc and proc.pid)
            mine = time.process_time() - mine0  # the shoppers' own side, on this machine too
            lat = np.array([x for r in results for x in r["latencies"]])
            # a shopper's page load (its config) is in it too, as a browser's would be
            cpu_ms = 1000 * (cpu1 - cpu0) / len(lat) if cpu1 is not None and len(lat) else None
            rows.append(
                {
                    "shoppers": n,
                    "turns": int(len(lat)),
                    "p50_s": float(np.percentile(lat, 50)) if len(lat) else None,
                    "p95_s": float(np.percentile(lat, 95)) if len(lat) else None,
                    "errors": [e for r in results for e in r["errors"]],
                    "leaks": [x for r in results for x in r["leaks"]],
                    "wall_s": wall,
                    "server_cpu_ms_per_turn": cpu_ms,
                    "client_cpu_ms_per_turn": 1000 * mine / len(lat) if len(lat) else None,
                }
            )
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(30)
    base = rows[0]["p50_s"] or 1.0
    model = f"deployment at {url}" if args.url else "no LLM" if args.no_llm else args.llm_model
    print(f"aisle serve on this machine, {model}, {os.cpu_count()} CPUs")
    print(
        f"{'N':>3} {'turns':>5} {'p50 s':>7} {'p95 s':>7} {'x N=1':>6} {'errors':>6} {'leaks':>5}"
        f" {'server CPU ms/turn':>18} {'client CPU ms/turn':>18}"
    )
    for r in rows:
        cpu = r["server_cpu_ms_per_turn"]
        print(
            f"{r['shoppers']:>3} {r['turns']:>5} {r['p50_s']:>7.2f} {r['p95_s']:>7.2f} "
            f"{r['p50_s'] / base:>6.1f} {len(r['errors']):>6} {len(r['leaks']):>5}"
            f" {'-' if cpu is None else f'{cpu:.0f}':>18} {r['client_cpu_ms_per_turn']:>18.0f}"
        )
        for problem in (r["errors"] + r["leaks"])[:5]:
            print("    ", problem)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"model": model, "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
