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
