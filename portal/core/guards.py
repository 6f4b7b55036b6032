"""Route guards. Every view carries one (``__guard__``); a test walks the URL map to prove it."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from flask import abort, redirect, request, url_for
from flask_login import current_user

from portal.core.errors import error_response, wants_json


def public(view: Callable) -> Callable:
    # The guard a view declares, read by the test that walks every route; a function takes no
    # attribute the type checker knows of.
    view.__guard__ = "public"  # type: ignore[attr-defined]
    return view


def _unauthenticated():
    if wants_json():
        return error_response(401)
    return redirect(url_for("accounts.login", next=request.full_path.rstrip("?")))


def login_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return _unauthenticated()
        return view(*args, **kwargs)

    # The guard a view declares, read by the test that walks every route; a function takes no
    # attribute the type checker knows of.
    wrapper.__guard__ = "login"  # type: ignore[attr-defined]
    return wrapper


# Who is an administrator is the roles' rule (``roles.permissions.is_admin``), which the app
# factory hands in here (core imports no higher layer); until then nobody is.
_is_admin: Callable[[object], bool] | None = None


def set_admin_check(check: Callable[[object], bool]) -> None:
    global _is_admin
    _is_admin = check


def admin_required(view: Callable) -> Callable:
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            return _unauthenticated()
        if _is_admin is None or not _is_admin(current_user):
            abort(403)
        return view(*args, **kwargs)

    # The guard a view declares, read by the test that walks every route; a function takes no
    # attribute the type checker knows of.
    wrapper.__guard__ = "admin"  # type: ignore[attr-defined]
    return wrapper
