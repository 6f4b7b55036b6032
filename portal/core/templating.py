"""Template globals and filters: dates in the city's time zone, display mode, unread count."""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import MutableMapping
from numbers import Number
from typing import Any

from babel.support import NullTranslations
from flask import Flask, current_app, request, url_for
from flask.templating import Environment
from flask_login import current_user
from jinja2 import nodes, pass_eval_context
from jinja2.nodes import EvalContext
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape
from werkzeug.routing import BuildError, MapAdapter

from portal.core.i18n import current_locale, fmt_datetime, ngettext, translations
from portal.core.input import MAX_ID
from portal.core.security import safe_next
from portal.core.urls import query_url_maker, url_maker

# filename → (mtime_ns, size, script root, URL): a file's hash is read, and its URL built, again
# only when the file changed (or the app answers under another root path).
_static_urls: dict[str, tuple[int, int, str, str]] = {}
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
    root = request.script_root if request else ""
    known = _static_urls.get(filename)
    if known is not None and known[:3] == (st.st_mtime_ns, st.st_size, root):
        return known[3]
    with open(path, "rb") as fh:
        version = hashlib.sha256(fh.read()).hexdigest()[:12]
    url = url_for("static", filename=filename, v=version)
    if request:  # outside a request ``url_for`` builds an external URL: not kept
        with _static_lock:
            _static_urls[filename] = (st.st_mtime_ns, st.st_size, root, url)
    return url


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


@pass_eval_context
def _translated(__eval_ctx: EvalContext, __string: str, **variables):
    """``_`` for a string already translated when its template was compiled (below): only
    the finishing touch, with the variables known when the page renders."""
    return _finish(__eval_ctx, __string, variables)


# The request's SCRIPT_NAME and a slash, for the paths worked out when a template is compiled.
URL_ROOT = "url_root"
_GETTEXT_NAMES = frozenset({"_", "gettext"})
_URL_NAMES = frozenset({"url_for", URL_ROOT})


class _CompileTimeConstants(NodeTransformer):
    """Works out, once when a template is compiled, what a page would otherwise work out each
    time it shows them:

    - ``_("fixed text")`` becomes its translation, as text of the template itself: Jinja then
      writes it out with the template's other fixed text, where looking it up cost a dozen
      calls each time. ``_("text %(n)s", n=…)`` keeps a call, to ``_translated``, for its
      variables; anything else (a variable, a plural) is left to the callables above.
    - ``url_for('endpoint', key='fixed value', …)``, every argument fixed, becomes the path
      Werkzeug builds for it, joined when the page renders to the request's ``url_root`` (its
      ``SCRIPT_NAME`` and "/", which is all ``url_for`` adds to a path within a request): a
      ``url_for`` cost some forty calls. Without a request (``url_root`` undefined) the
      page calls ``url_for`` as written, which then builds an external URL as before.

    ``catalogue`` or ``paths`` is None where a template gives those names its own meaning."""

    def __init__(
        self, environment: Environment, catalogue: NullTranslations | None, paths: MapAdapter | None
    ) -> None:
        self.environment = environment
        self.catalogue = catalogue
        self.paths = paths

    def visit_Call(self, node: nodes.Call) -> nodes.Node:
        fn = node.node
        if (
            isinstance(fn, nodes.Name)
            and fn.ctx == "load"
            and node.args
            and all(isinstance(a, nodes.Const) for a in node.args)
            and isinstance(node.args[0].value, str)  # type: ignore[attr-defined]
            and node.dyn_args is None
            and node.dyn_kwargs is None
        ):
            if self.catalogue is not None and fn.name in _GETTEXT_NAMES and len(node.args) == 1:
                return self._translate(node)
            if self.paths is not None and fn.name == "url_for" and len(node.args) == 1:
                found = self._url(node)
                if found is not None:
                    return found
        return self.generic_visit(node)

    def _made(self, node: nodes.Node) -> nodes.Node:
        return node.set_environment(self.environment)

    def _translate(self, node: nodes.Call) -> nodes.Node:
        assert self.catalogue is not None
        text = self.catalogue.ugettext(node.args[0].value)  # type: ignore[attr-defined]
        if node.kwargs:
            kwargs = [self.visit(kw) for kw in node.kwargs]
            name = nodes.Name("_translated", "load", lineno=node.lineno)
            text_node = nodes.Const(text, lineno=node.lineno)
            return self._made(nodes.Call(name, [text_node], kwargs, None, None, lineno=node.lineno))
        if "%" in text:
            try:
                text = text % {}  # "%%" becomes "%", as ``_finish`` does
            except (KeyError, TypeError, ValueError):
                return self.generic_visit(node)  # let the page say what is wrong
        return self._made(nodes.MarkSafeIfAutoescape(nodes.Const(text), lineno=node.lineno))

    def _url(self, node: nodes.Call) -> nodes.Node | None:
        assert self.paths is not None
        endpoint = node.args[0].value  # type: ignore[attr-defined]
        values = {}
        for kw in node.kwargs:
            value = kw.value
            if kw.key.startswith("_") or not isinstance(value, nodes.Const):
                return None  # url_for's own options, or a value known only when rendering
            if not (value.value is None or isinstance(value.value, str | int)):
                return None
            values[kw.key] = value.value
        if endpoint.startswith("."):
            return None  # relative to the blueprint of the request
        try:
            path = self.paths.build(endpoint, values)
        except (BuildError, ValueError, TypeError):
            return None  # the page raises as ``url_for`` would
        # ``url_root + "path"`` if ``url_root`` (never empty: at least "/") else ``url_for(…)``.
        line = node.lineno
        tail = nodes.Const(path.removeprefix("/"), lineno=line)
        joined = nodes.Add(nodes.Name(URL_ROOT, "load", lineno=line), tail, lineno=line)
        root = nodes.Name(URL_ROOT, "load", lineno=line)
        return self._made(nodes.CondExpr(root, joined, node, lineno=line))


def _names_itself(tree: nodes.Template, names: frozenset[str]) -> bool:
    """Whether a template gives one of ``names`` a meaning of its own (a variable, a macro or
    its parameter, an import): then its calls are left to run as written."""
    for node in tree.find_all((nodes.Name, nodes.Macro, nodes.Import, nodes.FromImport)):
        if isinstance(node, nodes.Name):
            if node.ctx != "load" and node.name in names:
                return True
        elif isinstance(node, nodes.Macro):
            if node.name in names:
                return True
        elif isinstance(node, nodes.Import):
            if node.target in names:
                return True
        elif isinstance(node, nodes.FromImport) and any(
            (n[1] if isinstance(n, tuple) else n) in names for n in node.names
        ):
            return True
    return False


class LocalizedEnvironment(Environment):
    """Flask's Jinja environment, compiling each template once per language with its fixed
    strings translated (``_CompileTimeConstants``): the compiled templates are kept apart by
    the reader's language (``cache`` is the current language's), so a page in English never
    reuses a template compiled in Chinese. ``tests/core/test_templating.py`` renders the same
    templates in both languages, one after the other, to hold Jinja to using ``cache`` and
    ``compile`` as here."""

    def __init__(self, app, **options) -> None:
        self._caches: dict[str, MutableMapping] = {}
        # An empty cache of the configured size (an LRU cache, or a dict when unbounded).
        self._empty_cache: Any = None
        super().__init__(app, **options)

    @property
    def cache(self) -> MutableMapping | None:
        if self._empty_cache is None:
            return None  # caching turned off (``cache_size=0``)
        locale = current_locale()
        found = self._caches.get(locale)
        if found is None:
            found = self._caches[locale] = self._empty_cache.copy()
        return found

    @cache.setter
    def cache(self, value: Any) -> None:
        # Jinja's constructor (and ``overlay``) sets an empty cache of the configured size:
        # each language gets a copy of it.
        self._caches = {}
        self._empty_cache = None if value is None else value.copy()

    def _paths(self) -> MapAdapter | None:
        """The app's URL map bound to no host and the root path: ``build`` gives the path a
        request's ``url_for`` puts after its ``SCRIPT_NAME``. None where ``url_for`` adds
        more than that (URL defaults, rules matched by host or subdomain)."""
        app = self.app
        if app.url_default_functions or app.url_map.host_matching:
            return None
        if any(rule.subdomain or rule.host for rule in app.url_map.iter_rules()):
            return None
        return app.url_map.bind("localhost", script_name="/")

    def make_globals(self, d: MutableMapping[str, Any] | None) -> MutableMapping[str, Any]:
        """A template's globals as one plain dict (the environment's, overlaid by the
        template's own) where Jinja makes a ``ChainMap``: every render copies them into its
        context, and every ``{% import %}`` or ``{% from … import %}`` compares the importing
        context's global names with the imported template's — in C for a dict, in Python
        through the ``ChainMap``'s mappings for each of the ~60 names (about 450 calls a
        render and 320 an import). The environment's globals are all set while the app is
        created, before the first template loads, as Jinja asks ("avoid modifying any globals
        after a template is loaded"); ``tests/core/test_templating.py`` checks that a loaded
        template sees every one of them."""
        return {**self.globals, **(d or {})}

    def compile(self, source, name=None, filename=None, raw=False, defer_init=False):
        if isinstance(source, str):
            tree = self.parse(source, name, filename)
            catalogue = None if _names_itself(tree, _GETTEXT_NAMES) else translations()
            paths = None if _names_itself(tree, _URL_NAMES) else self._paths()
            source = _CompileTimeConstants(self, catalogue, paths).visit(tree)
        return super().compile(source, name, filename, raw, defer_init)


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


def select_options(rows, selected=None) -> Markup:
    """The ``<option>``s of a filter's select box from ``(code, name)`` rows (``CodeName``),
    the one whose code is ``selected`` marked: written here, where a template's loop cost
    some twenty calls an option."""
    html = "".join(
        f'<option value="{escape(code)}"{" selected" if code == selected else ""}>'
        f"{escape(name)}</option>"
        for code, name in rows
    )
    return Markup(html)  # noqa: S704  # nosec B704  # every value escaped


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
        gettext=_gettext,
        _=_gettext,
        ngettext=_ngettext,
        pgettext=_pgettext,
        npgettext=_npgettext,
        _translated=_translated,
    )
    app.jinja_env.filters["datetime"] = fmt_datetime
    app.jinja_env.filters["user"] = user_content
    app.jinja_env.filters["stamp"] = stamp
    app.jinja_env.globals["STAND_IN"] = STAND_IN
    app.jinja_env.globals["safe_next"] = safe_next
    app.jinja_env.globals["csrf_field"] = csrf_field
    app.jinja_env.globals["select_options"] = select_options
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
        found = {"locale": current_locale(), "display_mode": display_mode(), "here": "/"}
        if request:
            found["here"] = request.full_path.rstrip("?")
            found[URL_ROOT] = request.script_root + "/"
        return found
