"""Links that leave the site, and the hosts the site answers to.

A link sent by mail or printed on a QR code is built from PUBLIC_URL, never from the request:
the Host and X-Forwarded-Host headers are chosen by whoever sends the request, and a reset link
pointing at their server hands them the account. Requests for a host outside TRUSTED_HOSTS
(Flask's own check) are refused with the site's usual 400 page.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app, request, url_for
from werkzeug.exceptions import SecurityError
from werkzeug.routing import MapAdapter

from portal.core.input import MAX_ID
from portal.core.security import log_event

UNTRUSTED_HOST = "commons.untrusted_host"

# Paths whose rest is a secret: an invitation to register, an address confirmation, a password
# reset link, an Open311 filing's token. Access logs show them as ``/reset/[token]`` (gunicorn's
# logger in deploy/gunicorn.conf.py, and the nginx map in deploy/nginx/commons.conf); a test
# walks the URL map and the nginx map so that a new route with a token in its path cannot be
# left out.
SECRET_PATH_PREFIXES = ("/register/", "/confirm/", "/reset/", "/open311/v2/tokens/")


def loggable_path(path: str) -> str:
    """``path`` as an access log may keep it: a token in it replaced by ``[token]``."""
    for prefix in SECRET_PATH_PREFIXES:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + "[token]"
    return path


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` under PUBLIC_URL, in or outside a request."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


# A stand-in id for ``id_url``: the largest the ``id`` converter accepts.
_STAND_IN = MAX_ID


def id_url(endpoint: str, key: str, **values: Any) -> Callable[[int], str]:
    """``url_for(endpoint, **{key: id}, **values)`` for many ids, as lists link each card:
    ``url_for`` is asked once, with a stand-in id, and each id is written in its place. The
    link is Flask's own (the script root, the host when external, the converter's format);
    only the id changes, and an ``id`` converter writes an id as its digits."""
    values[key] = _STAND_IN
    url = url_for(endpoint, **values)
    head, found, tail = url.partition(str(_STAND_IN))
    if not found or str(_STAND_IN) in tail:  # the stand-in must be the id, and only it
        raise ValueError(f"{endpoint}: no single place for {key!r} in {url!r}")
    return lambda id_: f"{head}{id_:d}{tail}"


class Portal(Flask):
    """Flask, answering a request for an unknown host with the site's own 400 page.

    Flask refuses a Host outside TRUSTED_HOSTS while it binds the URL map, which leaves the
    request without one: the error page could not build a single link. Here the request is
    bound to PUBLIC_URL's host instead and marked, and ``refuse_untrusted_host`` (the first
    hook of every request) answers 400 before anything else runs."""

    def create_url_adapter(self, request: Request | None) -> MapAdapter | None:
        host = request.environ.get("HTTP_HOST") if request is not None else None
        if host and host != host.lower():
            # Host names are case-insensitive (RFC 9110 §4.2.3), Werkzeug's check is not, and
            # TRUSTED_HOSTS holds them lowercased: compare, link and log in lower case.
            request.environ["HTTP_HOST"] = host.lower()  # type: ignore[union-attr]
        try:
            return super().create_url_adapter(request)
        except SecurityError:
            if request is None:
                raise
            public_host = urlsplit(self.config["PUBLIC_URL"]).netloc
            request.environ[UNTRUSTED_HOST] = request.environ.get("HTTP_HOST", "")
            request.environ["HTTP_HOST"] = public_host
            return super().create_url_adapter(request)


def refuse_untrusted_host() -> None:
    if UNTRUSTED_HOST in request.environ:
        log_event("untrusted_host", host=repr(request.environ[UNTRUSTED_HOST][:100]))
        abort(400)
