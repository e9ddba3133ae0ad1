"""Event log → graded pairs, with position-bias care."""

from ranking.events import Event
from ranking.feedback_labels import MAX_WEIGHT, labels_from_events


def shown(reply, query, products, session="s"):
    return [
        Event(
            kind="impression",
            session=session,
            reply_id=reply,
            query=query,
            product_id=p,
            position=i,
            detail={"ranking_query": f"{query} (ranked)"},
        )
        for i, p in enumerate(products, 1)
    ]


def test_clicks_carts_and_skips_become_grades():
    events = shown("r1", "rain jacket", ["A", "B", "C", "D", "E"])
    events += [
        Event(kind="click", session="s", reply_id="r1", product_id="C"),
        Event(kind="cart_add", session="s", reply_id="r1", product_id="C"),
        Event(kind="click", session="s", reply_id="r1", product_id="A"),
    ]
    labels = {j.product_id: j for j in labels_from_events(events)}
    assert labels["C"].grade == 2 and labels["A"].grade == 1  # cart beats click
    # shown in a reply the shopper engaged with and passed over, above the click or below
    assert labels["B"].grade == labels["D"].grade == labels["E"].grade == 0
    assert labels["B"].weight == labels["E"].weight == 1.0
    # a click deep in the list counts more (inverse propensity), within a cap
    assert labels["C"].weight > labels["A"].weight and labels["C"].weight <= MAX_WEIGHT
    assert labels["A"].query == "rain jacket (ranked)" and labels["A"].source == "feedback"


def test_a_reply_nobody_engaged_with_says_nothing():
    events = shown("r1", "rain jacket", ["A", "B"]) + shown("r2", "tent", ["T", "U"])
    events += [Event(kind="click", session="s", reply_id="r2", product_id="U")]
    labels = {(j.query_id, j.product_id): j.grade for j in labels_from_events(events)}
    assert labels == {("feedback:r2", "T"): 0, ("feedback:r2", "U"): 1}


def test_thumbs():
    events = shown("r1", "hoodie", ["A", "B", "C"]) + shown("r2", "watch", ["W", "X"])
    events += [
        Event(kind="thumbs_down", session="s", reply_id="r1"),
        Event(kind="click", session="s", reply_id="r2", product_id="W"),
        Event(kind="thumbs_up", session="s", reply_id="r2"),
    ]
    labels = {(j.query_id, j.product_id): j.grade for j in labels_from_events(events)}
    assert labels[("feedback:r1", "A")] == labels[("feedback:r1", "C")] == 0  # all rejected
    assert labels[("feedback:r2", "W")] == 2  # a click on a reply the shopper liked
    assert labels[("feedback:r2", "X")] == 0


def test_actions_without_impressions_are_ignored():
    events = [Event(kind="click", session="s", reply_id="gone", product_id="A")]
    assert labels_from_events(events) == []


def test_labels_carry_what_the_shopper_engaged_with_before():
    events = shown("r1", "jacket", ["A", "B"], session="s")
    events += [Event(kind="click", session="s", reply_id="r1", product_id="B")]
    events += shown("r2", "hoodie", ["H", "K"], session="s")
    events += [Event(kind="cart_add", session="s", reply_id="r2", product_id="K")]
    events += shown("r3", "watch", ["W"], session="other")
    events += [Event(kind="click", session="other", reply_id="r3", product_id="W")]
    labels = {(j.query_id, j.product_id): j for j in labels_from_events(events)}
    assert labels[("feedback:r1", "B")].history == []  # nothing before the first reply
    assert labels[("feedback:r2", "K")].history == ["B"]  # the earlier click, same session
    assert labels[("feedback:r3", "W")].history == []  # another shopper's clicks never count
