"""The event log on PostgreSQL, through the same code path as SQLite (the `postgres_url`
fixture: a throwaway cluster, or a skip naming what the machine lacks)."""

from __future__ import annotations

import pytest

from ranking.events import Event, EventLog

pytestmark = pytest.mark.slow


def test_the_event_log_on_postgresql(postgres_url):
    log = EventLog(postgres_url)
    log.record(
        [
            Event(kind="impression", session="s1", reply_id="r1", product_id="P1", position=1,
                  query="red jacket, call 555-123-4567", detail={"need": "red jacket"}),
            Event(kind="click", session="s1", reply_id="r1", product_id="P1"),
        ]
    )  # fmt: skip
    got = list(EventLog(postgres_url).events())  # a second process would see the same
    assert [e.kind for e in got] == ["impression", "click"]
    assert got[0].query == "red jacket, call [phone]" and got[0].detail == {"need": "red jacket"}
    assert "aisle@127.0.0.1" in log.where


def test_workers_starting_together_all_open_their_stores(postgres_url):
    """Two workers create the tables at once: PostgreSQL refuses one CREATE, and the loser
    must still start (it did not: `aisle serve` died with UniqueViolation)."""
    import threading

    from sqlalchemy import create_engine, text

    from assistant.conversations import ConversationStore

    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text("CREATE DATABASE workers_race"))
    url = postgres_url.rsplit("/", 1)[0] + "/workers_race"
    errors = []

    def start(k: int) -> None:
        try:
            (ConversationStore if k % 2 else EventLog)(url)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
