"""HTTP caching of the public pages and the public API reads: the app keeps no copies itself.

A GET or HEAD of an endpoint in PUBLIC answered 200 carries an ETag (a hash of the body), and
a request whose If-None-Match names it is answered 304 without the body. Who may keep a copy:

- an anonymous request (no session cookie, no Authorization header) whose answer sets no
  cookie: ``public, max-age=MAX_AGE, stale-while-revalidate=STALE, stale-if-error=STALE``,
  so browsers and the nginx micro-cache (deploy/nginx/commons.conf) may keep it briefly;
- anyone else on those endpoints (a session cookie of someone not signed in, say, whose
  pages may hold a form token or a flash message): ``private, no-cache``, only their own
  browser keeps it, and asks each time (an unchanged page costs a 304);
- a signed-in person: ``no-store`` (core.security), whatever the endpoint.

``Vary: Cookie, Accept-Language, Authorization``: a page's language comes from the ``lang``
cookie or Accept-Language, its text size from the ``display`` cookie, and a bearer token makes
an API read someone's own.

How old a copy may be: MAX_AGE + STALE is 30 s in a browser; a copy it got from nginx may
already be up to 30 s old there (nginx serves a stale copy only within these same limits,
while it refreshes it or while the app fails), so content the committee hides is gone from
every cache within a minute, stale copies included.
"""

from __future__ import annotations

from flask import Flask, Response, current_app, request

PUBLIC = {
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
    "dashboard.index",
    "dashboard.cases",
    "dashboard.methods",
    # Open data: the page and the Atom feeds (the streamed exports set their own headers).
    "opendata.index",
    "opendata.proposals_feed",
    "opendata.community_proposals_feed",
    "opendata.community_cases_feed",
    "opendata.agency_cases_feed",
    "opendata.community_meetings_feed",
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
MAX_AGE = 5
STALE = 25
# Together never more than half of the promised minute: nginx may add up to 30 s of its own.
PUBLIC_CACHE_CONTROL = (
    f"public, max-age={MAX_AGE}, stale-while-revalidate={STALE}, stale-if-error={STALE}"
)
VARY = ("Cookie", "Accept-Language", "Authorization")
# The request headers that can make an answer a 304 (or a 412): without one, the answer stands
# as it is and Werkzeug's ``make_conditional`` has nothing to decide.
CONDITIONAL = (
    "HTTP_IF_NONE_MATCH",
    "HTTP_IF_MODIFIED_SINCE",
    "HTTP_IF_MATCH",
    "HTTP_IF_UNMODIFIED_SINCE",
)


def anonymous_request() -> bool:
    """No session cookie and no Authorization header: the request of anyone at all."""
    return (
        "Authorization" not in request.headers
        and current_app.config["SESSION_COOKIE_NAME"] not in request.cookies
    )


def install(app: Flask) -> None:
    """Register before core.security's header hook: after-request hooks run last-registered
    first, so this one sees the ``no-store`` that hook gives a signed-in answer."""

    @app.after_request
    def _http_cache(response: Response) -> Response:
        if request.method not in ("GET", "HEAD") or request.endpoint not in PUBLIC:
            return response
        if response.status_code != 200 or response.direct_passthrough or response.is_streamed:
            return response
        if "no-store" in (response.headers.get("Cache-Control") or ""):
            return response  # a signed-in answer: never kept, never revalidated
        response.vary.update(VARY)
        if anonymous_request() and "Set-Cookie" not in response.headers:
            response.headers["Cache-Control"] = PUBLIC_CACHE_CONTROL
        else:
            response.headers["Cache-Control"] = "private, no-cache"
        response.add_etag()
        environ = request.environ
        if any(name in environ for name in CONDITIONAL):
            response.make_conditional(request)  # a 304 in place when If-None-Match names it
        return response
