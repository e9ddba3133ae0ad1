"""The event log on PostgreSQL, through the same code path as SQLite: a throwaway
cluster started here when the machine has PostgreSQL's server binaries (Debian's
`postgresql` package) and psycopg; skipped, with the reason, where it has not."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from ranking.events import Event, EventLog

pytestmark = pytest.mark.slow


def _bin() -> str | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    return os.path.dirname(found[-1]) if found else None


@pytest.fixture(scope="module")
def postgres_url():
    pytest.importorskip("psycopg", reason="the `postgres` extra (psycopg) is not installed")
    pg = _bin()
    if pg is None:
        pytest.skip("PostgreSQL server binaries not found (apt-get install postgresql)")
    # directly under /tmp: pytest's own temp root is closed to the postgres user
    folder = Path(tempfile.mkdtemp(prefix="aisle-pg-"))
    # initdb refuses to run as root: run the server as the postgres user when we are root
    run_as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    if run_as:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser")
        shutil.chown(folder, "postgres")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"
    subprocess.run([*run_as, f"{pg}/initdb", "-D", str(data), "-A", "trust", "-U", "aisle"],
                   check=True, capture_output=True)  # fmt: skip
    opts = f"-p {port} -k {folder} -c listen_addresses=127.0.0.1"
    log = str(folder / "log")
    subprocess.run([*run_as, f"{pg}/pg_ctl", "-D", str(data), "-o", opts, "-l", log, "-w",
                    "start"], check=True, capture_output=True)  # fmt: skip
    yield f"postgresql+psycopg://aisle@127.0.0.1:{port}/postgres"
    subprocess.run([*run_as, f"{pg}/pg_ctl", "-D", str(data), "-m", "fast", "stop"],
                   capture_output=True)  # fmt: skip
    shutil.rmtree(folder, ignore_errors=True)


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
