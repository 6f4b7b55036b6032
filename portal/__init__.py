"""Commons (社区议事厅): the app factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import ROOT, load_config
from portal.core.urls import Portal, refuse_untrusted_host


def create_app(config: dict | None = None) -> Flask:
    cfg = load_config(config)
    app = Portal(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "portal" / "static"),
        instance_path=cfg["INSTANCE_PATH"],
    )
    app.config.update(cfg)
    app.config["TESTING"] = cfg["COMMONS_ENV"] == "testing" or cfg.get("TESTING", False)
    # Before every other hook: a request for an unknown host (TRUSTED_HOSTS) goes no further.
    app.before_request(refuse_untrusted_host)
    if cfg["COMMONS_ENV"] == "production":
        # One TLS-terminating proxy in front: trust its X-Forwarded-For and -Proto, and nothing
        # else (its X-Forwarded-Host would let a client choose the host links are built for).
        # Wrapping wsgi_app is Flask's documented way to add middleware; mypy sees a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("portal").setLevel(logging.INFO)

    _init_extensions(app)
    from portal.core import input as input_layer

    input_layer.install(app)  # the ``id`` converter must exist before the routes use it
    _register_blueprints(app)
    _register_cli(app)

    from portal.core import http_cache
    from portal.core.errors import install_error_handlers
    from portal.core.security import install_headers
    from portal.core.templating import install_templating

    install_error_handlers(app)
    connect_signals(app)
    http_cache.install(app)  # before the header hook, so that it sees a signed-in no-store
    install_headers(app)
    install_templating(app)
    return app


def _init_extensions(app: Flask) -> None:
    from portal.core.database import configure_engine
    from portal.core.i18n import install_city_timezone_events, select_locale, select_timezone
    from portal.extensions import babel, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    limiter.init_app(app)
    login_manager.init_app(app)
    install_city_timezone_events()
    from portal.accounts import auth  # registers the user loader

    auth.install(app)
    # Import every model so metadata (and Alembic autogenerate) sees the whole schema.
    import portal.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from portal.accounts import bp as accounts_bp
    from portal.admin import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.audit import bp as audit_bp
    from portal.cases import bp as cases_bp
    from portal.deliberation import bp as deliberation_bp
    from portal.main import bp as main_bp
    from portal.notifications import bp as notifications_bp
    from portal.places import bp as places_bp
    from portal.proposals import bp as proposals_bp
    from portal.residency import bp as residency_bp

    for bp in (
        main_bp,
        accounts_bp,
        places_bp,
        proposals_bp,
        cases_bp,
        deliberation_bp,
        residency_bp,
        notifications_bp,
        admin_bp,
        audit_bp,
        api_bp,
    ):
        app.register_blueprint(bp)


def _register_cli(app: Flask) -> None:
    from portal.cli import register

    register(app)


def connect_signals(app: Flask) -> None:
    """Subscribe each feature to the domain events of those below it (blinker signals declared
    by their publishers). Here, not on import: importing a module connects nothing."""
    from portal.cases.services import install as install_cases

    install_cases(app)
