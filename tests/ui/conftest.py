"""The real browser every page test drives (see test_shopper_page.py)."""

import pytest

from .test_shopper_page import CHROMIUM_ARGS, chromium_path


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield b
        b.close()
