"""What `aisle serve` adds in front of Gradio: sign-in attempts that slow down and lock out
guessing (per user and per address), exact user names, sign-ins that expire, and security
headers on every response.

Gradio's own `/login` strips the user name, never delays a wrong password and keeps its
tokens forever, so the sign-in is checked here before Gradio sees it (an ASGI middleware:
it reads the form, answers a refusal itself and replays the body otherwise), and Gradio's
token table is replaced by one whose entries expire.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections.abc import Callable

HEADERS = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    # images only from the shop itself (a product text can never make a browser fetch
    # one from elsewhere), no plugins, no framing, forms post home
    (
        b"content-security-policy",
        b"img-src 'self' data: blob:; object-src 'none'; base-uri 'self'; "
        b"frame-ancestors 'none'; form-action 'self'",
    ),
]


class LoginGuard:
    """Failed sign-ins counted per user name and per address. The first `free` failures
    cost nothing; each further one locks that key for twice as long as the last (from
    `base_s`, at most `max_s`). A locked key is refused before its password is looked at, so
    guessing proceeds at the lock's pace. A success clears its user's and address's counts.

    A user's lock does not keep that user out of an address they signed in from before
    (their own browser): someone guessing from elsewhere cannot lock the agent out; an
    address's own lock still holds for everyone there."""

    def __init__(
        self,
        users: dict[str, str],
        free: int = 3,
        base_s: float = 1.0,
        max_s: float = 900.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.users, self.free, self.base_s, self.max_s, self.clock = (
            users,
            free,
            base_s,
            max_s,
            clock,
        )
        self._failures: dict[str, int] = {}
        self._locked_until: dict[str, float] = {}
        self._known: set[tuple[str, str]] = set()  # (user, address) signed in before
        self._lock = threading.Lock()

    def attempt(self, user: str, password: str, address: str) -> tuple[bool, float]:
        """(signed in, seconds to wait before the next try: 0 when not locked)."""
        keys = [f"user:{user}", f"address:{address}"]
        with self._lock:
            now = self.clock()
            binding = keys[1:] if (user, address) in self._known else keys
            wait = max(self._locked_until.get(k, 0.0) - now for k in binding)
            if wait > 0:
                return False, wait
            expected = self.users.get(user)  # exact: "ana " is not "ana"
            ok = expected is not None and hmac.compare_digest(password.encode(), expected.encode())
            if ok:
                for k in keys:
                    self._failures.pop(k, None)
                    self._locked_until.pop(k, None)
                self._known.add((user, address))
                return True, 0.0
            lock = 0.0
            for k in keys:
                n = self._failures[k] = self._failures.get(k, 0) + 1
                if n > self.free:
                    delay = min(self.base_s * 2 ** (n - self.free - 1), self.max_s)
                    self._locked_until[k] = now + delay
                    lock = max(lock, delay)
            return False, lock


class ExpiringTokens(dict):
    """Gradio's token → user table, with each sign-in valid for `ttl_s` seconds."""

    def __init__(self, ttl_s: float, clock: Callable[[], float] = time.monotonic):
        super().__init__()
        self.ttl_s, self.clock = ttl_s, clock
        self._issued: dict[str, float] = {}

    def __setitem__(self, token, user) -> None:
        self._issued[token] = self.clock()
        super().__setitem__(token, user)

    def get(self, token, default=None):
        issued = self._issued.get(token)
        if issued is None or self.clock() - issued > self.ttl_s:
            self.pop(token, None)
            self._issued.pop(token, None)
            return default
        return super().get(token, default)

    def __contains__(self, token) -> bool:
        return self.get(token) is not None


class Guarded:
    """The ASGI app wrapped: security headers (and the worker's name) on every response;
    sign-ins at `login_paths` checked by `guard` first; a request body over `max_body`
    bytes refused (413) before it is read, let alone parsed (uploads have their own bound)."""

    def __init__(
        self,
        app,
        guard: LoginGuard | None,
        login_paths: set[str],
        worker: str = "",
        max_body: int = 256 * 1024,
    ):
        self.app, self.guard, self.login_paths, self.max_body = app, guard, login_paths, max_body
        # which worker answered, for an operator behind a proxy (and the failover test)
        self.headers = [*HEADERS, *([(b"x-aisle-worker", worker.encode())] if worker else [])]

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                extra = [(k, v) for k, v in self.headers if k not in names]
                message = {**message, "headers": [*message.get("headers", []), *extra]}
            await send(message)

        path = scope["path"].rstrip("/") or "/"
        if scope["method"] == "POST" and not path.endswith("/upload"):
            declared = dict(scope.get("headers") or []).get(b"content-length", b"")
            if declared.isdigit() and int(declared) > self.max_body:
                return await _too_large(send_with_headers, self.max_body)
            receive = _bounded(receive, self.max_body)
        if self.guard is not None and scope["method"] == "POST" and path in self.login_paths:
            body = await _read_body(receive)
            form = await _form(scope, body)
            address = (scope.get("client") or ("unknown", 0))[0]
            ok, wait = self.guard.attempt(
                form.get("username", ""), form.get("password", ""), address
            )
            if not ok:
                status, detail, headers = 400, "Incorrect credentials.", []
                if wait > 0:
                    status = 429
                    detail = f"Too many failed sign-ins: try again in {wait:.0f} s."
                    headers = [(b"retry-after", str(max(1, round(wait))).encode())]
                return await _json(send_with_headers, status, {"detail": detail}, headers)
            replayed = False

            async def replay():
                nonlocal replayed
                if replayed:
                    return await receive()
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}

            return await self.app(scope, replay, send_with_headers)
        return await self.app(scope, receive, send_with_headers)


class BodyTooLargeError(Exception):
    pass


def _bounded(receive, limit: int):
    """`receive` that stops a body sent without a length once it passes `limit`."""
    seen = 0

    async def bounded():
        nonlocal seen
        message = await receive()
        seen += len(message.get("body", b""))
        if seen > limit:
            raise BodyTooLargeError(f"request body over {limit} bytes")
        return message

    return bounded


async def _too_large(send, limit: int) -> None:
    detail = f"The request is too large (over {limit // 1024} KB)."
    await _json(send, 413, {"detail": detail}, [])


async def _form(scope, body: bytes) -> dict[str, str]:
    """The sign-in form as sent: URL-encoded or multipart (the page's login posts this)."""
    from starlette.requests import Request

    async def once():
        return {"type": "http.request", "body": body, "more_body": False}

    try:
        form = await Request(scope, once).form()
    except Exception:  # noqa: BLE001 - an unreadable form signs nobody in
        return {}
    return {k: v for k, v in form.items() if isinstance(v, str)}


async def _read_body(receive, limit: int = 64 * 1024) -> bytes:
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body") or len(body) > limit:
            return body[:limit]


async def _json(send, status: int, payload: dict, headers: list) -> None:
    data = json.dumps(payload).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/json"), *headers],
        }
    )
    await send({"type": "http.response.body", "body": data})
