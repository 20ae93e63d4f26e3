"""Who may use the desk, and the headers every answer carries.

:class:`Guard` wraps the app (pure ASGI, so it costs little per request):

- a loopback-bound desk without a token or proxy answers only requests that
  name a loopback host, so a web page cannot reach it by DNS rebinding;
- with ``--token``, every request presents it (a cookie set by visiting
  ``/?token=...`` once, or ``Authorization: Bearer ...``);
- with ``--identity_header``, every request carries the proxy's header;
- every answer gets a strict Content-Security-Policy (scripts and styles
  from the desk itself only, no inline script, no framing) and
  ``nosniff``; the archive route sets its own, stricter policy.

CSRF: a decision is a POST carrying the page's token (form field ``csrf`` or
header ``X-CSRF-Token``), which a page from another origin cannot read; a
request whose ``Origin`` or ``Sec-Fetch-Site`` says it came from elsewhere is
refused as well.
"""

from __future__ import annotations

import hmac
from http.cookies import CookieError, SimpleCookie
from urllib.parse import parse_qsl, urlencode

from starlette.datastructures import Headers
from starlette.responses import PlainTextResponse, RedirectResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from desk.config import DeskConfig, is_loopback

__all__ = ["CSP", "TOKEN_COOKIE", "Guard", "same_origin", "same_secret"]

TOKEN_COOKIE = "newswatch_desk_token"
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),  # no-referrer would make form POSTs Origin: null
    (b"x-frame-options", b"DENY"),
    (b"cross-origin-opener-policy", b"same-origin"),
    (b"cross-origin-resource-policy", b"same-origin"),
]


def _host_name(host: str) -> str:
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def same_secret(given: str, expected: str) -> bool:
    """Constant-time comparison of a presented secret (any text, even non-ASCII)."""
    return hmac.compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8"))


def same_origin(headers: Headers) -> bool:
    """Whether a state-changing request came from the desk's own pages."""
    site = headers.get("sec-fetch-site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = headers.get("origin")
    if origin is None:  # not a browser, or an old one: the CSRF token still has to match
        return True
    return origin.split("://", 1)[-1] == headers.get("host", "")


class Guard:
    """ASGI middleware: access checks and security headers (see the module docstring)."""

    def __init__(self, app: ASGIApp, config: DeskConfig) -> None:
        self.app = app
        self.config = config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self._refusal(scope)
        if refusal is not None:
            await refusal(scope, receive, self._with_headers(send))
            return
        await self.app(scope, receive, self._with_headers(send))

    def _refusal(self, scope: Scope):
        config = self.config
        headers = Headers(scope=scope)
        unguarded = config.loopback_only and not config.token and not config.identity_header
        if unguarded and not is_loopback(_host_name(headers.get("host", ""))):
            return PlainTextResponse("this desk answers on its loopback address only", 421)
        if config.token:
            presented = self._presented_token(headers)
            if presented is None or not same_secret(presented, config.token):
                query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
                given = query.pop("token", None)
                if given is not None and same_secret(given, config.token):
                    return self._set_cookie(scope["path"], query)
                return PlainTextResponse(
                    "this desk needs its token: open it once as /?token=<token>", 401
                )
        if config.identity_header and not headers.get(config.identity_header, "").strip():
            return PlainTextResponse(
                f"no reviewer identity: expected the {config.identity_header} header", 401
            )
        return None

    @staticmethod
    def _presented_token(headers: Headers) -> str | None:
        auth = headers.get("authorization", "")
        if auth.lower().startswith("bearer "):
            return auth[7:].strip()
        cookie = SimpleCookie()
        try:
            cookie.load(headers.get("cookie", ""))
        except CookieError:  # a malformed cookie header is no token
            return None
        morsel = cookie.get(TOKEN_COOKIE)
        return morsel.value if morsel is not None else None

    def _set_cookie(self, path: str, query: dict[str, str]):
        target = path + ("?" + urlencode(query) if query else "")
        response = RedirectResponse(target, status_code=303)
        response.set_cookie(TOKEN_COOKIE, self.config.token or "", httponly=True, samesite="strict")
        return response

    def _with_headers(self, send: Send) -> Send:
        async def wrapped(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                if b"cache-control" not in names:
                    headers.append((b"cache-control", b"no-store"))
                headers.extend(h for h in _HEADERS if h[0] not in names)
                message = {**message, "headers": headers}
            await send(message)

        return wrapped
