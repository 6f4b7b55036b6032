"""Every private name of another library that Commons relies on, each tested here so that an
upgrade which renames or changes it fails this file instead of the running site. Each has no
public equivalent that does the same job (those that had one now use it: SQLAlchemy's
``get_execution_options()`` for ``_execution_options``, WTForms' ``Meta.get_translations`` for
Flask-WTF's ``_get_translations``, ``flask_babel.get_locale`` for ``g._flask_babel``).

- Flask-Login's ``g._login_user`` (portal/api/__init__.py): the user of an API request is the
  bearer token's, or anonymous for a write without a token even when a session cookie is sent.
  ``login_user`` would write the session (and send a cookie back); Flask-Login's
  ``request_loader`` is consulted only after the session's user, so it cannot ignore the cookie.
- Flask-SQLAlchemy's ``flask_sqlalchemy.session._app_ctx_id`` (tests/conftest.py): the scope of
  the session the tests bind to one connection, the same as the extension's own.
- Werkzeug's ``LocalProxy._get_current_object()`` (``current_user._get_current_object()`` in
  views and ``current_app._get_current_object()``) is public despite its underscore: Flask's
  documentation names it as the way to get the object behind a proxy. Checked here too.
"""

from __future__ import annotations

from flask import current_app, g
from flask_login import current_user


def test_flask_login_reads_the_request_user_from_g_login_user(app):
    with app.test_request_context("/api/v1/me"):
        user = object.__new__(type("Someone", (), {"is_authenticated": True}))
        g._login_user = user
        assert current_user._get_current_object() is user
    with app.test_request_context("/api/v1/me"):
        g._login_user = app.login_manager.anonymous_user()
        assert not current_user.is_authenticated


def test_flask_sqlalchemy_scopes_its_session_by_app_ctx_id(app):
    from flask_sqlalchemy.session import _app_ctx_id

    with app.app_context():
        outer = _app_ctx_id()
        assert _app_ctx_id() == outer  # one session per app context ...
        with app.app_context():
            assert _app_ctx_id() != outer  # ... and another for another context


def test_werkzeug_proxies_give_their_object_by_get_current_object(app):
    with app.app_context():
        assert current_app._get_current_object() is app
