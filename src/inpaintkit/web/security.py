"""Who may talk to the local server: a Host-header check and an Origin check (as Jupyter does).

A server on 127.0.0.1 is reachable from every web page the user opens. Two attacks follow:

* DNS rebinding: ``evil.example`` resolves to 127.0.0.1 after the page loaded, so the page
  reads our API as "same origin". The request then says ``Host: evil.example:8000``: every
  request whose Host is not a name of this machine (``localhost``, ``127.0.0.1``, ``[::1]``,
  the address the server was bound to, or an allowed host) is refused with 403.
* Cross-site requests: a page on ``evil.example`` posts a form to ``/api/jobs``. Browsers send
  an ``Origin`` header with such requests: a state-changing request (POST, PUT, PATCH, DELETE)
  whose Origin is not this server's own (same scheme-less host and port as the Host header)
  or an allowed origin is refused with 403. Requests without Origin (curl, scripts) pass.

Allow more with ``inpaintkit serve --allow-host NAME --allow-origin URL`` (repeatable), the
``INPAINTKIT_ALLOW_HOSTS`` / ``INPAINTKIT_ALLOW_ORIGINS`` environment variables (comma
separated), or ``create_app(allowed_hosts=..., allowed_origins=...)``; ``*`` allows any. A
server bound to a non-loopback address (``--host 0.0.0.0``) also accepts any IP-literal Host
(an IP address cannot be rebound), but names still need ``--allow-host``.
"""

from __future__ import annotations

import ipaddress
import json
import os
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

HOSTS_ENV = "INPAINTKIT_ALLOW_HOSTS"
ORIGINS_ENV = "INPAINTKIT_ALLOW_ORIGINS"
LOCAL_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def from_env(name: str) -> list[str]:
    """Comma-separated values of environment variable ``name`` (empty list when unset)."""
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


def split_host(host: str) -> tuple[str, str]:
    """``"[::1]:8000"`` -> ``("::1", "8000")``; ``"Example.COM"`` -> ``("example.com", "")``."""
    host = host.strip().lower()
    if host.startswith("["):
        name, _, rest = host[1:].partition("]")
        return name, rest.lstrip(":")
    if host.count(":") == 1:
        name, _, port = host.partition(":")
        return name, port
    return host, ""


def _ip(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _origin_key(origin: str) -> str:
    """``"HTTP://Example.com:80/"`` -> ``"http://example.com:80"``."""
    parts = urlsplit(origin.strip().lower())
    return f"{parts.scheme}://{parts.netloc}"


class HostOriginGuard:
    """ASGI middleware enforcing the Host and Origin policy of the module docstring.

    Args:
        app: the ASGI app to protect.
        bind_host: the address the server listens on (``127.0.0.1``, ``0.0.0.0``, a name).
        allowed_hosts: more host names (or ``*``) accepted in the Host header.
        allowed_origins: more origins (``https://tool.example:8443`` or ``*``) accepted on
            state-changing requests.
    """

    def __init__(
        self,
        app: Any,
        *,
        bind_host: str = "127.0.0.1",
        allowed_hosts: Iterable[str] = (),
        allowed_origins: Iterable[str] = (),
    ) -> None:
        self.app = app
        bind = split_host(bind_host)[0]
        self.hosts = set(LOCAL_NAMES) | {split_host(h)[0] for h in allowed_hosts}
        bind_ip = _ip(bind)
        if bind and (bind_ip is None or not bind_ip.is_unspecified):
            self.hosts.add(bind)
        self.any_ip = bind_ip is not None and not bind_ip.is_loopback  # exposed on purpose
        self.origins = {o if o == "*" else _origin_key(o) for o in allowed_origins}

    def host_ok(self, host: str) -> bool:
        """True when a request's Host header names this server."""
        name, _ = split_host(host)
        if "*" in self.hosts or name in self.hosts:
            return True
        ip = _ip(name)
        return ip is not None and (ip.is_loopback or self.any_ip)

    def origin_ok(self, origin: str, host: str) -> bool:
        """True when a state-changing request from ``origin`` may act on this server."""
        if "*" in self.origins:
            return True
        key = _origin_key(origin)
        if key in self.origins:
            return True
        netloc = urlsplit(key).netloc
        return bool(netloc) and netloc == host.strip().lower()  # same origin ("null": no)

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope.get("headers", [])}
        host = headers.get("host", "")
        if not self.host_ok(host):
            await _refuse(
                send,
                f"requests for host {host[:100]!r} are refused (DNS-rebinding protection); "
                "open the page at http://127.0.0.1:PORT/ or start the server with "
                "--allow-host NAME",
            )
            return
        origin = headers.get("origin")
        changes = scope.get("method", "GET").upper() not in _SAFE_METHODS
        if origin is not None and changes and not self.origin_ok(origin, host):
            await _refuse(
                send,
                f"cross-origin request from {origin[:100]!r} refused; start the server with "
                "--allow-origin URL to allow that page",
            )
            return
        await self.app(scope, receive, send)


async def _refuse(send: Any, detail: str) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 403, "headers": headers})
    await send({"type": "http.response.body", "body": body})
