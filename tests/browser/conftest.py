"""Browser fixtures: a live server on its own database, headless Chromium, an axe-core check.

The live server runs the real app (demo data loaded, migrations applied) in a thread, on SQLite
in a temporary file, or, when TEST_DATABASE_URL is set, on a PostgreSQL database named after
that one with ``_browser`` appended. Tests drive Debian's Chromium through Playwright and check
every page they reach with axe-core, in both display modes.

Without Chromium every browser test is skipped, unless REQUIRE_BROWSER=1 (as in CI), when they
fail instead.
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
import sqlalchemy as sa
from axe_playwright_python.sync_playwright import Axe
from flask import Flask, current_app
from playwright.sync_api import Locator, Page, Response, expect, sync_playwright
from werkzeug.serving import WSGIRequestHandler, make_server

from portal.core import clock
from tests.conftest import reset_postgres
from tools.totp_code import fresh_code

MISSING = "Chromium not installed: apt-get install chromium"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PASSWORD = "commons-demo-2026"
SEVERE = ("serious", "critical")
TIMEOUT_MS = 10_000


def chromium_path() -> str | None:
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    return shutil.which("chromium")


def browser_required() -> bool:
    return os.environ.get("REQUIRE_BROWSER") == "1"


def pytest_collection_modifyitems(config, items):
    """No Chromium: skip the browser tests, or let them fail when REQUIRE_BROWSER=1."""
    if chromium_path() or browser_required():
        return
    skip = pytest.mark.skip(reason=MISSING)
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def db():
    """Replaces the per-test rollback of tests/conftest.py: browser tests reach their own live
    server over HTTP and never touch the shared test app or its database."""
    yield None


# --- the live server ----------------------------------------------------------------------


def _create_postgres_database(url: sa.URL) -> None:
    engine = sa.create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            exists = conn.scalar(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"),
                {"name": url.database},
            )
            if not exists:
                name = conn.dialect.identifier_preparer.quote(url.database)
                conn.execute(sa.text(f"CREATE DATABASE {name}"))
    finally:
        engine.dispose()


def browser_database_url(tmp_path_factory) -> str:
    """SQLite in a temporary file, or ``<TEST_DATABASE_URL's database>_browser``, emptied."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        return f"sqlite:///{tmp_path_factory.mktemp('browser-db') / 'browser.sqlite3'}"
    url = sa.make_url(base)
    url = url.set(database=f"{url.database}_browser")
    _create_postgres_database(url)
    rendered = url.render_as_string(hide_password=False)
    reset_postgres(rendered)
    return rendered


def build_live_app(tmp_path_factory) -> Flask:
    from flask_migrate import upgrade

    from portal import create_app
    from portal.demo import load_demo
    from portal.extensions import db as _db
    from portal.extensions import limiter

    # One Limiter serves every app in the process, and init_app with RATELIMIT_ENABLED=False
    # switches it off for all of them. Keep its state for the other tests' app and exempt only
    # this one.
    limiter_was_enabled = limiter.enabled
    app = create_app(
        {
            "COMMONS_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": browser_database_url(tmp_path_factory),
            "SECRET_KEY": "browser-secret-" + secrets.token_hex(8),
            "RATELIMIT_ENABLED": False,
            "RATELIMIT_STORAGE_URI": "memory://",
            "SERVER_NAME": None,
            "MAIL_ECHO": False,
        }
    )
    limiter.enabled = limiter_was_enabled
    limiter.request_filter(lambda: current_app._get_current_object() is app)
    with app.app_context():
        upgrade()
        load_demo()
        _db.session.commit()
        _db.session.remove()
    return app


class _QuietRequestHandler(WSGIRequestHandler):
    def log_request(self, code="-", size="-"):
        """No access log; errors are still logged."""


@dataclass
class LiveServer:
    url: str
    app: Flask


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    app = build_live_app(tmp_path_factory)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=f"http://127.0.0.1:{server.server_port}", app=app)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        from portal.extensions import db as _db

        with app.app_context():
            _db.engine.dispose()


# --- the browser --------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium, or None when it is missing (then ``new_tab`` fails the test)."""
    path = chromium_path()
    if path is None:
        yield None
        return
    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


_axe = Axe()


def _axe_report(violations: list[dict]) -> str:
    lines = []
    for v in violations:
        lines.append(f"{v['id']} [{v['impact']}]: {v['help']} ({v.get('helpUrl', '')})")
        for node in v["nodes"]:
            lines.append(f"    target {node['target']}: {node.get('html', '')[:200]}")
            summary = (node.get("failureSummary") or "").replace("\n", " / ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


@dataclass
class Tab:
    """One browser tab (in its own context: its own cookies) with checking helpers."""

    page: Page
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.page.on("pageerror", lambda err: self.problems.append(f"page error: {err}"))
        self.page.on("console", self._console)

    def _console(self, message) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            self.problems.append(f"CSP: {message.text}")

    # navigation

    def visit(self, path: str, status: int = 200) -> Response:
        """Open a page, check its status, check it with axe in both display modes."""
        response = self.page.goto(path)
        assert response is not None, path
        assert response.status == status, f"GET {path}: {response.status}"
        self.check_a11y()
        return response

    def submit(self, button: Locator, status: int = 200) -> Response:
        """Click a submit button, wait for the page it leads to (after redirects), check it."""
        with self.page.expect_navigation() as navigation:
            button.click()
        response = navigation.value
        assert response is not None
        assert response.status == status, f"{response.url}: {response.status}"
        self.check_a11y()
        return response

    def sign_in(self, email: str, password: str = DEMO_PASSWORD) -> None:
        """Through the real sign-in form; staff answer the second step with the demo's
        authenticator code."""
        self.visit("/login")
        self.page.locator("#email").fill(email)
        self.page.locator("#password").fill(password)
        self.submit(self.main_button(":has(#password)"))
        if "/login/two-factor" in self.page.url:
            # The live server runs here: its clock may be a frozen one (``clock.freeze``).
            self.page.locator("#code").fill(fresh_code(email, at=clock.now().timestamp()))
            self.submit(self.main_button(":has(#code)"))
        assert "/login" not in self.page.url, f"sign-in failed for {email}"
        # In the header's menu, folded away on a phone.
        expect(self.page.locator("form[action='/logout'] button")).to_have_count(1)

    def follow(self, link: Locator) -> None:
        """Click a link, wait for the page it leads to, check it like every other page."""
        with self.page.expect_navigation() as navigation:
            link.click()
        response = navigation.value
        assert response is not None
        assert response.status == 200, f"{response.url}: {response.status}"
        self.check_a11y()

    def main_button(self, form: str = "") -> Locator:
        """The submit button of the (only, or the ``form``-selected) form in <main>."""
        return self.page.locator(f"main form{form} button[type=submit]")

    # page facts

    @property
    def html_lang(self) -> str:
        return self.page.locator("html").get_attribute("lang") or ""

    @property
    def display_mode(self) -> str:
        classes = self.page.locator("html").get_attribute("class") or ""
        match = re.search(r"\bdisplay-(\w+)\b", classes)
        assert match, f"<html class={classes!r}> names no display mode"
        return match.group(1)

    # accessibility

    def check_a11y(self) -> None:
        """axe-core on the page as served, then again in the other display mode.

        The display mode is only the class on <html> (all of it is CSS), so the other mode is
        checked by switching that class in place; the real toggle is exercised by the tests.
        """
        assert not self.problems, "\n".join(self.problems)
        served = self.display_mode
        self._axe(served)
        other = "large" if served == "standard" else "standard"
        self._set_display_class(other)
        try:
            self._axe(other)
        finally:
            self._set_display_class(served)

    def _set_display_class(self, mode: str) -> None:
        self.page.evaluate(
            """mode => {
                const c = document.documentElement.classList;
                c.remove("display-standard", "display-large");
                c.add("display-" + mode);
            }""",
            mode,
        )

    def _axe(self, mode: str) -> None:
        results = _axe.run(self.page).response
        where = f"{self.page.url} ({mode} display)"
        # Make sure axe really ran (a CSP could block it): it reports what passed.
        assert results.get("testEngine", {}).get("name") == "axe-core", f"no axe on {where}"
        assert results.get("passes"), f"axe-core checked nothing on {where}"
        severe = [v for v in results["violations"] if v.get("impact") in SEVERE]
        if severe:
            pytest.fail(
                f"axe-core: serious or critical violations on {where}:\n{_axe_report(severe)}",
                pytrace=False,
            )


@pytest.fixture
def new_tab(browser, live_server):
    """new_tab(locale="zh-CN") → a Tab in a fresh browser context (cookies of its own)."""
    contexts = []

    def _new(locale: str = "zh-CN") -> Tab:
        if browser is None:
            pytest.fail(MISSING, pytrace=False)
        context = browser.new_context(
            base_url=live_server.url, locale=locale, viewport={"width": 1280, "height": 900}
        )
        context.set_default_timeout(TIMEOUT_MS)
        contexts.append(context)
        return Tab(context.new_page())

    yield _new
    for context in contexts:
        context.close()
