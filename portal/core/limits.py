"""Rate-limit helpers shared by pages and the API: limits read from config at request time,
and a per-person key."""

from __future__ import annotations

from flask import current_app, request
from flask_login import current_user


def configured(name: str):
    """A limit string looked up in the config on every request (tests and deployments tune it)."""
    return lambda: current_app.config[name]


def user_key() -> str:
    """Per person when signed in, per address otherwise."""
    return f"user:{current_user.id}" if current_user.is_authenticated else request.remote_addr
