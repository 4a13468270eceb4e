"""Who may talk to this server: the ``Host`` allow-list, ``Origin`` and forms.

An ASGI middleware in front of every route (HTTP and websocket) that refuses:

* a ``Host`` this server does not answer to (DNS rebinding: a page on ``evil.example``
  whose name the attacker re-points at 127.0.0.1 reaches this server with
  ``Host: evil.example``, and to the browser it is then the page's own origin).
  Allowed are ``localhost`` and its subdomains, loopback addresses, the address the
  server is bound to (any address literal when it is bound to all of them: a browser
  that asked for an address literal was not misled by a name), and ``--allow-host``.
* an ``Origin`` other than the server itself (the scheme and the allowed ``Host`` the
  request came with) or one of ``--allow-origin``: on websockets, a browser page of
  another site must not drive or watch a session; on HTTP, no other site's page may
  create, upload, open or delete anything.
* an unsafe request (POST, PUT, PATCH, DELETE) with a content type an HTML form can
  send (``text/plain``, ``application/x-www-form-urlencoded``, ``multipart/form-data``)
  and no ``X-Buddyscope-…`` header: cross-site forms need no permission from this
  server, and browsers that send no ``Origin`` exist; a JSON body or a custom header
  makes a cross-site browser ask first (a CORS preflight this server never grants).

Clients without ``Origin`` (scripts, the CLI, curl) are not browser pages: they pass the
``Origin`` check but not the form rule.
"""

from __future__ import annotations

import ipaddress
import json
import logging
from collections.abc import Iterable
from typing import Any, Final
from urllib.parse import urlsplit

from starlette.requests import HTTPConnection

from .wslink import LINK, Link

log = logging.getLogger("buddyscope.guard")

#: Host names that always mean this machine.
LOCAL_NAMES: Final = ("localhost",)
#: Content types a cross-site HTML form (or a "simple" fetch) may send without asking.
FORM_TYPES: Final = frozenset(
    {"text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}
)
UNSAFE_METHODS: Final = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: A header of this prefix proves the request did not come from a plain cross-site form.
CUSTOM_HEADER_PREFIX: Final = b"x-buddyscope-"
WILDCARD_BINDS: Final = ("0.0.0.0", "::", "")


def host_name(host: str) -> str:
    """The name part of a ``Host`` header or netloc, lower case, without port or
    brackets (``[::1]:8000`` → ``::1``)."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[1 : host.find("]")] if "]" in host else host
    if host.count(":") == 1:
        host = host.split(":", 1)[0]
    return host.rstrip(".")


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


class HostPolicy:
    """Which ``Host`` names and ``Origin`` values this server accepts."""

    def __init__(
        self, bind: str = "127.0.0.1", hosts: Iterable[str] = (), origins: Iterable[str] = ()
    ) -> None:
        self.any_address = bind in WILDCARD_BINDS
        bound = [] if self.any_address else [host_name(bind)]
        self.names = frozenset({*LOCAL_NAMES, *bound, *(host_name(h) for h in hosts)})
        self.origins = frozenset(o.rstrip("/").lower() for o in origins)

    def host_allowed(self, host: str) -> bool:
        name = host_name(host)
        if name in self.names or name.endswith(".localhost"):
            return True
        ip = _ip(name)
        return ip is not None and (ip.is_loopback or self.any_address)

    def origin_allowed(self, origin: str | None, host: str, scheme: str) -> bool:
        """``origin`` (None: not a browser page) is this server as the request reached
        it, or one of the extra allowed origins."""
        if origin is None:
            return True
        origin = origin.strip().lower().rstrip("/")
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        secure = scheme in ("https", "wss")
        expected = "https" if secure else "http"
        return parts.scheme == expected and parts.netloc == host.strip().lower()


def peer_of(conn: HTTPConnection) -> str:
    """The client's address: what its quotas count by (Settings.max_*_per_client).  Behind
    a reverse proxy every client has the proxy's address."""
    return conn.client.host if conn.client is not None else ""


def _headers(scope: Any) -> dict[bytes, bytes]:
    return {k.lower(): v for k, v in scope.get("headers", [])}


def _media_type(value: bytes) -> str:
    return value.decode("latin-1").split(";", 1)[0].strip().lower()


class Guard:
    """The ASGI middleware (see the module docstring)."""

    def __init__(self, app: Any, policy: HostPolicy) -> None:
        self.app = app
        self.policy = policy

    def problem(self, scope: Any) -> tuple[int, str] | None:
        """(status, sentence) refusing the request, or None to let it through."""
        headers = _headers(scope)
        host = headers.get(b"host", b"").decode("latin-1")
        if not self.policy.host_allowed(host):
            return 400, (
                f"this server does not answer to the host name {host_name(host)[:80]!r}; "
                "start it with --allow-host NAME to allow it"
            )
        raw_origin = headers.get(b"origin")
        origin = raw_origin.decode("latin-1") if raw_origin is not None else None
        if not self.policy.origin_allowed(origin, host, scope.get("scheme", "http")):
            return 403, (
                f"requests from pages of another origin ({(origin or '')[:80]}) are refused; "
                "start the server with --allow-origin ORIGIN to allow one"
            )
        if scope["type"] == "http" and scope["method"] in UNSAFE_METHODS:
            kind = headers.get(b"content-type")
            custom = any(k.startswith(CUSTOM_HEADER_PREFIX) for k in headers)
            if kind is not None and _media_type(kind) in FORM_TYPES and not custom:
                return 415, (
                    f"{_media_type(kind)} is what any web page's form can send: send JSON "
                    "(Content-Type: application/json) or add a header X-Buddyscope-Client "
                    "(any value), e.g. curl -H 'X-Buddyscope-Client: curl'"
                )
        return None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        refused = self.problem(scope)
        if refused is None:
            if scope["type"] == "websocket":
                scope = {**scope, LINK: Link.of(send)}
            await self.app(scope, receive, send)
            return
        status, sentence = refused
        log.warning("refused %s %s: %s", scope["type"], scope.get("path", ""), sentence)
        if scope["type"] == "websocket":
            # Before accept: the handshake is answered with 403, the browser sees 1006.
            await send({"type": "websocket.close", "code": 1008, "reason": sentence[:120]})
            return
        body = json.dumps({"detail": sentence}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})
