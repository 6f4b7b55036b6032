"""A short-lived cache of public pages for anonymous visitors.

Only GET requests without a session cookie or bearer token, to the public endpoints listed in
CACHEABLE (pages and the public API reads), are served from it; the key includes the path,
the language and the display mode.
Entries live PAGE_CACHE_SECONDS (default 5) and are dropped at once when this process commits
a change; other processes catch up within the TTL. When an entry expires, one request renders it
again while the others are served the expired copy (marked "stale") for up to one more TTL.
A page that sets a cookie is never stored.

Whatever PAGE_CACHE_SECONDS says, no copy is served once it is MAX_AGE_SECONDS (60) old, stale
window included: the TTL is capped at half of that. A proposal the committee hides for personal
data disappears from every process within a minute.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections import OrderedDict

from flask import Flask, Response, g, request
from sqlalchemy import event
from sqlalchemy.orm import Session

from portal.core.i18n import select_locale

CACHEABLE = {
    "main.home",
    "places.districts",
    "places.district",
    "places.community",
    "proposals.community_list",
    "proposals.district_list",
    "proposals.show",
    "cases.index",
    "cases.show",
    "deliberation.log",
    # The public API reads: what an anonymous client gets is the same for every one of them.
    "api.proposals_list",
    "api.proposal",
    "api.comments",
    "api.cases_list",
    "api.case",
    "api.communities",
    "api.community",
    "api.moderation_log",
    "api.categories",
    "api.agencies",
}
MAX_ENTRIES = 2000
# The oldest a copy served from here may be (TTL plus the stale window of one more TTL).
MAX_AGE_SECONDS = 60


class PageStore:
    """Rendered responses, least recently used dropped first; safe for a gthread worker's
    threads. An entry is (expires, generation, status, headers, body)."""

    def __init__(self, max_entries: int):
        self.entries: OrderedDict[tuple, tuple[float, int, int, list, bytes]] = OrderedDict()
        self.max_entries = max_entries
        self._lock = threading.Lock()

    def get(self, key: tuple):
        with self._lock:
            hit = self.entries.get(key)
            if hit is not None:
                self.entries.move_to_end(key)
            return hit

    def drop(self, key: tuple) -> None:
        with self._lock:
            self.entries.pop(key, None)

    def put(self, key: tuple, ttl: float, generation: int, response: Response) -> None:
        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "set-cookie"]
        entry = (
            time.monotonic() + ttl,
            generation,
            response.status_code,
            headers,
            response.get_data(),
        )
        with self._lock:
            self.entries[key] = entry
            self.entries.move_to_end(key)
            while len(self.entries) > self.max_entries:
                self.entries.popitem(last=False)


def storable(response: Response) -> bool:
    return (
        response.status_code == 200
        and "Set-Cookie" not in response.headers
        and not response.direct_passthrough
    )


_store = PageStore(MAX_ENTRIES)
_entries = _store.entries
_generation = [0]
_refreshing: set[tuple] = set()  # keys being rendered again after expiry
_lock = threading.Lock()


# next() of a count is atomic under the GIL, where += on the list could lose a bump to a race.
_generations = itertools.count(1)


def changed() -> None:
    """A change was committed (through the session, or by a statement on a connection of its
    own): this process's copies are not served any more."""
    _generation[0] = next(_generations)


def _bump(_session) -> None:
    changed()


def _key() -> tuple | None:
    if request.method != "GET" or request.endpoint not in CACHEABLE:
        return None
    if "Authorization" in request.headers:
        return None
    from flask import current_app

    if current_app.config["SESSION_COOKIE_NAME"] in request.cookies:
        return None  # a session may hold a signed-in user or a form token: render afresh
    display = "large" if request.cookies.get("display") == "large" else "standard"
    return (request.full_path, select_locale(), display)


def install(app: Flask) -> None:
    ttl = min(app.config.get("PAGE_CACHE_SECONDS", 0), MAX_AGE_SECONDS / 2)
    if ttl <= 0:
        return
    event.listen(Session, "after_commit", _bump)

    @app.before_request
    def _serve_cached():
        key = _key()
        if key is None:
            return None
        g.page_cache_key = key
        hit = _store.get(key)
        if hit is None:
            return None
        expires, generation, status, headers, body = hit
        if generation != _generation[0]:  # something changed here: never serve the old page
            _store.drop(key)
            return None
        state = "hit"
        if expires < time.monotonic():
            # Expired: one request renders it again while the others keep getting the page
            # they just had, for at most one more TTL. Without this, every thread renders the
            # same expensive page at once and everything queued behind them waits.
            with _lock:
                refreshing = key in _refreshing
                if not refreshing:
                    _refreshing.add(key)
            if not refreshing or expires + ttl < time.monotonic():
                g.page_cache_refreshing = key
                return None
            state = "stale"
        response = Response(body, status=status, headers=headers)
        response.headers["X-Page-Cache"] = state
        return response

    @app.teardown_request
    def _done_refreshing(_exc=None):
        key = g.pop("page_cache_refreshing", None)
        if key is not None:
            with _lock:
                _refreshing.discard(key)

    @app.after_request
    def _keep(response: Response) -> Response:
        key = g.pop("page_cache_key", None)
        if key is None or response.headers.get("X-Page-Cache") in ("hit", "stale"):
            return response
        if not storable(response):
            return response
        _store.put(key, ttl, _generation[0], response)
        response.headers["X-Page-Cache"] = "miss"
        return response
