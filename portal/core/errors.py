"""Error pages in both languages, and JSON errors under /api/."""

from __future__ import annotations

import logging

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from portal.core.security import log_event

log = logging.getLogger(__name__)


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/open311/")


def _messages() -> dict[int, tuple[str, str, str]]:
    return {
        400: ("bad_request", _("Bad request"), _("The request could not be understood.")),
        401: ("unauthenticated", _("Sign-in required"), _("Please sign in to continue.")),
        403: ("forbidden", _("Not allowed"), _("You do not have permission to do this.")),
        404: ("not_found", _("Page not found"), _("There is nothing at this address.")),
        405: ("method_not_allowed", _("Method not allowed"), _("This action is not available.")),
        409: ("conflict", _("Conflict"), _("The request conflicts with the current state.")),
        413: (
            "payload_too_large",
            _("Too large"),
            _("What you sent is larger than this site accepts."),
        ),
        429: (
            "rate_limited",
            _("Too many requests"),
            _("You have made too many requests. Please wait a little and try again."),
        ),
        500: (
            "server_error",
            _("Something went wrong"),
            _("An unexpected error occurred. It has been logged; please try again later."),
        ),
    }


def error_response(
    status: int, code: str | None = None, message: str | None = None, fields: dict | None = None
):
    default_code, title, text = _messages().get(status, _messages()[400 if status < 500 else 500])
    if wants_json():
        body: dict = {"code": code or default_code, "message": message or text}
        if fields:
            body["fields"] = fields
        resp = jsonify({"error": body})
        resp.status_code = status
        return resp
    html = render_template("errors/error.html", status=status, title=title, message=message or text)
    return html, status


def install_error_handlers(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(err: CSRFError):
        log_event("csrf_failure", reason=err.description)
        return error_response(
            400,
            "csrf_failed",
            _(
                "The form expired or was sent from another site. "
                "Please reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(err: HTTPException):
        status = err.code or 500
        if status == 403:
            log_event("forbidden")
        if status == 429:
            return error_response(429)
        if status == 405:
            response = error_response(405)
            if not isinstance(response, tuple):
                response.headers["Allow"] = ", ".join(sorted(err.valid_methods or ()))
            else:
                response = (*response, {"Allow": ", ".join(sorted(err.valid_methods or ()))})
            return response
        if status in _messages():
            return error_response(status)
        return error_response(400 if status < 500 else 500)

    if app.testing:
        return  # tests see the real traceback instead of the 500 page

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        from portal.extensions import db

        db.session.rollback()
        return error_response(500)
