"""Photos by URL, downloaded at ingest into a cache kept in the index folder.

Each download is checked: only http(s); a host that resolves to a private, loopback or
link-local address is refused unless `fetch_allow_private` (redirects are checked again);
a timeout, two retries on a network error or a 5xx; at most `fetch_max_mb`; the content
type must be an image and the file must decode as one, within the pixel bound. The cache
is keyed by the URL and remembers the server's validators (ETag, Last-Modified), so a
re-ingest asks "changed?" and downloads only what changed. A photo that fails is reported
with its reason; its product is still indexed by its text. A host that has not answered
`HOST_DOWN_AFTER` requests in a row (no network, a dead CDN) is not asked again in this
ingest: its other photos are reported as skipped at once rather than each waiting out its
timeouts and retries. stdlib `urllib` (no session or
cookie state is wanted) in a bounded thread pool."""

from __future__ import annotations

import hashlib
import ipaddress
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .image_embedder import MAX_PIXELS

USER_AGENT = "Aisle-ingest/1 (+product photos for a shop's own search)"


HOST_DOWN_AFTER = 3  # failures in a row that mark a host as not answering


class FetchRefused(Exception):
    """A URL this fetcher will not download (its reason is said to the shop)."""


class HostDown(FetchRefused):
    """The host did not answer (unknown, unreachable, timed out)."""


class PhotoFetcher:
    def __init__(
        self,
        cache_dir: Path,
        allow_private: bool = False,
        max_bytes: int = 20 * 1024 * 1024,
        timeout_s: float = 10.0,
        workers: int = 8,
        retries: int = 2,
        max_pixels: int = MAX_PIXELS,
    ):
        self.cache_dir = Path(cache_dir)
        self.allow_private, self.max_bytes, self.timeout_s = allow_private, max_bytes, timeout_s
        self.workers, self.retries, self.max_pixels = workers, retries, max_pixels
        self.downloaded = self.revalidated = 0  # counted under the lock: workers are threads
        self._lock = threading.Lock()  # the counts and the hosts' misses
        self._misses: dict[str, int] = {}  # host → requests in a row it did not answer

    def fetch_all(self, urls: list[str], progress: bool = False) -> dict[str, Path | str]:
        """URL → the cached file, or the reason it could not be had."""
        from tqdm.auto import tqdm

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        out: dict[str, Path | str] = {}
        with ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="aisle-fetch") as pool:
            bar = tqdm(total=len(urls), desc="photos by URL", unit="photo", disable=not progress)
            for url, result in zip(urls, pool.map(self._one, urls), strict=True):
                out[url] = result
                bar.update(1)
            bar.close()
        return out

    # ---- one URL ---------------------------------------------------------------------------
    def _one(self, url: str) -> Path | str:
        parts = urllib.parse.urlsplit(url)
        host = f"{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
        with self._lock:
            if self._misses.get(host, 0) >= HOST_DOWN_AFTER:
                return f"skipped: {host} did not answer {HOST_DOWN_AFTER} requests in a row"
        try:
            found = self._fetch(url)
        except HostDown as exc:
            with self._lock:
                self._misses[host] = self._misses.get(host, 0) + 1
            return str(exc)
        except FetchRefused as exc:
            return str(exc)
        except Exception as exc:  # noqa: BLE001 - one photo never stops an ingest
            return f"download failed ({type(exc).__name__}: {exc})"
        with self._lock:
            self._misses[host] = 0
        return found

    def _paths(self, url: str) -> tuple[Path, Path]:
        key = hashlib.sha256(url.encode()).hexdigest()
        return self.cache_dir / f"{key}.img", self.cache_dir / f"{key}.json"

    def _fetch(self, url: str) -> Path:
        check_url(url, self.allow_private)
        body, meta = self._paths(url)
        known = json.loads(meta.read_text()) if meta.is_file() and body.is_file() else {}
        headers = {"User-Agent": USER_AGENT, "Accept": "image/*"}
        if known.get("etag"):
            headers["If-None-Match"] = known["etag"]
        if known.get("last_modified"):
            headers["If-Modified-Since"] = known["last_modified"]
        opener = urllib.request.build_opener(_CheckedRedirects(self.allow_private))
        for attempt in range(self.retries + 1):
            try:
                request = urllib.request.Request(url, headers=headers)
                with opener.open(request, timeout=self.timeout_s) as response:
                    return self._store(url, response, body, meta)
            except urllib.error.HTTPError as exc:
                if exc.code == 304 and known:
                    with self._lock:
                        self.revalidated += 1
                    return body  # unchanged since the last ingest
                if exc.code < 500 or attempt == self.retries:
                    raise FetchRefused(f"HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
                if isinstance(getattr(exc, "reason", None), FetchRefused):
                    raise exc.reason from None
                if attempt == self.retries:
                    raise HostDown(f"unreachable ({getattr(exc, 'reason', exc)})") from None
            time.sleep(0.5 * 2**attempt)
        raise HostDown("unreachable")

    def _store(self, url: str, response, body: Path, meta: Path) -> Path:
        kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if not kind.startswith("image/"):
            raise FetchRefused(f"not an image (content type {kind or 'none'})")
        size = int(response.headers.get("Content-Length") or 0)
        if size > self.max_bytes:
            raise FetchRefused(f"over {self.max_bytes // (1024 * 1024)} MB ({size:,} bytes)")
        data = response.read(self.max_bytes + 1)
        if len(data) > self.max_bytes:
            raise FetchRefused(f"over {self.max_bytes // (1024 * 1024)} MB")
        self._check_image(data)
        tmp = body.with_suffix(".tmp")
        tmp.write_bytes(data)
        tmp.replace(body)  # a crash leaves the old copy or the new one
        meta.write_text(
            json.dumps(
                {
                    "url": url,
                    "etag": response.headers.get("ETag"),
                    "last_modified": response.headers.get("Last-Modified"),
                    "content_type": kind,
                    "bytes": len(data),
                }
            )
        )
        with self._lock:
            self.downloaded += 1
        return body

    def _check_image(self, data: bytes) -> None:
        import io

        from PIL import Image

        try:
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > self.max_pixels:
                    raise FetchRefused(f"{width:,} × {height:,} pixels, over the bound")
                image.verify()
        except FetchRefused:
            raise
        except Exception as exc:  # noqa: BLE001 - whatever PIL cannot read is no photo
            raise FetchRefused(f"not a readable image ({exc})") from None


def check_url(url: str, allow_private: bool) -> None:
    """Refuse what is not http(s), and (unless allowed) a host that resolves to a private,
    loopback or link-local address."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchRefused(f"only http(s) URLs are fetched, not {parts.scheme or url!r}")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        raise HostDown(f"unknown host {parts.hostname} ({exc})") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            raise FetchRefused(
                f"{parts.hostname} is a private or loopback address ({address}); "
                "set fetch_allow_private to fetch from it"
            )


def fetch_feed(url: str, folder: Path, allow_private: bool, timeout_s: float = 60.0) -> Path:
    """A catalog feed by URL (the same checks as a photo's: http(s), no private address
    unless allowed, redirects checked; at most 2 GB), saved under `folder` with the URL's
    file name, so its format is read from its suffix. Raises FetchRefused with the reason."""
    check_url(url, allow_private)
    name = Path(urllib.parse.urlsplit(url).path).name or "feed.tsv"
    folder.mkdir(parents=True, exist_ok=True)
    target, tmp = folder / name, folder / f".{name}.tmp"
    opener = urllib.request.build_opener(_CheckedRedirects(allow_private))
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    limit, size = 2 * 1024**3, 0
    try:
        with opener.open(request, timeout=timeout_s) as response, tmp.open("wb") as out:
            while chunk := response.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise FetchRefused("the feed is over 2 GB")
                out.write(chunk)
    except urllib.error.HTTPError as exc:
        raise FetchRefused(f"{url}: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
        raise FetchRefused(f"{url}: unreachable ({getattr(exc, 'reason', exc)})") from None
    tmp.replace(target)
    return target


class _CheckedRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect is checked like the first URL (a public URL cannot send the fetcher to a
    private address)."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        check_url(newurl, self.allow_private)
        return super().redirect_request(req, fp, code, msg, headers, newurl)
