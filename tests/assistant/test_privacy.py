"""Nothing that identifies a shopper is stored, in any column or JSON field, on the three
catalog shapes; one long message is read up to the limit and says so."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.pipeline import Assistant

pytestmark = pytest.mark.slow
INDEXES = {"luma": "demo_index", "vendure": "vendure_index", "grocery": "grocery_index"}
PII = (
    "my email is jane.doe@example.com, phone +1 415 555 0100, card 4111 1111 1111 1111, "
    "my IBAN is GB29NWBK60161331926819 or DE89 3704 0044 0532 0130 00, born 12/03/1985, "
    "ship it to 221B Baker Street, London NW1 6XE"
)
# as written, and as the split words a tokenised need would keep (digits alone are not
# enough: a timestamp or a price holds "415" too)
LEAKS = [b"jane", b"example.com", b"example com", b"415 555", b"555 0100", b"4111 1111"]
LEAKS += [b"4155550100", b"4111111111", b"gb29", b"nwbk", b"3704 0044", b"de89", b"baker"]
LEAKS += [b"nw1 6xe", b"12/03/1985", b"221b"]


@pytest.fixture(scope="module", params=sorted(INDEXES))
def shop(request, tmp_path_factory):
    config = request.getfixturevalue(INDEXES[request.param])[0]
    log = tmp_path_factory.mktemp("events") / "events.sqlite"
    settings = Settings(**config.model_dump(), event_log_url=f"sqlite:///{log}")
    return Assistant(settings, use_llm=False), log


def test_a_pii_laden_session_leaves_no_trace_in_the_database_or_its_wal(shop):
    bot, log = shop
    session = "privacy"
    first = bot.respond(session, f"{bot.example_request()} {PII}")
    assert first.products, first.text
    assert "left out the contact or card details" in first.text
    assert not any(w in first.state.need for w in ("jane", "415", "4111", "baker", "ship"))
    assert "baker" not in first.text.casefold() and "nw1" not in first.text.casefold()
    cheaper = bot.respond(session, f"cheaper please, {PII}")
    assert "doesn't sell" not in cheaper.text  # "phone" and "card" left with the details
    reply = bot.respond(session, "add the first one to my cart")
    chosen: list[str] = []
    while not reply.state.cart and "comes in" in reply.text and len(chosen) < 3:
        # it asked which option: answer with the first it offers, and those before
        chosen.append(reply.text.split("comes in ")[-1].split(",")[0].rstrip("."))
        reply = bot.respond(session, f"add the first one in {' '.join(chosen)}")
    assert reply.state.cart, reply.text
    shown = bot.state(session).shown[0].product_id
    bot.actions.open_product(session, shown, reply.reply_id)
    bot.actions.rate_reply(session, first.reply_id, True)
    kinds = [e.kind for e in bot.parts.feedback.log.events()]
    assert {"impression", "click", "cart_add", "thumbs_up"} <= set(kinds)
    assert kinds.count("cart_add") == 1  # the chat's cart add is logged like the page's
    stores = [Path(log), Path(bot.settings.conversation_location().removeprefix("sqlite:///"))]
    files = [p for store in stores for p in store.parent.glob(store.name + "*")]
    assert files
    for path in files:  # the database and its write-ahead log, byte for byte
        data = path.read_bytes().lower()
        assert not [w for w in LEAKS if w in data], path


def test_a_very_long_message_is_read_up_to_the_limit(shop):
    bot, _ = shop
    noise = ("a" * 60 + "@") * 2000  # also the shape that made the old e-mail pattern crawl
    reply = bot.respond("long", bot.example_request() + " " + noise)
    assert "first 2,000 characters" in reply.text
    assert len(reply.state.need) <= 2_000


@pytest.mark.parametrize(
    ("message", "read"),
    [
        ("cheaper please, write to jo@example.com or +1 415 555 0100", "cheaper please,"),
        (f"jackets under $60 {PII}", "jackets under $60"),
        ("olive oil, call me on 0151 555 0100 please", "olive oil, please"),
        ("a card game for 4 players", "a card game for 4 players"),  # no detail: no change
    ],
)
def test_contact_details_leave_with_the_words_that_introduce_them(message, read):
    from base.privacy import redacted, without_contact_details

    assert without_contact_details(redacted(message)[0]) == read
