"""Both catalogues are complete, not fuzzy, and compiled (they ship in the repository)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_catalogues_are_complete_and_compiled():
    result = subprocess.run(
        [sys.executable, "tools/i18n.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:]


def test_pages_render_in_both_languages(client):
    zh = client.get("/", headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
    en = client.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "登录" in zh and "Sign in" not in zh
    assert "Sign in" in en and "登录" not in en


def test_dates_show_in_the_city_time_zone(app):
    from datetime import UTC, datetime

    from portal.core.i18n import fmt_datetime, force_locale

    with app.test_request_context("/"), force_locale("en"):
        shown = fmt_datetime(datetime(2026, 1, 1, 16, 30, tzinfo=UTC), "short")
    # 16:30 UTC is 00:30 the next day in Asia/Shanghai; to the minute.
    assert shown == "2 Jan 2026, 00:30"
    with app.test_request_context("/"), force_locale("zh_Hans"):
        assert fmt_datetime(datetime(2026, 1, 1, 16, 30, 59, tzinfo=UTC)) == "2026年1月2日 00:30"
        assert fmt_datetime(datetime(2026, 1, 1, 16, 30, tzinfo=UTC), "date") == "2026年1月2日"


def test_a_page_formatter_writes_dates_as_fmt_datetime_does(app):
    from datetime import UTC, datetime

    from portal.core.i18n import datetime_formatter, fmt_datetime, force_locale

    dates = [datetime(2026, 1, 1, 16, 30, tzinfo=UTC), datetime(2026, 7, 9, 3, 5, tzinfo=UTC)]
    for locale in ("en", "zh_Hans"):
        with app.test_request_context("/"), force_locale(locale):
            for fmt in ("short", "medium", "date"):
                once = datetime_formatter(fmt)
                assert [once(d) for d in dates] == [fmt_datetime(d, fmt) for d in dates]


def test_a_stamp_puts_each_id_in_place_of_the_stand_in_and_takes_only_markup(app):
    import pytest
    from flask import render_template_string
    from markupsafe import Markup

    from portal.core.input import MAX_ID
    from portal.core.templating import STAND_IN, stamp

    with app.test_request_context("/"):
        html = render_template_string(
            "{% set s %}<a href=\"{{ url_for('deliberation.edit_comment', comment_id=STAND_IN) }}\""
            ' id="c-{{ STAND_IN }}">{{ label }}</a>{% endset %}{{ s|stamp(7) }} {{ s|stamp(12) }}',
            label="<b>",
        )
    assert html == (
        '<a href="/comments/7/edit" id="c-7">&lt;b&gt;</a> '
        '<a href="/comments/12/edit" id="c-12">&lt;b&gt;</a>'
    )
    # No id a URL takes holds the stand-in's digits.
    assert STAND_IN > MAX_ID and str(STAND_IN) not in str(MAX_ID)
    with pytest.raises(TypeError):
        stamp(f"<a id={STAND_IN}>", 1)  # type: ignore[arg-type]
    assert stamp(Markup("<i>%s</i>") % STAND_IN, 3) == Markup("<i>3</i>")


def test_templates_translate_in_a_forced_locale_too(app):
    """Templates look translations up once per locale and request; force_locale still wins."""
    from flask import render_template_string

    from portal.core.i18n import force_locale

    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert render_template_string("{{ _('Search') }}") == "搜索"
        with force_locale("en"):
            assert render_template_string("{{ _('Search') }}") == "Search"
        assert render_template_string("{{ _('Search') }}") == "搜索"


def test_form_library_messages_follow_the_request_language(app):
    """WTForms' own messages come from its catalogue, loaded once per language and shared."""
    from wtforms import StringField
    from wtforms.validators import DataRequired

    from portal.core.forms import FlaskForm
    from portal.core.i18n import force_locale
    from portal.core.templating import csrf_field

    class Probe(FlaskForm):  # the base of every form of the site
        name = StringField(validators=[DataRequired()])

        class Meta:
            csrf = False

    for lang, expected in (
        ("zh_Hans", "该字段是必填字段。"),
        ("en", "This field is required."),
        ("zh_Hans", "该字段是必填字段。"),
    ):
        with app.test_request_context("/"), force_locale(lang):
            form = Probe()
            assert not form.validate()
            assert form.name.errors == [expected]
            # A token without a form: the same hidden input a form would render.
            assert 'name="act-csrf_token" type="hidden" value="' in csrf_field(
                name="act-csrf_token"
            )


def test_form_library_catalogue_is_read_once_per_language(app):
    """Flask-WTF read WTForms' catalogue from disk for every request that built a form."""
    from portal.core.forms import wtforms_translations
    from portal.core.i18n import force_locale

    with app.test_request_context("/"), force_locale("zh_Hans"):
        first = wtforms_translations()
    with app.test_request_context("/"), force_locale("zh_Hans"):
        assert wtforms_translations() is first
    assert first is not None and first.gettext("This field is required.") == "该字段是必填字段。"


def test_forced_locale_translates_in_its_language_and_restores_the_request_one(app):
    """The request's translations are looked up once (``i18n.translations``'s memo); a
    forced language (a mail in the recipient's) gets its own, and the page's comes back."""
    from portal.core.i18n import current_locale, force_locale, gettext

    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert gettext("Sign in") == "Sign in" and current_locale() == "en"
        with force_locale("zh_Hans"):
            assert gettext("Sign in") == "登录" and current_locale() == "zh_Hans"
            with force_locale("en"):
                assert gettext("Sign in") == "Sign in" and current_locale() == "en"
            assert gettext("Sign in") == "登录" and current_locale() == "zh_Hans"
        assert gettext("Sign in") == "Sign in" and current_locale() == "en"


def test_nothing_forces_a_locale_around_the_translations_memo():
    """Flask-Babel's own ``force_locale`` would leave ``translations()``'s memo in the
    request's language: every caller goes through ``portal.core.i18n.force_locale``."""
    root = Path(__file__).resolve().parents[2]
    pattern = re.compile(r"from flask_babel import [^\n]*\bforce_locale\b")
    offenders = [
        str(path.relative_to(root))
        for folder in ("portal", "tests")
        for path in (root / folder).rglob("*.py")
        if pattern.search(path.read_text(encoding="utf-8")) and path.name != "i18n.py"
    ]
    assert offenders == []


def test_option_lists_are_the_rows_names_in_the_readers_language_from_one_statement(app, db):
    """A filter bar's options read (code, name) as the objects' own ``name`` would say it,
    each list filtered and ordered as asked, every list from one statement."""
    from sqlalchemy import event, select

    from portal.core.i18n import code_name_lists, force_locale, option_lists
    from portal.places.models import District
    from portal.proposals.models import Category
    from portal.roles.models import Agency

    inactive = db.session.scalars(select(Category).order_by(Category.id)).first()
    inactive.active = False  # the where of the first list leaves it out
    city_id = db.session.scalar(select(District.city_id))
    for code, zh, en in (("110198", "甲区", "District A"), ("110199", "乙区", "District B")):
        db.session.add(District(city_id=city_id, code=code, name_zh=zh, name_en=en))
    db.session.flush()
    categories = db.session.scalars(
        select(Category).where(Category.active).order_by(Category.position.desc(), Category.id)
    ).all()
    agencies = db.session.scalars(select(Agency).order_by(Agency.code)).all()
    every_district = db.session.scalars(
        select(District).order_by(District.name_zh.desc(), District.id)
    ).all()
    assert categories and agencies and len(every_district) >= 3
    left_out = every_district[0]  # the third list's where leaves it out
    districts = every_district[1:]
    lists = option_lists(
        (Category, (Category.position.desc(), Category.id), Category.active),
        (Agency, (Agency.code,), None),
        (District, (District.name_zh.desc(), District.id), District.code != left_out.code),
    )
    statements = []

    def count(*_args):
        statements.append(1)

    with app.test_request_context("/"):
        for lang in ("en", "zh_Hans"):
            with force_locale(lang):
                event.listen(db.engine, "before_cursor_execute", count)
                try:
                    found = code_name_lists(lists)
                finally:
                    event.remove(db.engine, "before_cursor_execute", count)
                assert found == [
                    [(o.code, o.name(lang)) for o in objs]
                    for objs in (categories, agencies, districts)
                ]
                assert inactive.code not in [code for code, _name in found[0]]
    assert len(statements) == 2  # one per language
