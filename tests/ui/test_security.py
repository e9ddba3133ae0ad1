"""Sign-in backoff, exact names, expiring sign-ins and plain-text chat, without a server."""

from types import SimpleNamespace

from ui.render import from_plain_text, plain_text
from ui.security import ExpiringTokens, LoginGuard


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


def test_guessing_is_slowed_per_user_and_per_address():
    clock = Clock()
    guard = LoginGuard({"ana": "s3cret"}, free=3, base_s=1, max_s=60, clock=clock)
    results = [guard.attempt("ana", f"guess{i}", "10.0.0.1") for i in range(6)]
    assert [ok for ok, _ in results] == [False] * 6
    assert [w for _, w in results[:3]] == [0, 0, 0]  # typos cost nothing
    assert results[3][1] == 1  # then the lock starts
    assert all(w > 0 for _, w in results[4:])  # locked: refused without a look
    ok, wait = guard.attempt("ana", "s3cret", "10.0.0.2")  # the right password, too early
    assert not ok and wait > 0  # the user is locked from every address
    ok, wait = guard.attempt("bob", "x", "10.0.0.1")
    assert not ok and wait > 0  # and the address for every user
    clock.t += 10
    assert guard.attempt("ana", "s3cret", "10.0.0.2") == (True, 0.0)
    many = LoginGuard({"ana": "s3cret"}, free=3, base_s=1, max_s=60, clock=clock)
    waits = []
    for _ in range(12):  # each failure after the lock doubles it, up to the cap
        clock.t += 1000
        waits.append(many.attempt("ana", "nope", "10.0.0.9")[1])
    assert waits[3:7] == [1, 2, 4, 8] and max(waits) == 60


def test_a_locked_user_still_signs_in_from_their_own_browser():
    """Someone guessing from elsewhere locks the account for new addresses, not for the
    address the agent signed in from before; that address's own lock still holds."""
    clock = Clock()
    guard = LoginGuard({"ana": "s3cret"}, free=3, base_s=60, max_s=900, clock=clock)
    assert guard.attempt("ana", "s3cret", "10.0.0.5") == (True, 0.0)  # the agent, yesterday
    for i in range(100):  # an attacker, from many addresses
        guard.attempt("ana", f"guess{i}", f"203.0.113.{i % 50}")
    ok, wait = guard.attempt("ana", "s3cret", "203.0.113.77")
    assert not ok and wait > 0  # a new address waits out the account's lock
    assert guard.attempt("ana", "s3cret", "10.0.0.5") == (True, 0.0)  # her own browser
    for i in range(5):  # her own address guessing badly locks that address
        guard.attempt("ana", f"typo{i}", "10.0.0.5")
    ok, wait = guard.attempt("ana", "s3cret", "10.0.0.5")
    assert not ok and wait > 0


def test_user_names_match_exactly():
    guard = LoginGuard({"ana": "s3cret"})
    assert not guard.attempt("ana ", "s3cret", "a")[0]
    assert not guard.attempt("Ana", "s3cret", "b")[0]
    assert guard.attempt("ana", "s3cret", "c")[0]


def test_sign_ins_expire():
    clock = Clock()
    tokens = ExpiringTokens(ttl_s=60, clock=clock)
    tokens["t1"] = "ana"
    assert tokens.get("t1") == "ana" and "t1" in tokens
    clock.t += 61
    assert tokens.get("t1") is None and "t1" not in tokens


def test_catalog_text_in_the_chat_is_plain_text():
    title = "Mug ![pixel](http://evil.example/p.png) [90 % off](http://evil.example) <b>x</b>"
    shown = plain_text(title)
    for syntax in ("![", "](", "<b>", "http://"):
        assert syntax not in shown
    assert plain_text("Tea, 2 for $5") == "Tea, 2 for \\$5"
    assert from_plain_text(shown) == title


def test_details_send_a_bounded_description():
    from retrieval.schema import Product
    from ui.render import DETAIL_CHARS, detail_html

    huge = Product(id="p", title="Mug", description="x" * 10_000_000)
    view = SimpleNamespace(product=huge, photos=[], variants=[], related=None)
    assert len(detail_html(view)) < DETAIL_CHARS + 5_000
