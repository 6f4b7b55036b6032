"""Security headers, safe redirects and the security event log."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, g, request

security_log = logging.getLogger("portal.security")

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)


def _loggable_path() -> str:
    """The path, or its route where the path carries a secret (a mailed link's token, which
    for registration also spells out the address and name)."""
    rule = request.url_rule
    if rule is not None and "<token>" in rule.rule:
        return rule.rule
    return request.path


def log_event(event: str, **fields) -> None:
    """Write a security event. Fields must never hold secrets or personal data (ids only)."""
    fields.setdefault("ip", request.remote_addr if request else None)
    fields.setdefault("path", _loggable_path() if request else None)
    details = " ".join(f"{k}={v}" for k, v in sorted(fields.items()) if v is not None)
    security_log.info("%s %s", event, details)


def safe_next(target: str | None, fallback: str = "/") -> str:
    """Only same-site relative paths are followed: no scheme, no host, no backslash tricks."""
    if not target:
        return fallback
    target = target.strip()
    if "\\" in target or any(ord(ch) < 32 for ch in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target


def same_origin() -> bool:
    """Was this request sent by a page of this site? Browsers say so in Sec-Fetch-Site, or
    else in Origin (sent with every cross-site POST); a request with neither is not from a
    browser page of another site."""
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None:
        return site in ("same-origin", "none")
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return origin is None
    return urlsplit(origin).netloc == request.host


def install_headers(app: Flask) -> None:
    defaults = [
        ("Content-Security-Policy", CSP),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Permissions-Policy", "geolocation=(), camera=(), microphone=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if app.config.get("HSTS"):
        defaults.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    defaults_lower = [(k.lower(), k, v) for k, v in defaults]

    @app.after_request
    def _headers(response: Response) -> Response:
        h = response.headers
        # Those a view set stay; one pass over the headers instead of a search for each.
        present = {k.lower() for k, _v in h.items()}
        for lower, k, v in defaults_lower:
            if lower not in present:
                h.add(k, v)
        from flask_login import current_user

        # A signed-in copy, or a write whose statement checked the bearer token, is answered
        # without building the user: asking would build it.
        if g.get("signed_in_response") or (current_user and current_user.is_authenticated):
            h["Cache-Control"] = "no-store"
            h["Vary"] = "Cookie"
        return response
