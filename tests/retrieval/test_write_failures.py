"""A disk that refuses a write — full, read-only, not permitted — ends an ingest with one
sentence naming the index folder, and the live index stays the one before."""

from __future__ import annotations

import errno
import json
import shutil
import sqlite3

import numpy as np
import pytest

import base.stores
from base.stores import why_unwritable
from retrieval.index import ProductIndex
from retrieval.ingest import IndexWriteError, ingest


@pytest.mark.parametrize(
    ("exc", "why"),
    [
        (OSError(errno.ENOSPC, "No space left on device"), "the disk is full"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full"),
        (OSError(errno.EROFS, "Read-only file system"), "it is read-only"),
        (RuntimeError("(code: 8) attempt to write a readonly database"), "it is read-only"),
        (PermissionError(errno.EACCES, "Permission denied"), "permission to write there is denied"),
        (ValueError("a bad row"), None),
    ],
)
def test_why_a_write_failed_in_words(exc, why):
    assert why_unwritable(exc) == why


def test_a_full_disk_ends_the_ingest_in_one_sentence_and_keeps_the_live_index(
    tiny_catalog, tiny_config, monkeypatch
):
    ingest(tiny_catalog, tiny_config, progress=False)
    live = (tiny_config.index_dir / "CURRENT").read_text()
    before = [p.title for p in ProductIndex(tiny_config).all_products()]
    changed = tiny_catalog.with_name("changed.jsonl")
    rows = [json.loads(x) for x in tiny_catalog.read_text().splitlines()]
    rows[0]["title"] += " (new season)"
    changed.write_text("\n".join(json.dumps(r) for r in rows) + "\n")

    def short_write(path, array, *args, **kwargs):
        # what numpy says when the disk fills mid-write: no errno, only the byte counts
        raise OSError("64512 requested and 31712 written")

    monkeypatch.setattr(np, "save", short_write)
    full = shutil._ntuple_diskusage(total=100, used=100, free=0)
    monkeypatch.setattr(base.stores.shutil, "disk_usage", lambda p: full)
    with pytest.raises(IndexWriteError) as caught:
        ingest(changed, tiny_config, progress=False, images_dir=tiny_catalog.parent / "images")
    message = str(caught.value)
    assert str(tiny_config.index_dir) in message and "the disk is full" in message
    assert "\n" not in message
    assert (tiny_config.index_dir / "CURRENT").read_text() == live
    monkeypatch.undo()
    assert [p.title for p in ProductIndex(tiny_config).all_products()] == before
