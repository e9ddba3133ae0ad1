"""Photos by URL: served here from a loopback server (allowed for the test), downloaded
once, revalidated on re-ingest, each failure reported with its product and reason."""

from __future__ import annotations

import http.server
import io
import socket
import threading
from pathlib import Path

import pytest
from PIL import Image

from retrieval.ingest import ingest
from retrieval.photo_fetch import PhotoFetcher


def _png(rgb) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), rgb).save(buf, "PNG")
    return buf.getvalue()


class Photos(http.server.BaseHTTPRequestHandler):
    files = {
        "/red.png": ("image/png", _png((200, 20, 20))),
        "/blue.png": ("image/png", _png((20, 20, 200))),
        "/page.html": ("text/html", b"<html>not a photo</html>"),
        "/broken.png": ("image/png", b"\x89PNG not really"),
        "/feed.tsv": (
            "text/tab-separated-values",
            (Path(__file__).parent / "feeds" / "merchant-center.tsv").read_bytes(),
        ),
    }
    served: list[str] = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        self.served.append(self.path)
        if self.path == "/moved.png":
            self.send_response(302)
            self.send_header("Location", "/red.png")
            self.end_headers()
            return
        if self.path not in self.files:
            self.send_error(404)
            return
        kind, body = self.files[self.path]
        etag = f'"{hash(body) & 0xFFFF}"'
        if self.headers.get("If-None-Match") == etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("ETag", etag)
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Photos)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    Photos.served = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_photos_by_url_are_fetched_checked_and_cached(server, tmp_path):
    urls = [f"{server}/{n}" for n in ("red.png", "page.html", "broken.png", "missing.png")]
    urls += [f"{server}/moved.png", "ftp://example.com/x.png"]
    fetcher = PhotoFetcher(tmp_path / "cache", allow_private=True, retries=0)
    got = fetcher.fetch_all(urls)
    assert isinstance(got[urls[0]], Path) and Image.open(got[urls[0]]).size == (32, 24)
    assert "not an image" in got[urls[1]]
    assert "not a readable image" in got[urls[2]]
    assert "404" in got[urls[3]]
    assert isinstance(got[urls[4]], Path)  # a redirect, checked and followed
    assert "only http(s)" in got[urls[5]]
    again = PhotoFetcher(tmp_path / "cache", allow_private=True, retries=0)
    again.fetch_all(urls[:1])
    assert again.revalidated == 1 and again.downloaded == 0  # asked "changed?", got 304


def test_a_host_that_does_not_answer_is_not_asked_again(server, tmp_path):
    """No network, a dead CDN: after three requests in a row go unanswered, that host's
    other photos are reported as skipped at once; another host is still asked."""
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    urls = [f"{dead}/{n}.png" for n in range(10)] + [f"{server}/red.png"]
    fetcher = PhotoFetcher(tmp_path / "cache", allow_private=True, retries=0, workers=1)
    got = fetcher.fetch_all(urls)
    said = [got[u] for u in urls[:10]]
    assert sum("unreachable" in x for x in said) == 3
    assert sum(x.startswith(f"skipped: {dead[7:]} did not answer 3") for x in said) == 7
    assert isinstance(got[urls[-1]], Path)  # another server (the same address, its own port)


def test_private_addresses_are_refused_unless_allowed(server, tmp_path):
    got = PhotoFetcher(tmp_path / "cache").fetch_all([f"{server}/red.png"])
    assert "private or loopback" in got[f"{server}/red.png"]
    assert not Photos.served  # refused before any request


def test_an_ingest_downloads_photos_and_a_reingest_only_revalidates(server, tmp_path, tiny_config):
    catalog = tmp_path / "products.jsonl"
    catalog.write_text(
        f'{{"id": "a", "title": "Red mug", "images": ["{server}/red.png"]}}\n'
        f'{{"id": "b", "title": "Blue mug", "images": ["{server}/blue.png"]}}\n'
        f'{{"id": "c", "title": "Odd mug", "images": ["{server}/page.html"]}}\n'
    )
    config = tiny_config.model_copy(update={"fetch_allow_private": True})
    report = ingest(catalog, config, progress=False)
    assert report.indexed == 3 and report.photos_downloaded == 2
    assert [(m.product_id, "not an image" in m.reason) for m in report.missing_images] == [
        ("c", True)
    ]
    again = ingest(catalog, config, progress=False)
    assert again.photos_downloaded == 0 and again.photos_revalidated == 2
    off = ingest(catalog, config.model_copy(update={"fetch_images": False}), progress=False)
    assert len(off.missing_images) == 3 and "--no-fetch-images" in off.missing_images[0].reason


def test_aisle_ingest_reads_a_feed_by_url(server, tmp_path, tiny_config):
    from typer.testing import CliRunner

    from cli import app

    feed = Photos.files["/feed.tsv"][1]
    args = ["ingest", f"{server}/feed.tsv", "--no-fetch-images", "--quiet", "--json"]
    args += ["--index-dir", str(tmp_path / "index"), "--text-model", tiny_config.text_model]
    args += ["--image-model", "none"]
    refused = CliRunner().invoke(app, args)
    assert refused.exit_code == 2 and "private or loopback" in refused.output
    out = CliRunner().invoke(app, args, env={"AISLE_FETCH_ALLOW_PRIVATE": "true"})
    assert out.exit_code == 0, out.output
    assert '"indexed": 2' in out.stdout
    assert (tmp_path / "index" / "feeds" / "feed.tsv").read_bytes() == feed
