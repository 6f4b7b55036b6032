"""Template globals and filters: dates in the city's time zone, display mode, unread count."""

from __future__ import annotations

import hashlib
import os
import threading
from numbers import Number

from flask import Flask, current_app, request, url_for
from flask_login import current_user
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup, escape

from portal.core.i18n import current_locale, fmt_datetime, ngettext, translations
from portal.core.input import MAX_ID
from portal.core.security import safe_next
from portal.core.urls import query_url_maker, url_maker

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


def csrf_field(form=None, name: str = "csrf_token") -> Markup:
    """A CSRF token as a hidden input, without an id: a page often holds several forms (the
    header's sign-out, one per card), and WTForms' widget gave each the same id and cost a
    tenth of a millisecond per card to render. Without ``form``, the session's token under
    ``name`` (the form's prefix and "csrf_token"), with no form built just for its token."""
    if form is None:
        from flask_wtf.csrf import generate_csrf

        return _hidden(name, generate_csrf())
    field = form.csrf_token
    return _hidden(field.name, field.current_token)


def _hidden(name: str, value: str) -> Markup:
    # Both escaped, then concatenated (``Markup.format`` costs a ``string.Formatter`` run).
    html = f'<input name="{escape(name)}" type="hidden" value="{escape(value)}">'
    return Markup(html)  # noqa: S704  # nosec B704


def _escaped(value):
    """A variable of a translated string as ``Markup % value`` would take it: numbers as they
    are (for ``%d``), anything else escaped."""
    return value if isinstance(value, Number) else escape(value)


def _finish(eval_ctx: EvalContext, rv: str, variables: dict):
    """Jinja's "new style" gettext finishing touch: Markup under autoescape (its variables
    escaped), then the string always formatted with its variables ("%%" becomes "%" even
    without any). The variables are escaped here rather than through ``Markup.__mod__``,
    which wraps each in a helper object: the same text for a fifth of the calls."""
    if eval_ctx.autoescape:
        # Our own catalogue's text, marked safe as Jinja's i18n extension does.
        if variables:
            rv = rv % {k: _escaped(v) for k, v in variables.items()}
        elif "%" in rv:
            rv = rv % variables
        return Markup(rv)  # noqa: S704  # nosec B704
    if variables or "%" in rv:
        return rv % variables
    return rv


# ``pass_eval_context``, not ``pass_context``: only the autoescape setting is needed, and a
# context-passing callable called inside a loop gets a derived copy of the context each time.
@pass_eval_context
def _gettext(__eval_ctx: EvalContext, __string: str, **variables):
    return _finish(__eval_ctx, translations().ugettext(__string), variables)


@pass_eval_context
def _ngettext(__eval_ctx: EvalContext, __singular: str, __plural: str, __num: int, **variables):
    variables.setdefault("num", __num)
    return _finish(__eval_ctx, translations().ungettext(__singular, __plural, __num), variables)


@pass_eval_context
def _pgettext(__eval_ctx: EvalContext, __string_ctx: str, __string: str, **variables):
    variables.setdefault("context", __string_ctx)
    return _finish(__eval_ctx, translations().upgettext(__string_ctx, __string), variables)


@pass_eval_context
def _npgettext(
    __eval_ctx: EvalContext,
    __string_ctx: str,
    __singular: str,
    __plural: str,
    __num: int,
    **variables,
):
    variables.setdefault("context", __string_ctx)
    variables.setdefault("num", __num)
    rv = translations().unpgettext(__string_ctx, __singular, __plural, __num)
    return _finish(__eval_ctx, rv, variables)


def waiting(seconds: float) -> Markup:
    """How long something has waited, in the unit a person would say: minutes under an hour,
    hours under a day, then days ("3 天", not "72 小时"). A function, not a macro: a queue shows
    it on every card, and a macro call costs a new context each time."""
    s = max(int(seconds), 0)
    if s < 3600:
        text = ngettext("waiting %(num)d minute", "waiting %(num)d minutes", s // 60)
    elif s < 86400:
        text = ngettext("waiting %(num)d hour", "waiting %(num)d hours", s // 3600)
    else:
        text = ngettext("waiting %(num)d day", "waiting %(num)d days", s // 86400)
    return Markup(text)  # noqa: S704  # nosec B704  # our catalogue's text and a number


# A stand-in for a row's id in HTML rendered once for many rows (a comment's report, reply and
# delete forms differ only by its number): one above the largest id a URL takes (``MAX_ID``),
# so ``url_for`` builds links with it while no id, and no number in a URL the site answers,
# contains it; ``stamp`` puts each row's id in its place.
STAND_IN = MAX_ID + 1
_STAND_IN_TEXT = str(STAND_IN)


def stamp(html: Markup, ident: int) -> Markup:
    """``html``, rendered once with ``STAND_IN``, for the row ``ident``: a few calls where
    rendering it again cost a macro call and an escape per interpolation."""
    if not isinstance(html, Markup):
        raise TypeError("stamp() takes rendered HTML (Markup)")
    return Markup(str.replace(html, _STAND_IN_TEXT, str(int(ident))))  # noqa: S704  # nosec B704


def written_html(html: str) -> Markup:
    """HTML written in Python (a card, a line, a chart) as a template takes it: the one place
    code marks its own text safe. Every value in ``html`` must have been escaped (``escape``,
    ``user_content``) and every fixed word must come from our catalogue, as the template's
    ``_`` assumes of it."""
    return Markup(html)  # noqa: S704  # nosec B704


def user_content(text) -> Markup:
    """People's own words (a title, a comment, a name, a note) marked as theirs: such text is
    in whatever language its author wrote, which the language check of pages leaves aside."""
    if text is None or text == "":
        return Markup("")
    # Escaped here, then concatenated: ``Markup.format`` goes through ``string.Formatter`` and
    # cost more than the rest of a list card's title.
    html = '<span class="user-content">' + str(escape(text)) + "</span>"
    return Markup(html)  # noqa: S704  # nosec B704


def install_templating(app: Flask) -> None:
    # The same "new style" callables Jinja's i18n extension builds (``install_gettext_callables``
    # with ``newstyle=True``), written out so that a translated string costs one lookup: the
    # extension's wrappers add a ``Context.call`` and ``_`` a ``Context.resolve`` to each of the
    # hundred or more strings a page shows. ``tests/core/test_i18n.py`` holds them to its output.
    app.jinja_env.newstyle_gettext = True  # type: ignore[attr-defined]
    app.jinja_env.globals.update(
        gettext=_gettext, _=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext
    )
    app.jinja_env.filters["datetime"] = fmt_datetime
    app.jinja_env.filters["user"] = user_content
    app.jinja_env.filters["stamp"] = stamp
    app.jinja_env.globals["STAND_IN"] = STAND_IN
    app.jinja_env.globals["safe_next"] = safe_next
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.globals["static_url"] = static_url
    app.jinja_env.globals["waiting"] = waiting
    app.jinja_env.globals["url_maker"] = url_maker
    app.jinja_env.globals["query_url_maker"] = query_url_maker
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
