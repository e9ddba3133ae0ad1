"""Two `aisle serve` workers behind Debian's nginx on loopback, sharing a Chroma server
(`chroma run`), PostgreSQL (conversations and the event log) and one LLM server
(`aisle llm-server`, llama.cpp's OpenAI-compatible server): the README's "when one machine
is not enough" recipe, started the way it says. A shopper's turns alternate between the
workers; one worker is killed mid-conversation; the other continues it, cart included."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assistant.conversations import ConversationStore

from .raw_client import call
from .test_shopper_page import _free_port

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def _wait(url: str, proc: subprocess.Popen, what: str, seconds: float = 120) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return  # it answers
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{what} did not answer at {url}")


def _worker_of(url: str, route: str) -> str:
    req = urllib.request.Request(url + "config", headers={"x-aisle-route": route})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.headers["x-aisle-worker"]


# per catalog shape: a first request, and a cart add the first product it shows accepts
SHOPS = {
    "grocery": ("grocery_index", "coffee beans", "add the first one to my cart"),
    "vendure": ("vendure_index", "hard drive", "add the first one in 2TB"),
    "luma": ("demo_index", "a backpack", "add the first one to my cart"),
}


@pytest.fixture(scope="module", params=sorted(SHOPS))
def cluster(request, postgres_url, tmp_path_factory):
    if not Path(NGINX).is_file():
        if os.environ.get("CI"):
            pytest.fail("nginx is not installed: .ci/run installs it with apt-get")
        pytest.skip("nginx is not installed (apt-get install nginx)")
    fixture, ask, add = SHOPS[request.param]
    folder = tmp_path_factory.mktemp(f"cluster-{request.param}")
    index = folder / "index"
    shutil.copytree(request.getfixturevalue(fixture)[0].index_dir, index)
    port = {name: _free_port() for name in ("chroma", "llm", "w1", "w2", "proxy")}
    env = {
        **os.environ,
        "AISLE_INDEX_DIR": str(index),
        "AISLE_CHROMA_URL": f"http://127.0.0.1:{port['chroma']}",
        "AISLE_EVENT_LOG_URL": postgres_url,
        "AISLE_CONVERSATION_STORE_URL": postgres_url,
        "AISLE_LLM_URL": f"http://127.0.0.1:{port['llm']}/v1",
        "AISLE_LLM_MODEL": "smollm2-135m",
        "AISLE_LLM_WRITES_REPLIES": "false",  # reasons from the catalog: the test is the wiring
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    aisle = [sys.executable, "-m", "cli"]
    chroma = str(Path(sys.executable).parent / "chroma")
    procs: dict[str, subprocess.Popen] = {}
    logs = folder / "logs"
    logs.mkdir()

    def start(name: str, cmd: list[str]) -> None:
        out = (logs / f"{name}.log").open("w")
        procs[name] = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT)

    # the index's own Chroma folder, served: every worker reads the same collections
    start("chroma", [chroma, "run", "--path", str(index / "chroma"), "--port", str(port["chroma"])])
    start("llm", [*aisle, "llm-server", "--port", str(port["llm"])])
    _wait(f"http://127.0.0.1:{port['chroma']}/api/v2/heartbeat", procs["chroma"], "chroma")
    _wait(f"http://127.0.0.1:{port['llm']}/health", procs["llm"], "llm-server")
    for name in ("w1", "w2"):
        start(name, [*aisle, "serve", "--port", str(port[name])])
    for name in ("w1", "w2"):
        _wait(f"http://127.0.0.1:{port[name]}/config", procs[name], name, 180)

    prefix = folder / "nginx"
    (prefix / "tmp").mkdir(parents=True)
    conf = (REPO / "scripts" / "nginx-aisle.conf").read_text()
    conf = conf.replace("7861", str(port["w1"])).replace("7862", str(port["w2"]))
    conf = conf.replace("127.0.0.1:8080", f"127.0.0.1:{port['proxy']}")
    if os.geteuid() == 0:  # workers would run as nobody, who cannot write this folder
        conf = "user root;\n" + conf
    (prefix / "nginx.conf").write_text(conf)
    subprocess.run([NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf")], check=True)
    proxy = f"http://127.0.0.1:{port['proxy']}/"
    try:
        _wait(proxy + "config", procs["w1"], "nginx")
        yield {
            "url": proxy,
            "procs": procs,
            "port": port,
            "store": postgres_url,
            "logs": logs,
            "turns": (ask, add),
            "shop": request.param,
        }
    finally:
        stop = [NGINX, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-s", "quit"]
        subprocess.run(stop, capture_output=True)
        for proc in procs.values():
            proc.terminate()
        for proc in procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()


def test_turns_alternate_between_workers_and_survive_one_dying(cluster):
    base, procs, port = cluster["url"], cluster["procs"], cluster["port"]
    routes: dict[str, str] = {}  # worker → a route nginx sends to it
    for n in range(50):
        routes.setdefault(_worker_of(base, f"shopper-{n}"), f"shopper-{n}")
    assert len(routes) == 2, routes  # both workers answer through the proxy
    (w_a, route_a), (w_b, route_b) = sorted(routes.items())
    session = None  # the first turn's worker issues the id (signed: any worker checks it)
    ask, add = cluster["turns"]

    def turn(text: str, route: str) -> str:
        nonlocal session
        messages = call(base, "chat", [{"text": text, "files": []}, session, None, None],
                        headers={"x-aisle-route": route})  # fmt: skip
        assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"], messages
        session = messages[-1]["output"]["data"][0]
        return str(messages)

    first = turn(ask, route_a)
    assert "Here" in first
    turn(add, route_b)  # the other worker: it read the store
    cart = ConversationStore(cluster["store"]).load(session).cart
    assert len(cart) == 1
    dying = procs["w1"] if w_a.endswith(f":{port['w1']}") else procs["w2"]
    dying.send_signal(signal.SIGKILL)  # worker A dies mid-conversation
    dying.wait(10)
    after = turn("something cheaper", route_a)  # nginx fails over to worker B
    assert _worker_of(base, route_a) == w_b
    state = ConversationStore(cluster["store"]).load(session)
    assert state.cart == cart and cart[0].title in after  # the cart is intact, and shown
    assert state.turns >= 3 and state.filters.price_max is not None  # "cheaper" was understood
