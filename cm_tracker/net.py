"""The client's address, as trusted configuration allows."""

from __future__ import annotations

from flask import request


def client_address() -> str:
    """The peer address. X-Forwarded-For is honoured only through ProxyFix (PROXY_COUNT), never read raw here."""
    return request.remote_addr or "unknown"
