"""The event log: redaction, pseudonyms, SQLite in WAL mode, and round trips."""

import sqlite3

import pytest
from pydantic import ValidationError

from base.privacy import pseudonym, redact
from ranking.events import Event, EventLog, EventLogUnavailableError


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me at jo.doe+shop@example.co.uk please", "mail me at [email] please"),
        ("call +1 (555) 123-4567 or 555 123 4567", "call [phone] or [phone]"),
        ("jacket under $1,299.99 size 32x34", "jacket under $1,299.99 size 32x34"),
        ("order 12345, 3 items", "order 12345, 3 items"),
        ("card 4111 1111 1111 1111 thanks", "card [card] thanks"),
        ("pay with 4111-1111-1111-1111", "pay with [card]"),
        ("1.5 kg for 2,49 € or 55 inch", "1.5 kg for 2,49 € or 55 inch"),
        ("write to a.b@shop.example.org now", "write to [email] now"),
    ],
)
def test_redaction_keeps_prices_and_sizes(text, expected):
    assert redact(text) == expected


def test_events_are_redacted_before_they_are_stored(tmp_path):
    log = EventLog(f"sqlite:///{tmp_path / 'events.sqlite'}")
    log.record(
        [
            Event(
                kind="impression",
                session="s1",
                query="red jacket, mail a@b.com",
                position=1,
                product_id="P1",
                reply_id="r1",
            ),
            Event(kind="thumbs_up", session="s1", reply_id="r1"),
        ]
    )
    raw = sqlite3.connect(tmp_path / "events.sqlite").execute("SELECT query FROM events").fetchall()
    assert all("a@b.com" not in q for (q,) in raw)
    got = list(log.events())
    assert [e.kind for e in got] == ["impression", "thumbs_up"]
    assert got[0].query == "red jacket, mail [email]" and got[0].position == 1
    assert [e.kind for e in log.events(kinds=["thumbs_up"])] == ["thumbs_up"]
    mode = sqlite3.connect(tmp_path / "events.sqlite").execute("PRAGMA journal_mode").fetchone()
    assert mode[0] == "wal"


def test_every_detail_field_is_redacted_and_bounded():
    e = Event(
        kind="impression",
        session="s",
        detail={"need": "jacket jo@x.com", "ranking_query": "call 415 555 0100", "big": "y" * 9000},
    )
    assert e.detail["need"] == "jacket [email]"
    assert e.detail["ranking_query"] == "call [phone]"
    assert len(e.detail["big"]) == 500
    many = Event(kind="click", session="s", detail={str(i): "v" for i in range(100)})
    assert len(many.detail) == 16


def test_bad_events_are_refused():
    with pytest.raises(ValidationError):
        Event(kind="purchase", session="s1")
    with pytest.raises(ValidationError):
        Event(kind="click", session="")


def test_pseudonyms_are_stable_and_salted():
    assert pseudonym("jo@example.com", "salt") == pseudonym("jo@example.com", "salt")
    assert pseudonym("jo@example.com", "salt") != pseudonym("jo@example.com", "other")
    assert "jo" not in pseudonym("jo@example.com", "salt")


def test_an_unreachable_store_is_named(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(EventLogUnavailableError, match="event log"):
        EventLog(f"sqlite:///{blocker / 'sub' / 'events.sqlite'}")
