"""Links that leave the site, and the hosts the site answers to.

A link sent by mail or printed on a QR code is built from PUBLIC_URL, never from the request:
the Host and X-Forwarded-Host headers are chosen by whoever sends the request, and a reset link
pointing at their server hands them the account. Requests for a host outside TRUSTED_HOSTS
(Flask's own check) are refused with the site's usual 400 page.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Request, abort, current_app, request, url_for
from werkzeug.exceptions import SecurityError
from werkzeug.routing import BuildError, MapAdapter

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


def query_args(*leave_out: str) -> dict[str, str]:
    """The request's query arguments to carry into a link (the next page, a narrower list):
    all but ``leave_out``, and never one named like url_for's own options (``_external``,
    ``_scheme``, ``_anchor``, ``_method``), which url_for would take as its own: a link built
    from ``?_external=1&_scheme=javascript`` would point at a ``javascript:`` address."""
    return {k: v for k, v in request.args.items() if k not in leave_out and not k.startswith("_")}


def external_url(endpoint: str, **values) -> str:
    """The absolute URL of ``endpoint`` under PUBLIC_URL, in or outside a request."""
    base = urlsplit(current_app.config["PUBLIC_URL"])
    adapter = current_app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    current_app.inject_url_defaults(endpoint, values)
    return adapter.build(endpoint, values, force_external=True)


@lru_cache(maxsize=512)  # the app's hooks and views (bound methods compare by their parts)
def _plain_function(func: Callable[..., Any]) -> bool:
    return not inspect.iscoroutinefunction(func)


class Portal(Flask):
    """Flask, answering a request for an unknown host with the site's own 400 page.

    Flask refuses a Host outside TRUSTED_HOSTS while it binds the URL map, which leaves the
    request without one: the error page could not build a single link. Here the request is
    bound to PUBLIC_URL's host instead and marked, and ``refuse_untrusted_host`` (the first
    hook of every request) answers 400 before anything else runs."""

    def ensure_sync(self, func: Callable[..., Any]) -> Callable[..., Any]:
        """Flask's ``ensure_sync`` (documented for overriding), with whether ``func`` is a
        coroutine function remembered: Flask asks it of every hook and view on every request,
        through ``inspect``, some 150 calls a request for an answer that never changes."""
        return func if _plain_function(func) else super().ensure_sync(func)

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


# A stand-in value: an id the ``id`` converter takes (the largest), and text no converter
# quotes.
_STAND_IN = MAX_ID
# Values whose URL form is their text under every converter (RFC 3986's unreserved characters).
_PLAIN = re.compile(r"[A-Za-z0-9._~-]+")


def url_maker(endpoint: str, key: str, **values: Any) -> Callable[[Any], str]:
    """``url_for(endpoint, **values, key=v)`` for the many ``v`` of one page (a link on every
    card): ``url_for`` runs once with a stand-in value, and each value takes its place in that
    URL, so the script root, host and scheme are ``url_for``'s own. A value whose URL form
    might not be its text (anything but an int or unreserved characters), or a URL in which
    the stand-in is not found exactly once, goes through ``url_for`` itself."""
    stand_in: dict[str, Any] = {**values, key: _STAND_IN}
    built = url_for(endpoint, **stand_in)
    head, found, tail = built.partition(str(_STAND_IN))
    if not found or str(_STAND_IN) in tail:
        return lambda value: url_for(endpoint, **values, **{key: value})

    def make(value: Any) -> str:
        text = str(value)
        if type(value) is int or (type(value) is str and _PLAIN.fullmatch(text)):
            return head + text + tail
        return url_for(endpoint, **values, **{key: value})

    return make


def query_url_maker(endpoint: str, **values: Any) -> Callable[..., str]:
    """``url_for(endpoint, **values, **query)`` for the many queries of one page (a link on
    every figure): for each shape of query (its keys in order, and which of them are None)
    ``url_for`` runs once with stand-in values, and each query's values take their places in
    that URL, so the path, the order of the parameters and what becomes of a None are
    ``url_for``'s own. A query with a value whose URL form might not be its text (anything but
    an int or unreserved characters), or whose stand-in URL is not the expected one (a key
    that is part of the path, a key that needs quoting), goes through ``url_for`` itself."""
    stand_in = str(_STAND_IN)
    # shape -> (the URL up to the first value's key, how many values are given), or None
    heads: dict[tuple, tuple[str, int] | None] = {}

    def head_of(shape: tuple) -> tuple[str, int] | None:
        if any(k.startswith("_") for k, _none in shape):
            return None  # url_for's own options (``_anchor``, ``_external``): url_for's work
        stand_ins: dict[str, Any] = {k: None if none else _STAND_IN for k, none in shape}
        try:
            built = url_for(endpoint, **values, **stand_ins)
        except (BuildError, ValueError):  # a key of the path whose converter refuses it
            return None
        given = [k for k, none in shape if not none]
        if not given:
            return None if stand_in in built else (built, 0)
        tail = "&".join(f"{k}={stand_in}" for k in given)
        head = built[: -len(tail)]
        if (
            not built.endswith(tail)
            or not head.endswith(("?", "&"))
            or built.count(stand_in) != len(given)
            or not all(_PLAIN.fullmatch(k) for k in given)
        ):
            return None
        return head, len(given)

    def make(**query: Any) -> str:
        shape = tuple([(k, v is None) for k, v in query.items()])
        if shape in heads:
            found = heads[shape]
        else:
            found = heads[shape] = head_of(shape)
        if found is not None:
            head, given = found
            parts = [
                f"{k}={v}"
                for k, v in query.items()
                if type(v) is int or (type(v) is str and _PLAIN.fullmatch(v))
            ]
            if len(parts) == given:
                return head + "&".join(parts) if given else head
        return url_for(endpoint, **values, **query)

    return make
