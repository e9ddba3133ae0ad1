"""`aisle serve` as an attacker meets it, on the three catalog shapes: request paths are
never opened, only the index's photo copies are served."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

from .raw_client import call, file_paths
from .test_shopper_page import launch_on

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[2]
INDEXES = {"luma": "demo_index", "vendure": "vendure_index", "grocery": "grocery_index"}


@pytest.fixture(scope="module", params=sorted(INDEXES))
def shop(request, tmp_path_factory):
    config = request.getfixturevalue(INDEXES[request.param])[0]
    store = f"sqlite:///{tmp_path_factory.mktemp('conversations') / 'conversations.sqlite'}"
    server, settings = launch_on(config, tmp_path_factory, conversation_store_url=store)
    yield request.param, server, settings
    server.close()


@pytest.fixture(scope="module")
def secret(tmp_path_factory) -> Path:
    from PIL import Image

    path = tmp_path_factory.mktemp("private") / "secret.png"
    Image.new("RGB", (9, 9), (1, 2, 3)).save(path)
    return path


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_a_path_posted_to_the_chat_is_never_opened(shop, secret):
    name, server, _ = shop
    catalog_photo = (
        next((REPO / "data" / name / "images").glob("*"), None) if name != "grocery" else None
    )
    for target in [secret, REPO / "README.md", catalog_photo]:
        if target is None:
            continue
        message = {
            "text": "x",
            "files": [{"path": str(target), "meta": {"_type": "gradio.FileData"}}],
        }
        messages = call(server.url, "chat", [message, None, None, None])
        assert messages[-1]["msg"] == "process_completed"
        served = file_paths(messages)
        assert not [p for p in served if target.name in p], (target, served)
        for p in served:  # whatever it did send back is not the file asked for
            assert get(p) != 200 or target.name not in p


def test_forged_card_and_chip_presses_are_refused_and_a_real_one_works(shop):
    """The cards' and chips' buttons send their product, option and chip in the event's
    data, which anyone can write: each is checked against the catalog and the conversation."""
    from retrieval.index import ProductIndex

    _, server, settings = shop
    products = ProductIndex(settings).all_products()
    conversation = f"forged-{uuid.uuid4().hex[:8]}"

    def add(product: str, option: str | None) -> list:
        messages = call(
            server.url,
            "card_add",
            [conversation, None, None, None],
            event_data={"product": product, "option": option},
        )
        assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"]
        return messages[-1]["output"]["data"]  # chat, history, cart, note

    assert "no product" in add("no-such-product", None)[3]
    real = next(p for p in products if p.available and p.purchasable_variants())
    assert "has no variant" in add(real.id, "forged option")[3]
    gone = next((p for p in products if not p.available), None)
    if gone is not None:  # what is out of stock never goes into a cart
        assert "out of stock" in add(gone.id, None)[3]
    hidden = next((p for p in products if not p.visible and p.available), None)
    if hidden is not None:  # a bundle's component is never shown, so never carted alone
        assert "no product" in add(hidden.id, None)[3]
    variant = next(v for v in real.purchasable_variants() if v.available)
    out = add(real.id, variant.sku or variant.label())
    assert out[3] == "" and real.title in str(out[2])  # the cart now holds it

    opened = call(server.url, "card_details", [conversation, None], event_data={"product": "nope"})
    assert opened[-1]["success"]  # an unknown product opens nothing, and nothing breaks
    dropped = call(
        server.url,
        "drop_chip",
        [conversation, None, None],
        event_data={"chip": "price:"},  # this conversation has no price limit
    )
    assert dropped[-1]["success"]
    assert "no longer in this conversation" in json.dumps(dropped[-1]["output"]["data"])
    forged = call(  # a soft chip's "only" for a chip this conversation does not have
        server.url,
        "drop_chip",
        [conversation, None, None],
        event_data={"chip": "facet:brand=Nope", "action": "strict"},
    )
    assert forged[-1]["success"]
    assert "no longer in this conversation" in json.dumps(forged[-1]["output"]["data"])


def test_only_the_index_photo_copies_are_served(shop, secret):
    name, server, settings = shop
    base = server.url + "gradio_api/file="
    outside = [
        secret,
        REPO / "README.md",
        Path("/etc/passwd"),
        REPO / "data" / name / "products.csv",
    ]
    if name != "grocery":
        outside.append(next((REPO / "data" / name / "images").glob("*")))
    for path in outside:
        assert get(base + str(path)) == 403, path
    copies = sorted((Path(settings.index_dir) / "photos").glob("*.jpg"))
    if name == "grocery":
        assert not copies  # no photos in this catalog: nothing to serve
    else:
        assert get(base + str(copies[0])) == 200


@pytest.fixture(scope="module")
def console(grocery_index, tmp_path_factory):
    """A shop with the agent console on (its own server: these tests lock logins out)."""
    server, settings = launch_on(
        grocery_index[0], tmp_path_factory, agent_users=["ana:s3cret-pass"]
    )
    yield server
    server.close()


def sign_in(
    base: str, user: str, password: str, headers: dict | None = None
) -> tuple[int, dict, str]:
    """(status, headers, cookie) of a sign-in posted as the page's form posts it."""
    data = urllib.parse.urlencode({"username": user, "password": password}).encode()
    req = urllib.request.Request(base + "login", data=data, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            cookies = r.headers.get_all("set-cookie") or []
            return r.status, dict(r.headers), "; ".join(c.split(";")[0] for c in cookies)
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), ""


def test_sign_ins_back_off_and_names_match_exactly(console):
    base = console.agent_url
    assert sign_in(base, "ana ", "s3cret-pass")[0] == 400  # not "ana"
    codes = [sign_in(base, "ana", f"guess-{i}")[0] for i in range(20)]
    assert codes[:2] == [400, 400] and set(codes[3:]) == {429}  # 60 guesses no longer fly
    status, headers, _ = sign_in(base, "ana", f"guess-{99}")
    assert status == 429 and int(headers.get("retry-after", headers.get("Retry-After"))) >= 1


def test_a_forged_forwarded_address_is_not_believed(grocery_index, tmp_path_factory):
    """From loopback, each guess claiming another X-Forwarded-For still counts against the
    real address: no proxy is trusted unless named (trusted_proxies)."""
    server, _ = launch_on(grocery_index[0], tmp_path_factory, agent_users=["bo:s3cret-pass"])
    try:
        codes = [
            sign_in(server.agent_url, f"user{i}", "x", {"X-Forwarded-For": f"198.51.100.{i}"})[0]
            for i in range(8)
        ]
        assert codes[:3] == [400, 400, 400] and set(codes[4:]) == {429}
    finally:
        server.close()


def test_every_response_carries_security_headers(console):
    for url in (console.url, console.url + "config", console.agent_url + "config"):
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                headers = r.headers
        except urllib.error.HTTPError as exc:
            headers = exc.headers
        assert headers["x-frame-options"] == "DENY", url
        assert headers["x-content-type-options"] == "nosniff", url
        assert "img-src 'self'" in headers["content-security-policy"], url


@pytest.fixture(scope="module")
def agent_cookie(grocery_index, tmp_path_factory):
    server, _ = launch_on(grocery_index[0], tmp_path_factory, agent_users=["ana:s3cret-pass"])
    status, _, cookie = sign_in(server.agent_url, "ana", "s3cret-pass")
    assert status == 200 and cookie
    yield server, cookie
    server.close()


def test_a_signed_in_agent_cannot_read_server_files_through_the_upload(agent_cookie, tmp_path):
    server, cookie = agent_cookie
    secret = tmp_path / "notes.txt"
    secret.write_text("the till code is 4711")
    payload = {"path": str(secret), "meta": {"_type": "gradio.FileData"}}
    messages = call(server.agent_url, "load_file", [payload], headers={"cookie": cookie})
    assert "4711" not in json.dumps(messages)


@pytest.fixture(scope="module")
def tricky_shop(tmp_path_factory, tiny_text_model):
    """Product texts written as an attacker with catalog access would write them."""
    from retrieval.config import RetrievalConfig
    from retrieval.ingest import ingest

    folder = tmp_path_factory.mktemp("tricky")
    rows = [
        {"id": "m1", "title": "Mug ![pixel](http://evil.example/p.png)", "price": 4},
        {"id": "m2", "title": "Mug [90 % off](http://evil.example/deal)", "price": 5},
        {"id": "m3", "title": "Mug <img src=http://evil.example/q.png>", "price": 6},
    ]
    path = folder / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    config = RetrievalConfig(index_dir=folder / "index", text_model=tiny_text_model, device="cpu")
    ingest(path, config, progress=False)
    server, _ = launch_on(config, tmp_path_factory)
    yield server
    server.close()


def test_product_text_is_shown_as_text_never_markup(tricky_shop, browser):
    from .test_shopper_page import ask, wait_for_new_cards

    page = browser.new_page()
    fetched = []
    page.on("request", lambda r: "evil.example" in r.url and fetched.append(r.url))
    page.goto(tricky_shop.url)
    ask(page, "mug")
    wait_for_new_cards(page, [])
    page.wait_for_timeout(500)
    chat = page.locator("[data-testid='bot']").last
    assert "![pixel](http://evil.example/p.png)" in chat.inner_text()
    assert page.locator("a[href*='evil.example']").count() == 0
    assert page.locator("img[src*='evil.example']").count() == 0
    assert not fetched
    page.close()


def test_an_upload_over_the_limit_is_refused(console):
    """Anyone may upload a photo to the shopper's page; not 30 MB of anything."""
    boundary = "aisleboundary"
    big = b"\xff" * (11 * 1024 * 1024)  # over serve_max_upload_mb (10)
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="x.jpg"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        + big
        + f"\r\n--{boundary}--\r\n".encode()
    )
    req = urllib.request.Request(
        console.url + "gradio_api/upload",
        data=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status = r.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    assert status == 413


def test_a_huge_message_is_bounded_before_it_is_stored(shop):
    """A 200,000-character message (a body under the request bound): read up to the limit,
    said so, and neither the conversation's state nor its chat keeps more than the limit."""
    _, server, settings = shop
    text = "a jacket " + "x" * 200_000
    messages = call(server.url, "chat", [{"text": text, "files": []}, None, None, None])
    assert messages[-1]["msg"] == "process_completed"
    session = messages[-1]["output"]["data"][0]  # the conversation id the shop issued
    from assistant.conversations import ConversationStore

    store = ConversationStore(settings.conversation_location())
    chat = store.messages(session)
    assert chat and all(len(json.dumps(m)) < settings.max_message_chars + 200 for m in chat)
    assert any("first 2,000 characters" in str(m.get("content")) for m in chat)
    assert len(store.load(session).model_dump_json()) < 3 * settings.max_message_chars


def test_a_request_body_over_the_bound_is_refused_before_it_is_read(shop):
    _, server, settings = shop
    body = json.dumps({"data": ["x" * (settings.serve_max_request_kb * 1024 + 1)]}).encode()
    req = urllib.request.Request(
        server.url + "gradio_api/queue/join",
        data=body,
        headers={"content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            status = r.status
    except urllib.error.HTTPError as exc:
        status = exc.code
        assert "too large" in exc.read().decode()
    except OSError:  # closed while the body was still being sent: refused as well
        status = 413
    assert status == 413


def test_an_unknown_api_name_answers_404(shop):
    _, server, _ = shop
    join = b'{"data": [], "fn_index": 9999, "session_hash": "probe"}'
    for route, body in (
        ("gradio_api/call/no_such_thing", b'{"data": []}'),
        ("gradio_api/run/no_such_thing", b'{"data": []}'),
        ("gradio_api/queue/join", join),  # a function index the page does not have
    ):
        req = urllib.request.Request(
            server.url + route, data=body, headers={"content-type": "application/json"}
        )
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                status = r.status
        except urllib.error.HTTPError as exc:
            status = exc.code
        assert status == 404, route
