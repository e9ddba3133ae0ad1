"""Who the conversation is about, which order and items, which variant, and the action
checked against the rules: on τ²-bench retail's shop and on a small CSV shop."""

from __future__ import annotations

import pytest

from orders.apply import ActionRefusedError, apply_action
from orders.identify import identify
from orders.propose import service_case
from orders.rules import RulesError, ServiceRules, load_rules

from .conftest import RULES, csv_store


def test_the_customer_is_identified_by_email_id_name_and_zip_never_guessed(tau2_store):
    by = lambda text: (lambda i: (i.customer.id if i.customer else None, i.by))(  # noqa: E731
        identify(tau2_store, [text])
    )
    assert by("Hi, I'm Yusuf Rossi, zip code 19122") == ("yusuf_rossi_9620", "name and zip code")
    assert by("it's mia.garcia2723@example.com") == ("mia_garcia_4516", "email")
    assert by("I am mei_kovacs_8020") == ("mei_kovacs_8020", "customer id")
    assert by("about order #W2378156") == ("yusuf_rossi_9620", "order number")
    assert by("I'm Yusuf, zip 19122") == (None, "")  # a first name alone: asked, not guessed
    assert by("I want to return my order") == (None, "")
    assert "e-mail" in identify(tau2_store, ["hello"]).note


def test_an_exchange_is_proposed_exactly(tau2_store, tau2_rules):
    case = service_case(
        tau2_store,
        tau2_rules,
        [
            "I am Yusuf Rossi in zip code 19122. I received my order #W2378156 and wish to "
            "exchange the mechanical keyboard for the same one but with clicky switches and "
            "the smart thermostat for one compatible with Google Home instead of Apple HomeKit."
        ],
    )
    (p,) = case.proposals
    assert p.name == "exchange_delivered_order_items" and p.allowed
    assert p.arguments == {
        "order_id": "#W2378156",
        "item_ids": ["1151293680", "4983901480"],
        "new_item_ids": ["7706410293", "7747408585"],
        "payment_method_id": "credit_card_9513926",
    }
    assert case.focus[0] == "#W2378156"


def test_bigger_means_the_next_size_up_and_the_payment_named_is_used(tau2_store, tau2_rules):
    case = service_case(
        tau2_store,
        tau2_rules,
        ["I'm Mei Kovacs, zip 28236. Please exchange the water bottle for a bigger one."],
    )
    (p,) = case.proposals
    old = tau2_store.variant(p.arguments["item_ids"][0])
    new = tau2_store.variant(p.arguments["new_item_ids"][0])
    assert old.product_name == new.product_name == "Water Bottle"
    assert new.options["capacity"] > old.options["capacity"] and new.available
    assert {k: v for k, v in new.options.items() if k != "capacity"} == {
        k: v for k, v in old.options.items() if k != "capacity"
    }


def test_the_rules_decide_what_is_offered(tau2_store, tau2_rules):
    # a delivered order cannot be cancelled: shown, with why, never ready to confirm
    case = service_case(
        tau2_store, tau2_rules, ["I am Yusuf Rossi, 19122. Cancel order #W2378156 please."]
    )
    (p,) = case.proposals
    assert p.name == "cancel_pending_order" and not p.allowed
    assert "delivered" in p.why_not[0] and "pending" in p.why_not[0]
    # a shop whose rules do not offer returns
    no_returns = ServiceRules(
        actions={k: v for k, v in tau2_rules.actions.items() if "return" not in k}
    )
    case = service_case(
        tau2_store, no_returns, ["I'm Yusuf Rossi, 19122. I want to return the headphones."]
    )
    assert case.proposals and not case.proposals[0].allowed
    assert "do not offer" in case.proposals[0].why_not[0]


def test_a_change_with_no_option_said_is_a_question(tau2_store, tau2_rules):
    case = service_case(
        tau2_store, tau2_rules, ["I'm Yusuf Rossi, 19122. I want to exchange the headphones."]
    )
    assert not case.proposals and "Headphones" in case.questions[0]


def test_a_csv_shop_with_its_own_words(tmp_path):
    """Product names, option keys and statuses of another shop; nothing of τ² in code."""
    store = csv_store(tmp_path)
    rules = load_rules(RULES)
    case = service_case(store, rules, ["ann@example.com: swap the travel mug for a bigger one"])
    (p,) = case.proposals
    assert p.name == "exchange_delivered_order_items" and p.allowed
    assert p.arguments["item_ids"] == ["m-red-350"]
    assert p.arguments["new_item_ids"] == ["m-red-500"]  # the same colour, bigger
    assert p.difference == 2.0 and p.arguments["payment_method_id"] == "card-1"
    case = service_case(store, rules, ["ann@example.com: please cancel order 1002"])
    assert case.proposals[0].name == "cancel_pending_order" and case.proposals[0].allowed
    assert case.proposals[0].arguments["reason"] == "no longer needed"
    # applied with orders_write: the order's status follows the rules file
    assert "cancelled" in apply_action(store, rules, case.proposals[0])
    assert store.order("1002").status == "cancelled"
    with pytest.raises(ActionRefusedError, match="cancelled now"):
        apply_action(store, rules, case.proposals[0])


def test_a_rules_file_is_checked(tmp_path):
    bad = tmp_path / "rules.toml"
    bad.write_text('[actions.refund_everything]\nstates = ["pending"]\n')
    with pytest.raises(RulesError, match="unknown action.*refund_everything"):
        load_rules(bad)
    bad.write_text('[actions.cancel_pending_order]\nstates = "pending"\n')
    with pytest.raises(RulesError, match="states"):
        load_rules(bad)


def test_an_address_the_store_holds_or_typed_in_full_is_proposed(tau2_store, tau2_rules):
    # another order named beside it: its address, for the pending order named first
    case = service_case(
        tau2_store,
        tau2_rules,
        [
            "my email is yara.muller9246@example.com. For order #W5056519, I want to change "
            "the address to be the same as order #W8277957."
        ],
    )
    (p,) = [p for p in case.proposals if p.name == "modify_pending_order_address"]
    source = tau2_store.order("#W8277957").address
    assert p.arguments["order_id"] == "#W5056519" and p.allowed
    assert p.arguments["address1"] == source.address1 and p.arguments["zip"] == source.zip
    # a new address typed without its city and zip code is asked for, nothing proposed
    case = service_case(
        tau2_store,
        tau2_rules,
        ["yara.muller9246@example.com: change the address of order #W5056519 to 1 Elm St."],
    )
    assert not [p for p in case.proposals if p.name == "modify_pending_order_address"]
    assert any("address" in q for q in case.questions)


def test_cheapest_and_one_size_smaller(tau2_store, tau2_rules):
    case = service_case(
        tau2_store,
        tau2_rules,
        [
            "I am Aarav Anderson, 19031. I want to change the Desk Lamp in order #W9300146 "
            "for the cheapest Desk Lamp that's available."
        ],
    )
    (p,) = case.proposals
    new = tau2_store.variant(p.arguments["new_item_ids"][0])
    lamps = [v for v in tau2_store.variants_of(new.product_id) if v.available]
    assert new.price == min(v.price for v in lamps if v.item_id != p.arguments["item_ids"][0])


def test_another_payment_method_for_a_pending_order(tau2_store, tau2_rules):
    said = "I'm amelia.ito8974@example.com. I'd like to pay with my PayPal instead, please."
    (p,) = service_case(tau2_store, tau2_rules, [said]).proposals
    assert p.name == "modify_pending_order_payment" and p.allowed
    assert p.arguments["order_id"] == "#W3883329"
    assert (
        tau2_store.customer("amelia_ito_8772").payment(p.arguments["payment_method_id"]).source
        == "paypal"
    )
    said = "I'm amelia.ito8974@example.com. Change the payment method to my credit card."
    (p,) = service_case(tau2_store, tau2_rules, [said]).proposals
    assert not p.allowed and "already uses" in p.why_not[0]


def test_the_more_expensive_of_two_alike_and_a_request_in_the_next_sentence(tau2_store, tau2_rules):
    said = (
        "I'm Chen Silva, zip code 46281. I received two tablets and I only need one. "
        "I want to return the more expensive one."
    )
    case = service_case(tau2_store, tau2_rules, [said])
    (p,) = case.proposals
    tablets = [line for o in case.orders for line in o.lines if line.name == "Tablet"]
    assert p.name == "return_delivered_order_items" and len(tablets) == 2  # two orders
    assert p.arguments["item_ids"] == [max(tablets, key=lambda t: t.price).item_id]


def test_the_maximum_of_an_option_and_preferences_said_after_the_request(tau2_store, tau2_rules):
    said = (
        "I'm Sofia Li, zip 78260. I want to exchange my digital camera for one with the "
        "maximum zoom. I'd like to keep the SD card storage."
    )
    (p,) = service_case(tau2_store, tau2_rules, [said]).proposals
    new = tau2_store.variant(p.arguments["new_item_ids"][0])
    zooms = [
        float(v.options["zoom"].rstrip("x"))
        for v in tau2_store.variants_of(new.product_id)
        if v.available
    ]
    assert float(new.options["zoom"].rstrip("x")) == max(zooms)
    assert new.options["storage"] == "SD card"  # said in the sentence after the request


@pytest.fixture
def csv_shop(tmp_path):
    return csv_store(tmp_path), load_rules(RULES)


def test_a_fallback_is_proposed_when_the_request_fails(csv_shop):
    """ "If that is not possible, cancel it": the return of a pending order is refused, and
    the cancellation the customer asked for in that case is what is ready to confirm."""
    store, rules = csv_shop
    case = service_case(
        store,
        rules,
        ["ann@example.com: I want to return order 1002. If that is not possible, cancel it."],
    )
    ready = [p for p in case.proposals if p.allowed]
    assert [(p.name, p.order_id) for p in ready] == [("cancel_pending_order", "1002")]
    refused = [p for p in case.proposals if not p.allowed]
    assert [p.name for p in refused] == ["return_delivered_order_items"]
    # without the fallback sentence, nothing is ready: the return is shown with why not
    case = service_case(store, rules, ["ann@example.com: I want to return order 1002."])
    assert not [p for p in case.proposals if p.allowed]
    # a fallback whose request succeeds is not taken
    case = service_case(
        store,
        rules,
        ["ann@example.com: return the green tea. If that is not possible, swap the travel mug."],
    )
    assert [p.name for p in case.proposals] == ["return_delivered_order_items"]


def test_some_items_of_an_order_are_not_a_cancellation_of_it(csv_shop):
    """The cancel action takes the whole order: asked for one of its items, it is shown with
    why, not as ready; the customer's own "then cancel the whole order" makes it ready."""
    store, rules = csv_shop
    store.save_order(store.order("1001").model_copy(update={"status": "pending"}))
    case = service_case(
        store, rules, ["ann@example.com: please remove the green tea from my order"]
    )
    (p,) = case.proposals
    assert p.name == "cancel_pending_order" and not p.allowed
    assert "only a whole order can be cancelled" in " ".join(p.why_not)
    assert "Travel Mug" in " ".join(p.why_not)
    case = service_case(
        store,
        rules,
        [
            "ann@example.com: please remove the green tea from my order, I ordered it by "
            "mistake. If removing one item is not possible, cancel the whole order."
        ],
    )
    (p,) = [p for p in case.proposals if p.allowed]
    assert p.arguments == {"order_id": "1001", "reason": "ordered by mistake"}


def test_options_the_customer_keeps_are_kept(csv_shop):
    store, rules = csv_shop
    case = service_case(store, rules, ["ann@example.com: swap the travel mug for a blue one"])
    assert case.proposals[0].arguments["new_item_ids"] == ["m-blue-500"]
    # no blue mug of the same volume: a question, not another mug
    case = service_case(
        store, rules, ["ann@example.com: swap the travel mug for a blue one with the same volume"]
    )
    assert not [p for p in case.proposals if p.allowed]
    assert any("Travel Mug" in q for q in case.questions)


def test_a_typed_address_is_read_into_the_fields_as_the_store_spells_them(csv_shop):
    store, rules = csv_shop
    case = service_case(
        store,
        rules,
        [
            "ann@example.com: please change the address of order 1002 and my default address "
            "to 5 Oak Avenue, Apt 3, Springfield, Illinois, 62701. Thanks"
        ],
    )
    by_name = {p.name: p for p in case.proposals}
    order, user = by_name["modify_pending_order_address"], by_name["modify_user_address"]
    expected = {
        "address1": "5 Oak Avenue",
        "address2": "Apt 3",
        "city": "Springfield",
        "state": "IL",  # as the store spells it for this zip code and city
        "country": "USA",
        "zip": "62701",
    }
    assert order.arguments == {"order_id": "1002", **expected} and order.allowed
    assert user.arguments == {"user_id": "c-1", **expected} and user.allowed
    # a state the store cannot tell and the customer did not type: asked for
    case = service_case(
        store,
        rules,
        ["ann@example.com: the address of order 1002 is now 9 Pine Road, Portland, 97201"],
    )
    (p,) = case.proposals
    assert p.arguments["city"] == "Portland" and not p.allowed
    assert "the state of the new address" in case.questions


def test_payment_named_by_brand_or_initials_and_a_product_id_for_an_item(tau2_store, tau2_rules):
    """ "The Visa card", "refund to GC", and a product id given where an item id belongs."""
    customer = tau2_store.customer("sofia_li_9219")
    visa = [m for m in customer.payment_methods if m.brand.casefold() == "visa"]
    assert len(visa) == 1 and len([m for m in customer.payment_methods if m.brand]) > 1
    case = service_case(
        tau2_store,
        tau2_rules,
        [
            "I am Sofia Li, zip code 78260. I want to exchange my bicycle for one with a larger "
            "frame size. I'd prefer the visa card as payment method."
        ],
    )
    assert case.proposals[0].arguments["payment_method_id"] == visa[0].id
    order = tau2_store.order("#W9911714")  # a pending order with several products
    line = order.lines[0]
    case = service_case(
        tau2_store,
        tau2_rules,
        [f"I am Ethan Garcia, zip 80280. Please cancel item {line.product_id} of my order."],
    )
    (p,) = [p for p in case.proposals if p.order_id == order.id]
    assert line.label() not in " ".join(p.why_not)  # the line meant is the one named


def test_only_and_a_written_ranking_of_choices(csv_shop):
    store, rules = csv_shop
    case = service_case(
        store,
        rules,
        ["ann@example.com: return the travel mug and the green tea. Only return the green tea."],
    )
    (p,) = case.proposals
    assert p.arguments["item_ids"] == ["t-green"]
    bigger = "ann@example.com: swap the travel mug for a bigger one"
    assert service_case(store, rules, [bigger]).proposals[0].arguments["new_item_ids"] == [
        "m-red-500"  # nothing said of the colour: kept
    ]
    case = service_case(store, rules, [bigger + " (I prefer blue > red)"])
    assert case.proposals[0].arguments["new_item_ids"] == ["m-blue-500"]


def test_which_of_two_lines_of_one_product_by_their_own_values(tau2_store, tau2_rules):
    """Two vacuum cleaners in one order: "the robotic one" said anywhere picks its line; all
    the items to return named after "all" are those items, not the whole order."""
    who = "I am daiki_johnson_9523 living in Denver, USA, 80273."
    order = tau2_store.order("#W9502127")
    vacuums = [line for line in order.lines if line.name == "Vacuum Cleaner"]
    assert len(vacuums) == 2 and {v.options["type"] for v in vacuums} == {"robotic", "canister"}
    robotic = next(v.item_id for v in vacuums if v.options["type"] == "robotic")
    case = service_case(
        tau2_store,
        tau2_rules,
        [f"{who} I want to return a vacuum cleaner from that order. It is the robotic one."],
    )
    assert case.proposals[0].arguments["item_ids"] == [robotic]
    case = service_case(
        tau2_store,
        tau2_rules,
        [f"{who} Make sure all the items I want to return are returned: the air purifier."],
    )
    (p,) = case.proposals
    assert [
        order.lines[[x.item_id for x in order.lines].index(i)].name for i in p.arguments["item_ids"]
    ] == ["Air Purifier"]


def test_the_same_order_an_amount_more_and_a_preference_between_two(tau2_store, tau2_rules):
    """Two orders hold a jigsaw puzzle: "in the same order" as the bicycle named before is
    the one meant; "1000 more pieces" is the line's own count plus 1000; "the same
    difficulty" keeps that option; "I prefer art over animals" decides between the rest."""
    order = tau2_store.order("#W3916020")
    jigsaw = next(line for line in order.lines if line.name == "Jigsaw Puzzle")
    assert (
        sum(
            any(line.name == "Jigsaw Puzzle" for line in o.lines)
            for o in tau2_store.orders_of(order.customer_id)
        )
        == 2
    )
    who = "I am Sofia Li, zip code 78260."
    wants = "I want the same difficulty, but 1000 more pieces, and I prefer {} over {} theme."
    for first, second in (("art", "animal"), ("animal", "art")):
        case = service_case(
            tau2_store,
            tau2_rules,
            [
                f"{who} I want to exchange my bicycle for one with a larger frame size. The "
                f"jigsaw puzzle in the same order also needs to be exchanged. "
                + wants.format(first, second)
            ],
        )
        (p,) = [p for p in case.proposals if jigsaw.item_id in p.arguments.get("item_ids", [])]
        assert p.order_id == order.id
        new = tau2_store.variant(
            p.arguments["new_item_ids"][p.arguments["item_ids"].index(jigsaw.item_id)]
        )
        assert float(new.options["pieces"]) == float(jigsaw.options["pieces"]) + 1000
        assert new.options["difficulty level"] == jigsaw.options["difficulty level"]
        assert new.options["theme"].startswith(first)


def test_an_order_named_by_the_city_it_was_sent_to(tau2_store, tau2_rules):
    """Backpacks in three pending orders; the one sent to Washington is the one meant."""
    case = service_case(
        tau2_store,
        tau2_rules,
        [
            "I am Ivan Khan, zip code 28243. I sent an order to my son in Washington by "
            "mistake. I want to change the backpack to a medium one."
        ],
    )
    assert {p.order_id for p in case.proposals} == {"#W5270061"}


def test_an_order_of_one_item_named_by_its_state(csv_shop):
    store, rules = csv_shop
    case = service_case(
        store, rules, ["ann@example.com: please change my pending order's item to red"]
    )
    (p,) = case.proposals
    assert p.arguments["order_id"] == "1002"
    assert (p.arguments["item_ids"], p.arguments["new_item_ids"]) == (["m-blue-500"], ["m-red-500"])


def test_items_named_as_people_write_them(tau2_store, tau2_rules):
    """ "Bookshelves" for Bookshelf, "watch" for Wristwatch; an item named only to say
    which order ("the backpack I received with the vacuum cleaner"); two items "in the
    same order"."""
    lucas = "my email is lucas.brown9344@example.com."

    def returned(text: str) -> set[str]:
        case = service_case(tau2_store, tau2_rules, [f"{lucas} {text}"])
        return {i for p in case.proposals for i in p.arguments.get("item_ids", [])}

    shelves = {
        line.item_id
        for o in tau2_store.orders_of("lucas_brown_6720")
        for line in o.lines
        if line.name == "Bookshelf" and o.status == "delivered"
    }
    assert len(shelves) == 2 and returned("I want to return all bookshelves.") == shelves
    assert returned("I want to return the backpack I received with the vacuum cleaner.") == {
        "7824298782"  # the backpack of the order that holds the vacuum cleaner, alone
    }
    assert returned("I want to return the bookshelf and jigsaw I received in the same order.") == {
        "4900661478",
        "3614853563",
    }
    case = service_case(
        tau2_store,
        tau2_rules,
        ["I am Yara Silva, zip 77159. I want to change my watch for one with a black dial."],
    )
    assert case.proposals[0].arguments["item_ids"] == ["1355937109"]  # the Wristwatch


def test_the_profile_address_changed_to_one_the_conversation_places(tau2_store, tau2_rules):
    case = service_case(
        tau2_store,
        tau2_rules,
        [
            "I am lucas_santos_6600, I live in Denver, and my daughter lives in Chicago. I want "
            "to change my default address to my daughter's address."
        ],
    )
    (p,) = [p for p in case.proposals if p.name == "modify_user_address"]
    assert p.arguments["city"] == "Chicago" and p.allowed
    sent = [o.address for o in tau2_store.orders_of("lucas_santos_6600")]
    assert any(a.address1 == p.arguments["address1"] for a in sent)  # one the store holds


def test_the_easiest_with_the_fewest(tau2_store, tau2_rules):
    """A superlative of a word on the ordered scale ("the easiest") picks the lowest level
    an option offers; "the fewest pieces" the smallest count."""
    case = service_case(
        tau2_store,
        tau2_rules,
        [
            "I am mei_patel_7272. The 1000-piece jigsaw is too hard for my kid, can I change "
            "it to the easiest one with the fewest pieces?"
        ],
    )
    new = tau2_store.variant(case.proposals[0].arguments["new_item_ids"][0])
    offered = [v for v in tau2_store.variants_of(new.product_id) if v.available]
    assert new.options["difficulty level"] == "beginner"
    assert float(new.options["pieces"]) == min(float(v.options["pieces"]) for v in offered)


def test_the_order_states_come_from_the_rules_file(tmp_path):
    """A shop whose orders are "open" and "arrived", with rules naming those states: which
    order a request is about and which action answers it follow the rules, no state word
    is the code's."""
    store = csv_store(tmp_path)
    for order_id, status in (("1001", "arrived"), ("1002", "open"), ("1003", "arrived")):
        store.save_order(store.order(order_id).model_copy(update={"status": status}))
    text = RULES.read_text().replace('"pending"', '"open"').replace('"delivered"', '"arrived"')
    (tmp_path / "rules.toml").write_text(text)
    rules = load_rules(tmp_path / "rules.toml")
    # two travel mugs: the open order's is the one a cancellation can be about
    case = service_case(store, rules, ["ann@example.com: please cancel the travel mug"])
    assert [(p.name, p.order_id, p.allowed) for p in case.proposals] == [
        ("cancel_pending_order", "1002", True)
    ]
    # and the arrived one is what a return is about
    case = service_case(store, rules, ["ann@example.com: I want to return the travel mug"])
    assert [(p.name, p.order_id) for p in case.proposals] == [
        ("return_delivered_order_items", "1001")
    ]
    # a change to the open order modifies it; to the arrived one, exchanges it
    said = "ann@example.com: in order {}, swap the travel mug for a {} one"
    case = service_case(store, rules, [said.format("1002", "red")])
    assert [p.name for p in case.proposals] == ["modify_pending_order_items"]
    case = service_case(store, rules, [said.format("1001", "bigger")])
    assert [p.name for p in case.proposals] == ["exchange_delivered_order_items"]
