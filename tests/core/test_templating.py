"""Templates are compiled once per language, with their fixed strings translated then
(``portal.core.templating.LocalizedEnvironment``): a page must still come out exactly as the
callables that translate while rendering would write it, in the reader's language."""

from __future__ import annotations

import pytest
from flask import render_template_string

from portal.core.i18n import force_locale
from portal.core.templating import LocalizedEnvironment


def test_the_app_compiles_its_templates_per_language(app):
    assert isinstance(app.jinja_env, LocalizedEnvironment)


def test_one_file_template_serves_each_reader_in_their_own_language(client):
    """Jinja keeps compiled templates in ``Environment.cache``; were it to stop reading it
    through the attribute, the language compiled first would be served to everybody."""
    for _round in range(2):
        zh = client.get("/privacy", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        en = client.get("/privacy", headers={"Accept-Language": "en"}).get_data(as_text=True)
        assert "登录" in zh and "Sign in" not in zh
        assert "Sign in" in en and "登录" not in en
        assert 'lang="zh-Hans"' in zh and 'lang="en"' in en


def test_each_language_has_its_own_compiled_copy(app, client):
    client.get("/privacy", headers={"Accept-Language": "zh-CN"})
    client.get("/privacy", headers={"Accept-Language": "en"})
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        zh = app.jinja_env.get_template("base.html")
        with force_locale("en"):
            en = app.jinja_env.get_template("base.html")
        assert zh is not en
        assert app.jinja_env.get_template("base.html") is zh  # kept, not compiled again


def test_a_fixed_string_becomes_text_of_the_compiled_template(app):
    with app.test_request_context("/"), force_locale("zh_Hans"):
        code = app.jinja_env.compile("<b>{{ _('Search') }}</b>", raw=True)
    assert "<b>搜索</b>" in code  # written out with the template's own text, no call left
    assert "'_'" not in code and "gettext" not in code


# Each is rendered twice: as written (translated while compiling) and through a variable
# holding ``_`` (translated while rendering, by the callables the templates had before).
SNIPPETS = [
    "{{ _('Search') }}",
    "{{ _('Search') ~ '<i>' }}",
    "<p title=\"{{ _('Search') }}\">{{ gettext('Sign in') }}</p>",
    "{{ _('Untranslated <b> & 100%% sure') }}",
    "{{ _('%(n)d of %(cap)d places', n=3, cap=9) }}",
    "{{ _('Hello %(name)s', name=who) }}",
    "{% set s = _('Search') %}{{ s|upper }}{{ s|length }}",
    "{% macro m(label=_('Search')) %}[{{ label }}]{% endmacro %}{{ m() }}{{ m('<x>') }}",
    "{% autoescape false %}{{ _('Hello %(name)s', name=who) }}{{ _('a %% b') }}{% endautoescape %}",
    "{{ ngettext('%(num)d time', '%(num)d times', 2) }}",
]


@pytest.mark.parametrize("snippet", SNIPPETS)
@pytest.mark.parametrize("locale", ["zh_Hans", "en"])
def test_translated_when_compiled_renders_as_translated_when_rendered(app, snippet, locale):
    runtime = snippet.replace("_(", "later(").replace("gettext(", "later(")
    with app.test_request_context("/"), force_locale(locale):
        compiled = render_template_string(snippet, who="<script>")
        rendered = render_template_string(
            "{% set later = _ %}" + runtime.replace("nlater(", "ngettext("), who="<script>"
        )
    assert compiled == rendered
    if "autoescape false" not in snippet:
        assert "<script>" not in compiled


def test_a_template_that_names_gettext_itself_is_left_as_written(app):
    with app.test_request_context("/"), force_locale("zh_Hans"):
        assert render_template_string("{% set _ = 'mine' %}{{ _ }}") == "mine"
        own = "{% macro _(s) %}<{{ s }}>{% endmacro %}{{ _('Search') }}"
        assert render_template_string(own) == "<Search>"
        assert render_template_string("{% macro x(_) %}{{ _ }}{% endmacro %}{{ x('y') }}") == "y"


URLS = [
    "{{ url_for('cases.index') }}",
    "{{ url_for('main.home') }}|{{ url_for('dashboard.index') }}",
    "{{ url_for('static', filename='css/main.css') }}",
    "{{ url_for('accounts.login', next=None) }}",
    "{{ url_for('cases.index', q='a b&c<', page=2) }}",
    "{{ url_for('proposals.community_list', code='110101001001') }}",
    "{{ url_for('cases.index', _anchor='x') }}",
    "<a href=\"{{ url_for('accounts.register') }}\">"
    "{% set u = url_for('desks.search') %}{{ u }}</a>",
]


@pytest.mark.parametrize("snippet", URLS)
@pytest.mark.parametrize("base_url", ["http://localhost/", "http://localhost/mounted/here"])
def test_a_fixed_url_worked_out_when_compiled_is_what_url_for_builds(app, snippet, base_url):
    runtime = "{% set later = url_for %}" + snippet.replace("url_for(", "later(")
    with app.test_request_context("/", base_url=base_url):
        compiled = render_template_string(snippet)
        assert compiled == render_template_string(runtime)
    if "mounted" in base_url:
        assert "/mounted/here/" in compiled


def test_a_fixed_url_is_text_of_the_compiled_template(app):
    with app.test_request_context("/"):
        code = app.jinja_env.compile("<a href='{{ url_for(\"cases.index\") }}'>", raw=True)
    assert "'cases'" in code and "url_root" in code


def test_without_a_request_a_fixed_url_is_built_by_url_for(app, monkeypatch):
    """Outside a request ``url_for`` builds external URLs (or says it cannot); the path
    worked out when compiling must not replace that with a bare path. (The same holds in a
    macro imported without the page's context, which sees no ``url_root`` either.)"""
    with app.app_context():
        template = app.jinja_env.from_string("{{ url_for('cases.index') }}")
        with pytest.raises(RuntimeError):
            template.render()
    monkeypatch.setitem(app.config, "SERVER_NAME", "commons.example")
    with app.app_context():  # the context binds its URL adapter when pushed
        shown = template.render()
    assert shown == "http://commons.example/cases"


def test_a_template_that_names_url_for_itself_is_left_as_written(app):
    with app.test_request_context("/"):
        own = "{% macro url_for(e) %}[{{ e }}]{% endmacro %}{{ url_for('cases.index') }}"
        assert render_template_string(own) == "[cases.index]"
        assert render_template_string("{% set url_root = 'x/' %}{{ url_for('cases.index') }}") == (
            "/cases"
        )


def test_a_static_url_follows_the_root_path_the_app_answers_under(app):
    from portal.core.templating import static_url

    with app.test_request_context("/"):
        plain = static_url("css/main.css")
    with app.test_request_context("/", base_url="http://localhost/mounted"):
        mounted = static_url("css/main.css")
    with app.test_request_context("/"):
        again = static_url("css/main.css")
    assert plain.startswith("/static/css/main.css?v=")
    assert mounted == "/mounted" + plain
    assert again == plain


def test_every_loaded_template_sees_the_environment_globals(app, client):
    """Templates hold their globals as one dict taken when they load
    (``LocalizedEnvironment.make_globals``): a global the app added later would be missing
    from the templates loaded before it. Pages that import macros are loaded first, then
    every cached template must hold every global of the environment, as the same object."""
    for path in ("/", "/privacy", "/cases", "/login", "/register"):
        assert client.get(path).status_code == 200
    env = app.jinja_env
    loaded = [t for cache in env._caches.values() for t in cache.values()]
    assert len(loaded) > 5
    for template in loaded:
        assert type(template.globals) is dict
        missing = [k for k, v in env.globals.items() if template.globals.get(k, env) is not v]
        assert missing == [], template.name


def test_a_template_loaded_with_globals_of_its_own_keeps_them_to_itself(app):
    with app.test_request_context("/"):
        env = app.jinja_env
        own = env.from_string("{{ extra }} {{ STAND_IN }}", globals={"extra": "mine"})
        other = env.from_string("{{ extra }}.")
        assert own.render() == f"mine {env.globals['STAND_IN']}"
        assert other.render() == "."
        assert "extra" not in env.globals
