"""The agent console behind its login: refused without one (page data and API), and used
in a real browser by an agent who signs in. Same Chromium setup as the shopper's page."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from assistant.config import Settings
from orders.importers import read_orders
from orders.store import OrderStore
from ranking.events import EventLog
from retrieval.policies import PolicyIndex
from retrieval.text_embedder import TextEmbedder

from ..orders.conftest import RULES, TAU2
from .test_shopper_page import CHROMIUM_ARGS, LUMA, _free_port, chromium_path

pytestmark = pytest.mark.slow
POLICIES = LUMA.parent / "policies"


@pytest.fixture(scope="module")
def console(demo_index, tmp_path_factory):
    from ui.serve import launch

    config, _ = demo_index
    settings = Settings(
        **config.model_dump(),
        serve_host="127.0.0.1",
        serve_port=_free_port(),
        agent_users=["ana:s3cret-pass"],
        event_log_url=f"sqlite:///{tmp_path_factory.mktemp('events') / 'events.sqlite'}",
        precedents_url=f"sqlite:///{tmp_path_factory.mktemp('cases') / 'precedents.sqlite'}",
    )
    PolicyIndex(settings).ingest(POLICIES, TextEmbedder(settings.text_model))
    if (TAU2 / "db.json").is_file():  # a shop with customers and orders (its own store)
        settings.orders_url = f"sqlite:///{tmp_path_factory.mktemp('orders') / 'orders.sqlite'}"
        settings.service_rules = RULES
        found = read_orders(TAU2 / "db.json")
        OrderStore(settings.orders_url).replace_all(found.customers, found.orders, found.variants)
    server = launch(settings, use_llm=False)
    yield server, settings
    server.close()


def status(url: str, data: dict | None = None) -> int:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_console_and_its_api_refuse_requests_without_a_login(console):
    server, _ = console
    base = server.agent_url
    assert status(base + "config") == 401
    assert status(base + "gradio_api/info") == 401
    assert status(base + "gradio_api/call/suggest", {"data": ["Customer: hi"]}) == 401
    assert status(base + "gradio_api/queue/join", {"data": [], "fn_index": 0}) in (401, 403)
    assert status(server.url + "config") == 200  # the shop itself stays open


def test_an_agent_signs_in_and_gets_grounded_suggestions(console, tmp_path):
    from playwright.sync_api import sync_playwright

    server, settings = console
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(server.agent_url)
        boxes = page.get_by_role("textbox")
        boxes.nth(0).fill("ana")
        boxes.nth(1).fill("wrong password")
        page.get_by_role("button", name="Login").click()
        page.get_by_text("Incorrect credentials", exact=False).wait_for(timeout=10_000)
        boxes.nth(0).fill("ana")  # the form is cleared after a failed attempt
        boxes.nth(1).fill("s3cret-pass")
        page.get_by_role("button", name="Login").click()
        page.get_by_role("button", name="Suggest replies").wait_for(timeout=20_000)

        page.locator("textarea").first.fill(
            "Customer: I'd like to send back a jacket that doesn't fit.\n"
            "Agent: Sorry about that!\n"
            "Customer: How many days do I have to return it?"
        )
        page.get_by_role("button", name="Suggest replies").click()
        page.get_by_text("Answer the question").wait_for(timeout=30_000)
        page.locator(".passage").first.wait_for()
        replies = page.eval_on_selector_all("textarea", "ts => ts.map(t => t.value)")
        assert any("30 days" in r for r in replies)
        assert "Returns and exchanges" in page.locator(".passage").first.inner_text()
        shots = Path(os.environ.get("AISLE_SCREENSHOTS", tmp_path))
        shots.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(shots / "agent.png"), full_page=True)

        # edit the first suggestion, then mark it used: logged as edited
        first = page.locator("textarea").nth(1)
        first.fill(first.input_value() + " Have a great day!")
        page.get_by_role("button", name="Used").first.click()
        page.get_by_text("Marked suggestion 1 as edited").wait_for(timeout=10_000)
        # the edited reply is a precedent now: shown for the next conversation like it
        page.locator("textarea").first.fill("Customer: how long do I have to return a jacket?")
        page.get_by_role("button", name="Suggest replies").click()
        page.get_by_text("Closest resolved cases").wait_for(timeout=30_000)
        assert "Have a great day!" in page.locator(".precedent").first.inner_text()
        browser.close()
    kinds = [e.kind for e in EventLog(settings.event_log_location()).events()]
    assert "suggestion_edited" in kinds
    edited = next(
        e for e in EventLog(settings.event_log_location()).events() if e.kind == "suggestion_edited"
    )
    assert edited.shopper and edited.shopper != "ana"  # the agent, pseudonymous


def _signed_in(p, server):
    browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server.agent_url)
    boxes = page.get_by_role("textbox")
    boxes.nth(0).fill("ana")
    boxes.nth(1).fill("s3cret-pass")
    page.get_by_role("button", name="Login").click()
    page.get_by_role("button", name="Suggest replies").wait_for(timeout=20_000)
    return browser, page


def test_an_agent_sees_the_order_and_confirms_the_proposed_action(console):
    from playwright.sync_api import sync_playwright

    server, settings = console
    if settings.orders_url is None:
        pytest.skip(f"τ²-bench retail data not found at {TAU2}")
    with sync_playwright() as p:
        browser, page = _signed_in(p, server)
        page.locator("textarea").first.fill(
            "Customer: Hi, I'm Yusuf Rossi, zip code 19122. Please exchange the mechanical "
            "keyboard from order #W2378156 for one with clicky switches."
        )
        page.get_by_role("button", name="Suggest replies").click()
        page.get_by_text("Act on the order").wait_for(timeout=30_000)
        panel = page.locator(".service")
        assert "Yusuf Rossi" in panel.inner_text() and "ready to confirm" in panel.inner_text()
        assert "#W2378156" in page.locator(".service tr.focus").first.inner_text()
        replies = page.eval_on_selector_all("textarea", "ts => ts.map(t => t.value)")
        assert any("Could you confirm" in r and "#W2378156" in r for r in replies)
        page.get_by_role("button", name="Confirm the proposed action").click()
        page.get_by_text("orders_write is off", exact=False).wait_for(timeout=10_000)
        browser.close()
    (event,) = [
        e for e in EventLog(settings.event_log_location()).events() if e.kind == "action_confirmed"
    ]
    assert event.detail["action"] == "exchange_delivered_order_items"
    assert event.detail["order_id"] == "#W2378156"
    assert event.shopper and "yusuf" not in event.shopper  # the customer, pseudonymous
