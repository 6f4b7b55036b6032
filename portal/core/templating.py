"""Template globals and filters: dates in the city's time zone, display mode, unread count."""

from __future__ import annotations

import hashlib
import os
import threading

from babel import Locale
from babel.support import NullTranslations
from flask import Flask, current_app, g, request, url_for
from flask_babel import get_locale, get_translations
from flask_login import current_user
from markupsafe import Markup

from portal.core.i18n import current_locale, fmt_datetime
from portal.core.security import safe_next

# filename → (mtime_ns, size, version): a file's hash is read again only when it changed.
_static_versions: dict[str, tuple[int, int, str]] = {}
_static_lock = threading.Lock()


def static_url(filename: str) -> str:
    """The URL of a file under the static folder with ``?v=`` a hash of its content.

    A changed file gets a new URL, so browsers may keep each one for a year: nginx answers
    ``/static/`` requests that carry ``v`` with ``Cache-Control: public, max-age=31536000,
    immutable`` (deploy/nginx/commons.conf)."""
    path = os.path.join(current_app.static_folder or "", filename)
    try:
        st = os.stat(path)
    except OSError:
        return url_for("static", filename=filename)  # a missing file: Flask's own 404
    known = _static_versions.get(filename)
    if known is not None and known[:2] == (st.st_mtime_ns, st.st_size):
        version = known[2]
    else:
        with open(path, "rb") as fh:
            version = hashlib.sha256(fh.read()).hexdigest()[:12]
        with _static_lock:
            _static_versions[filename] = (st.st_mtime_ns, st.st_size, version)
    return url_for("static", filename=filename, v=version)


def display_mode() -> str:
    if current_user.is_authenticated:
        return current_user.display_mode
    return "large" if request.cookies.get("display") == "large" else "standard"


def _translations() -> NullTranslations:
    """Flask-Babel's translations for the current locale, looked up once per request and
    locale instead of on each of the hundred or so strings a page translates (each lookup
    goes through the domain's cache under the locale's name). Keyed by the locale, so that
    ``force_locale`` gets its own."""
    if not g:
        return get_translations()
    locale = get_locale()
    cache: dict[Locale | None, NullTranslations] | None = g.get("commons_translations")
    if cache is None:
        cache = g.commons_translations = {}
    found = cache.get(locale)
    if found is None:
        found = cache[locale] = get_translations()
    return found


def csrf_field(form=None, name: str = "csrf_token") -> Markup:
    """A CSRF token as a hidden input, without an id: a page often holds several forms (the
    header's sign-out, one per card), and WTForms' widget gave each the same id and cost a
    tenth of a millisecond per card to render. Without ``form``, the session's token under
    ``name`` (the form's prefix and "csrf_token"), with no form built just for its token."""
    if form is None:
        from flask_wtf.csrf import generate_csrf

        return Markup('<input name="{}" type="hidden" value="{}">').format(name, generate_csrf())
    field = form.csrf_token
    return Markup('<input name="{}" type="hidden" value="{}">').format(
        field.name, field.current_token
    )


def install_templating(app: Flask) -> None:
    # Added to the environment by Jinja's i18n extension, which Flask-Babel loads.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True,
    )
    app.jinja_env.filters["datetime"] = fmt_datetime
    app.jinja_env.globals["safe_next"] = safe_next
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.globals["static_url"] = static_url
    from portal.core import clock

    # The globals that read the features (labels, permissions, unread notes) are the
    # composition layer's to add (``portal.install_template_globals``): core imports no feature.
    app.jinja_env.globals["now"] = clock.now

    @app.context_processor
    def _globals():
        return {
            "locale": current_locale(),
            "display_mode": display_mode(),
            "here": request.full_path.rstrip("?") if request else "/",
        }
