"""The SQL stores' engine (the event log, the conversations, and what comes after them):
SQLite in WAL mode in the index folder by default, any SQLAlchemy URL (PostgreSQL when
several workers share a store)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path


class StoreUnavailableError(RuntimeError):
    """A store that cannot be opened: a bad URL, a missing driver, an unwritable folder."""


def why_unwritable(exc: BaseException, where: Path | None = None) -> str | None:
    """Why a write failed, in words, when it is the disk's doing: full, read-only, or not
    permitted; None for any other failure. The libraries under the stores say it their own
    way (SQLite's "database or disk is full", numpy's "N requested and M written"), so the
    free space of `where` is checked too."""
    said = str(exc).casefold()
    code = getattr(exc, "errno", None)
    if code in (errno.ENOSPC, errno.EDQUOT) or "disk is full" in said or "no space" in said:
        return "the disk is full"
    if code == errno.EROFS or "readonly" in said or "read-only" in said:
        return "it is read-only"
    if code in (errno.EACCES, errno.EPERM) or "permission denied" in said:
        return "permission to write there is denied"
    if where is not None and isinstance(exc, OSError):
        try:
            if shutil.disk_usage(_existing(where)).free < 1 << 20:
                return "the disk is full"
        except OSError:
            return None
    return None


def _existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def store_exists(url: str) -> bool:
    """Whether a store is there to read: a SQLite file that exists, or any server URL (a
    server's store is created on first use; a missing SQLite file means nothing written yet,
    and opening it would create it)."""
    if url.startswith("sqlite:///"):
        return Path(url.removeprefix("sqlite:///")).is_file()
    return True


def create_tables(meta, engine, what: str, error: type[Exception]) -> None:
    """Create the store's tables if missing. Workers starting together race to create
    them (PostgreSQL then refuses the loser's CREATE): a failure is retried once, when the
    other worker's tables are there; any other driver error names the store."""
    for attempt in (1, 2):
        try:
            meta.create_all(engine)
            return
        except Exception as exc:  # noqa: BLE001 - any driver error: name the store
            if attempt == 2:
                raise error(f"{what}: {exc}") from exc


def open_engine(url: str, what: str, error: type[Exception] = StoreUnavailableError):
    """A SQLAlchemy engine for one of Aisle's stores (the event log, the conversations):
    SQLite in WAL mode, so readers never block the writer, or any other URL (PostgreSQL
    when several workers share it). A bad URL, a missing driver or an unwritable folder is
    named, with the store it was for."""
    from sqlalchemy import create_engine, event

    try:
        if url.startswith("sqlite:///"):
            Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url)
    except Exception as exc:  # noqa: BLE001 - a bad URL, a missing driver, a bad path
        raise error(f"{what} {url}: {exc}") from exc
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _wal(conn, _record):
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA busy_timeout=5000")

    return engine
