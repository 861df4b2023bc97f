"""Who may talk to ``dhpc serve``, and which requests may change anything.

The server listens on the loopback address unless told otherwise. Every request must
name this server in its ``Host`` header (a page of another site that has pointed its
own name at 127.0.0.1, "DNS rebinding", is refused); with ``--host`` every request must
also carry the server's access token. Every request that changes a file must carry the
server's CSRF token (a secret made when the server starts, put into each page it
serves) and, when the browser names where it comes from, come from this server's pages.
"""

from __future__ import annotations

import ipaddress
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
TOKEN_COOKIE = "dhpc_serve_token"
TOKEN_PARAMETER = "token"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD"})
ALLOWED_METHODS = SAFE_METHODS | {"POST"}

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; frame-src 'self'; frame-ancestors 'self'; "
    "form-action 'self'; base-uri 'none'"
)
"""Nothing but this server's own files: no inline script, no other site, no plug-in."""

SECURITY_HEADERS = (
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    # Not "no-referrer": with it a browser names the origin of a form it posts "null".
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
    (b"cache-control", b"no-store"),
)


def is_loopback(host: str) -> bool:
    """``127.0.0.1``, ``::1``, ``localhost``: addresses no other machine can reach."""
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def host_header_name(host: str) -> str:
    """How a browser writes ``host`` in the ``Host`` header: IPv6 in brackets."""
    name = host.strip("[]")
    try:
        if ipaddress.ip_address(name).version == 6:
            return f"[{name}]"
    except ValueError:
        pass
    return name.lower()


@dataclass
class AccessPolicy:
    """The rules of one running server: its names, its secrets."""

    host: str
    port: int
    token: str | None = None
    """Required on every request when the server listens beyond the loopback address."""
    csrf_token: str = field(default_factory=lambda: secrets.token_urlsafe(32))

    @property
    def any_host(self) -> bool:
        """Listening on every address (0.0.0.0, ::): the name is not known, the token guards."""
        try:
            return ipaddress.ip_address(self.host.strip("[]")).is_unspecified
        except ValueError:
            return False

    @property
    def hosts(self) -> frozenset[str]:
        """The ``Host`` headers this server answers to (name:port)."""
        names = set(LOOPBACK_NAMES)
        names.add(host_header_name(self.host))
        return frozenset(f"{name}:{self.port}" for name in names)

    @property
    def origins(self) -> frozenset[str]:
        return frozenset(f"http://{host}" for host in self.hosts)

    def host_allowed(self, header: str | None) -> bool:
        if header is None:
            return False
        value = header.strip().lower()
        if self.any_host and self.token is not None:
            return bool(value)
        return value in self.hosts

    def origin_allowed(self, origin: str | None, host: str | None) -> bool:
        """A change made from this server's own pages (an absent Origin is judged elsewhere)."""
        if origin is None:
            return True
        if origin == "null":
            return False
        if self.any_host and self.token is not None:
            return host is not None and origin == f"http://{host.strip().lower()}"
        return origin in self.origins

    def token_matches(self, given: str | None) -> bool:
        return self.token is None or (
            given is not None and secrets.compare_digest(given.encode(), self.token.encode())
        )

    def csrf_matches(self, given: str | None) -> bool:
        return given is not None and secrets.compare_digest(
            given.encode(), self.csrf_token.encode()
        )


Refusal = Callable[[Scope, int, str], Response]
"""Makes the page for a refused request: (scope, status code, reason key)."""


def plain_refusal(scope: Scope, status: int, reason: str) -> Response:
    return PlainTextResponse(f"{status}: {reason}\n", status_code=status)


class Guard:
    """ASGI middleware: the Host check, the access token, the CSRF check, safe headers."""

    def __init__(self, app: ASGIApp, policy: AccessPolicy, refuse: Refusal = plain_refusal) -> None:
        self.app = app
        self.policy = policy
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_headers(send, SECURITY_HEADERS)
        headers = Headers(scope=scope)
        host = headers.get("host")
        if not self.policy.host_allowed(host):
            # Not this server's name: perhaps a page of another site whose name now points
            # here. It learns nothing, not even which page it asked for.
            await plain_refusal(scope, 421, "this server does not answer to that name")(
                scope, receive, send
            )
            return
        method = scope["method"]
        if method not in ALLOWED_METHODS:
            await plain_refusal(scope, 405, "method not allowed")(scope, receive, send)
            return
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        if self.policy.token is not None:
            response = self._token_response(scope, headers, query)
            if response is not None:
                await response(scope, receive, send)
                return
        if method in SAFE_METHODS:
            await self.app(scope, receive, send)
            return
        if not self.policy.origin_allowed(headers.get("origin"), host) or headers.get(
            "sec-fetch-site"
        ) in ("cross-site", "same-site"):
            await self.refuse(scope, 403, "origin")(scope, receive, send)
            return
        try:
            body = await _read_body(receive)
        except BodyTooLarge:
            await plain_refusal(scope, 413, "request too large")(scope, receive, send)
            return
        given = headers.get(CSRF_HEADER) or _form_value(headers, body, CSRF_FIELD)
        if not self.policy.csrf_matches(given):
            await self.refuse(scope, 403, "csrf")(scope, receive, send)
            return
        await self.app(scope, _replay(body), send)

    def _token_response(
        self, scope: Scope, headers: Headers, query: dict[str, str]
    ) -> Response | None:
        """None when the request carries the token; else a redirect or a refusal."""
        cookie = SimpleCookie()
        cookie.load(headers.get("cookie", ""))
        given_cookie = cookie[TOKEN_COOKIE].value if TOKEN_COOKIE in cookie else None
        bearer = headers.get("authorization", "")
        given_header = bearer[7:] if bearer.lower().startswith("bearer ") else None
        if self.policy.token_matches(given_cookie) or self.policy.token_matches(given_header):
            return None
        given_query = query.get(TOKEN_PARAMETER)
        if scope["method"] in SAFE_METHODS and self.policy.token_matches(given_query):
            # The address printed at start-up: keep the token in a cookie of this server
            # only and take it out of the address bar (and the browser's history).
            rest = urlencode([(k, v) for k, v in query.items() if k != TOKEN_PARAMETER])
            target = scope["path"] + (f"?{rest}" if rest else "")
            response = RedirectResponse(target, status_code=303)
            assert self.policy.token is not None
            response.set_cookie(
                TOKEN_COOKIE, self.policy.token, httponly=True, samesite="strict", path="/"
            )
            return response
        return self.refuse(scope, 401, "token")


def _with_headers(send: Send, extra: Iterable[tuple[bytes, bytes]]) -> Send:
    extra = tuple(extra)

    async def sending(message: Message) -> None:
        if message["type"] == "http.response.start":
            have = {name.lower() for name, _ in message.get("headers", [])}
            message["headers"] = [
                *message.get("headers", []),
                *((name, value) for name, value in extra if name not in have),
            ]
        await send(message)

    return sending


MAX_BODY = 256 * 1024
"""A comment or an approval is a few kilobytes; nothing larger is read."""


class BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Receive:
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _form_value(headers: Headers, body: bytes, name: str) -> str | None:
    if not headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        return None
    return parse_form(body).get(name)


def parse_form(body: bytes) -> dict[str, str]:
    """A URL-encoded form: each name's last value (the pages send each name once)."""
    return dict(parse_qsl(body.decode("utf-8", errors="replace"), keep_blank_values=True))
