"""The page after `aisle serve` restarts: the browser kept only the conversation id, and
the chat, the suggestions and the cart come back from the conversation store."""

from __future__ import annotations

import pytest

from assistant.config import Settings

from .test_shopper_page import _free_port, ask, titles, wait_for_new_cards

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("shop", "query"), [("grocery_index", "coffee beans"), ("demo_index", "hoodies for men")]
)
def test_a_restart_keeps_the_chat_the_cards_and_the_cart(shop, query, request, browser, tmp_path):
    from ui.serve import launch

    config = request.getfixturevalue(shop)[0]
    settings = Settings(
        **config.model_dump(),
        serve_host="127.0.0.1",
        serve_port=_free_port(),
        event_log_url=f"sqlite:///{tmp_path / 'events.sqlite'}",
        conversation_store_url=f"sqlite:///{tmp_path / 'conversations.sqlite'}",
    )
    server = launch(settings, use_llm=False)
    page = browser.new_context().new_page()
    page.goto(server.url)
    ask(page, query)
    before = wait_for_new_cards(page, [])
    page.get_by_role("button", name="Add to cart").first.click()
    page.locator("table.cart").wait_for()
    cart = page.locator("table.cart").inner_text()
    chat = page.locator("[data-testid='bot']").first.inner_text()
    server.close()

    server = launch(settings, use_llm=False)  # a restart on the same address
    try:
        page.reload()
        page.locator("table.cart").wait_for(timeout=30_000)
        assert page.locator("table.cart").inner_text() == cart
        assert titles(page) == before
        assert page.locator("[data-testid='bot']").first.inner_text() == chat
    finally:
        page.close()
        server.close()
