"""Every private name of another library that Commons relies on, each tested here so that an
upgrade which renames or changes it fails this file instead of the running site. Each has no
public equivalent that does the same job (those that had one now use it: SQLAlchemy's
``get_execution_options()`` for ``_execution_options``, WTForms' ``Meta.get_translations`` for
Flask-WTF's ``_get_translations``, ``flask_babel.get_locale`` for ``g._flask_babel``).

- Flask-Login's ``g._login_user`` (portal/api/__init__.py): the user of an API request is the
  bearer token's, or anonymous for a write without a token even when a session cookie is sent.
  ``login_user`` would write the session (and send a cookie back); Flask-Login's
  ``request_loader`` is consulted only after the session's user, so it cannot ignore the cookie.
- SQLAlchemy's ``Select._for_update_arg`` (portal/core/database.py): whether a SELECT locks
  rows, so the lazy transaction begins before it. No public accessor; compiling the statement
  to look for FOR UPDATE would cost more than the round trip it saves.
- SQLAlchemy's ``Select._independent_ctes`` (portal/core/database.py): the data-modifying CTEs
  added with ``add_cte()``, which make a SELECT a write. No public accessor.
- Flask-SQLAlchemy's ``flask_sqlalchemy.session._app_ctx_id`` (tests/conftest.py): the scope of
  the session the tests bind to one connection, the same as the extension's own.
- Werkzeug's ``LocalProxy._get_current_object()`` (``current_user._get_current_object()`` in
  views and ``current_app._get_current_object()``) is public despite its underscore: Flask's
  documentation names it as the way to get the object behind a proxy. Checked here too.
"""

from __future__ import annotations

from flask import current_app, g
from flask_login import current_user
from sqlalchemy import column, insert, select, table

from portal.core.database import _writes

things = table("things", column("id"), column("name"))


def test_flask_login_reads_the_request_user_from_g_login_user(app):
    with app.test_request_context("/api/v1/me"):
        user = object.__new__(type("Someone", (), {"is_authenticated": True}))
        g._login_user = user
        assert current_user._get_current_object() is user
    with app.test_request_context("/api/v1/me"):
        g._login_user = app.login_manager.anonymous_user()
        assert not current_user.is_authenticated


def test_sqlalchemy_select_keeps_its_locking_in_for_update_arg():
    assert select(things)._for_update_arg is None
    assert select(things).with_for_update()._for_update_arg is not None
    assert _writes(select(things).with_for_update())
    assert not _writes(select(things))


def test_sqlalchemy_select_keeps_added_ctes_in_independent_ctes():
    cte = insert(things).values(name="x").returning(things.c.id).cte("added")
    stmt = select(cte.c.id).add_cte(cte)
    assert [c.element for c in stmt._independent_ctes] == [cte.element]
    assert _writes(stmt)
    plain = select(things.c.id).cte("plain")
    assert not _writes(select(plain.c.id).add_cte(plain))


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
