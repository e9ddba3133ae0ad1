"""The feed benchmark end to end on a few products: every photo a real download from the
loopback server, the figures written."""

import json
import sys

import pytest

from evals.benchmarks import feed_ingest


@pytest.mark.slow
def test_a_small_feed_is_downloaded_encoded_and_timed(tmp_path, monkeypatch):
    out = tmp_path / "feed.json"
    monkeypatch.setattr(sys, "argv", ["feed_ingest", "--products", "12", "--out", str(out)])
    feed_ingest.main()
    result = json.loads(out.read_text())
    assert result["products"] == 12 and result["downloaded"] == 12
    assert result["photos_encoded"] == 12  # each its own bytes: none shared
    assert result["ingest_per_s"] > 0 and result["ratio"] > 0
