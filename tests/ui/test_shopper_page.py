"""The shopper's page driven as a person would, in a real headless Chromium (Debian's
package, driven by Playwright's Python package; nothing is downloaded).

Screenshots go to $AISLE_SCREENSHOTS (the README's come from there), else a temp folder."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest

from assistant.config import Settings
from ranking.events import EventLog

pytestmark = pytest.mark.slow

LUMA = Path(__file__).resolve().parents[2] / "data" / "luma"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_path() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed: .ci/run installs it with apt-get")
    pytest.skip("chromium is not installed (apt-get install chromium)")


def launch_on(config, tmp_path_factory, **extra):
    """`aisle serve` in this process on a free loopback port, with its own event log (rules
    and catalog facts: the page is what is tested here; LLM replies in tests/assistant)."""
    from ui.serve import launch

    settings = Settings(
        **config.model_dump(),
        serve_host="127.0.0.1",
        serve_port=_free_port(),
        event_log_url=f"sqlite:///{tmp_path_factory.mktemp('events') / 'events.sqlite'}",
        **extra,
    )
    return launch(settings, use_llm=False), settings


@pytest.fixture(scope="module")
def server(demo_index, tmp_path_factory):
    server, settings = launch_on(demo_index[0], tmp_path_factory)
    yield server.url, settings
    server.close()


@pytest.fixture
def shots(tmp_path) -> Path:
    folder = Path(os.environ.get("AISLE_SCREENSHOTS", tmp_path))
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def titles(page) -> list[str]:
    return page.locator(".card .title").all_inner_texts()


def prices(page) -> list[float]:
    return [
        float(re.sub(r"[^\d.]", "", p.split()[0]))
        for p in page.locator(".card .price").all_inner_texts()
    ]


def wait_for_new_cards(page, before: list[str]) -> list[str]:
    page.wait_for_function(
        "(b) => { const t = [...document.querySelectorAll('.card .title')].map(e => e.innerText);"
        " return t.length > 0 && JSON.stringify(t) !== b; }",
        arg=json.dumps(before),
        timeout=30_000,
    )
    page.wait_for_timeout(300)  # the rest of the render lands
    return titles(page)


def ask(page, text: str) -> None:
    box = page.get_by_role("textbox").first
    box.fill(text)
    box.press("Enter")


def test_a_shopper_searches_refines_opens_adds_and_searches_by_photo(server, browser, shots):
    url, settings = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)

    # a query: cards with photos that actually loaded, every price within the budget
    ask(page, "a jacket for women under $80, not yellow")
    first = wait_for_new_cards(page, [])
    assert len(first) == settings.results_per_turn
    page.locator(".card img").first.wait_for()
    loaded = page.eval_on_selector_all(
        ".card img", "imgs => imgs.map(i => i.complete && i.naturalWidth > 0)"
    )
    assert loaded and all(loaded)
    assert all(p <= 80 for p in prices(page))
    chips = page.locator(".chip").all_inner_texts()
    assert {"under $80 ✕", "not yellow ✕"} <= set(chips)
    page.screenshot(path=str(shots / "chat.png"))

    # remove the price chip: the chip goes and the results follow
    page.get_by_role("button", name="under $80 ✕").click()
    wait_for_new_cards(page, first)
    page.get_by_role("button", name="under $80 ✕").wait_for(state="detached")
    assert "not yellow ✕" in page.locator(".chip").all_inner_texts()
    assert any(p > 80 for p in prices(page))

    # open a card: photos, description, reviews; add it to the cart from there
    opened = titles(page)[0]
    page.get_by_role("button", name="Details").first.click()
    page.get_by_text("Product details").wait_for()
    page.locator(".detail h3", has_text=opened).wait_for()
    page.get_by_role("heading", name="Reviews").wait_for()
    page.wait_for_timeout(800)  # the gallery's photos
    page.screenshot(path=str(shots / "card.png"))
    page.get_by_role("button", name="Add to cart").first.click()
    page.locator("table.cart", has_text=opened).wait_for()

    # compare two of the products side by side
    picks = page.locator("input[type=checkbox]")
    picks.nth(0).check()
    picks.nth(1).check()
    page.get_by_role("button", name="Compare", exact=True).click()
    page.locator("table.compare").wait_for()
    header = page.locator("table.compare tr").first.inner_text()
    assert all(t in header for t in titles(page)[:2])

    # a photo alone: "something like this" finds that product (or its look-alikes) first
    target = "Cronus Yoga Pant"
    page.locator("input[type=file]").first.set_input_files(str(LUMA / "images/mp12-black_main.jpg"))
    page.locator(".thumbnail-image").first.wait_for(timeout=15_000)  # the upload's preview
    page.get_by_role("textbox").first.press("Enter")
    page.locator(".card .title", has_text=target).wait_for(timeout=30_000)
    page.wait_for_timeout(300)
    assert target in titles(page)[:2]
    page.screenshot(path=str(shots / "photo.png"))

    # thumbs up on the reply; the click, cart add and thumbs reach the event log
    page.locator("button[aria-label='Like']").last.click()
    page.wait_for_timeout(1000)
    kinds = [e.kind for e in EventLog(settings.event_log_location()).events()]
    assert {"impression", "click", "cart_add", "thumbs_up"} <= set(kinds)

    # a phone-width window still reads: the cards stack
    page.set_viewport_size({"width": 390, "height": 844})
    page.wait_for_timeout(500)
    widths = page.eval_on_selector_all(
        ".card", "cs => cs.map(c => c.getBoundingClientRect().width)"
    )
    assert widths and all(w <= 390 for w in widths)
    page.screenshot(path=str(shots / "phone.png"))
    page.close()


def test_two_shoppers_never_see_each_other(server, browser):
    url, _ = server
    alice = browser.new_context().new_page()
    bob = browser.new_context().new_page()
    alice.goto(url)
    bob.goto(url)
    ask(alice, "hoodies for men")
    ask(bob, "yoga pants for women under $60")
    wait_for_new_cards(alice, [])
    wait_for_new_cards(bob, [])
    alice.get_by_role("button", name="Add to cart").first.click()
    alice.locator("table.cart").wait_for()
    assert "men's ✕" in alice.locator(".chip").all_inner_texts()
    assert "under $60 ✕" not in alice.locator(".chip").all_inner_texts()
    assert "under $60 ✕" in bob.locator(".chip").all_inner_texts()
    assert "hoodie" not in " ".join(bob.locator("[data-testid='bot']").all_inner_texts()).lower()
    assert bob.locator("table.cart").count() == 0  # Bob's cart is still empty

    # a new conversation starts clean
    alice.get_by_role("button", name="New conversation").click()
    alice.wait_for_function("() => document.querySelectorAll('.card .title').length === 0")
    assert alice.locator(".chip").count() == 0
    assert alice.locator("table.cart").count() == 0


@pytest.fixture(scope="module")
def grocery_server(grocery_index, tmp_path_factory):
    server, _ = launch_on(grocery_index[0], tmp_path_factory)
    yield server.url
    server.close()


def test_a_grocery_shop_without_photos_in_euros(grocery_server, browser, shots):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(grocery_server)
    ask(page, "organic mocha java coffee beans")
    wait_for_new_cards(page, [])
    assert page.locator(".card img").count() == 0  # no photos: a plain placeholder
    assert page.locator(".card .no-photo").count() == len(titles(page))
    assert all("€" in p for p in page.locator(".card .price").all_inner_texts())
    sold_out = page.locator(".card-cell", has=page.locator(".stock"))
    assert sold_out.count() >= 1  # Organic Mocha Java is out of stock
    button = sold_out.first.get_by_role("button", name="Out of stock")
    assert button.is_disabled()
    page.screenshot(path=str(shots / "grocery.png"))

    # Details lists what goes with it (an empty log: similar products of other kinds);
    # choosing one opens it in the same panel
    page.get_by_role("button", name="Details").first.click()
    page.get_by_text("Goes well with").wait_for()
    suggestion = page.locator("label", has_text="(another kind, close in description)").last
    chosen = suggestion.inner_text().split(" (another kind")[0].strip()
    suggestion.click()
    page.locator(".detail h3", has_text=chosen).wait_for(timeout=15_000)
    page.get_by_text("Shoppers who looked at this also looked at").wait_for()
    page.screenshot(path=str(shots / "goes-with.png"))

    ask(page, "do you sell laptops?")
    page.get_by_text("doesn't sell laptops").wait_for(timeout=30_000)
    page.close()


def test_the_card_shows_the_colour_asked_for_and_chat_compares_in_a_table(server, browser, shots):
    from retrieval.index import ProductIndex

    url, settings = server
    index = ProductIndex(settings)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url)
    ask(page, "a jacket for women in blue")
    wait_for_new_cards(page, [])
    cells = page.locator(".card-cell")
    assert cells.count() == settings.results_per_turn
    for i in range(cells.count()):
        cell = cells.nth(i)
        product = index.product(cell.locator(".card").get_attribute("data-product"))
        blue = [v for v in product.variants if (v.option("color") or "").casefold() == "blue"]
        assert blue, product.title
        # the photo is one of the blue variants' own photos, not merely the product's first
        blue_photos = {index.photo_files(product.id, v.images)[0].name for v in blue if v.images}
        src = cell.locator(".card img").get_attribute("src")
        assert Path(src).name in blue_photos, (product.title, src)
        # and the picker shows a blue variant
        picked = cell.locator("select.option").input_value()
        assert picked.startswith("Blue"), (product.title, picked)
        reason = cell.locator(".reason").inner_text()
        assert "Blue" in reason  # the reason names the need the card meets
    page.screenshot(path=str(shots / "colour-cards.png"))

    # another option chosen on a card is the one that goes into the cart
    first = cells.nth(0)
    labels = first.locator("select.option option").all_inner_texts()
    other = next(x for x in labels if x != first.locator("select.option").input_value())
    first.locator("select.option").select_option(label=other)
    first.get_by_role("button", name="Add to cart").click()
    page.locator("table.cart", has_text=other).wait_for()

    ask(page, "compare the first two")
    table = page.locator("table", has_text="price").filter(has_not=page.locator(".attrs")).last
    table.wait_for(timeout=30_000)
    header = table.locator("tr").first.inner_text()
    assert all(t in header for t in titles(page)[:2])
    assert table.locator("tr").count() >= 3  # a real table: a row per attribute
    page.screenshot(path=str(shots / "compare-table.png"))
    page.close()
