"""The base of every form: Flask-WTF's, with the input layer's text check in front.

A field that received NUL or a lone surrogate (which no text column can store) gets a field
error, and the form's own validators (which may query the database) do not run.
"""

from __future__ import annotations

from babel import support
from flask import has_request_context
from flask_babel import get_locale
from flask_wtf import FlaskForm as _FlaskForm
from markupsafe import Markup, escape
from wtforms import widgets
from wtforms.i18n import messages_path

from portal.core.i18n import lazy_gettext as _l
from portal.core.input import clean_text

BAD_TEXT = _l("This contains characters that cannot be used.")


_wtforms_catalogues: dict[str, support.NullTranslations] = {}


def wtforms_translations() -> support.NullTranslations | None:
    """WTForms' own messages ("This field is required.") in the request's language, each
    catalogue loaded once per process: Flask-WTF's read it from disk for every request that
    built a form."""
    if not has_request_context():
        return None
    locale = get_locale()
    if locale is None:
        return None
    key = str(locale)
    found = _wtforms_catalogues.get(key)
    if found is None:
        found = _wtforms_catalogues[key] = support.Translations.load(
            messages_path(), [locale], domain="wtforms"
        )
    return found


class Select(widgets.Select):
    """WTForms' select with each plain option written directly: WTForms builds an option's
    attributes through ``html_params`` and ``Markup.format`` (a ``string.Formatter`` run), some
    110 calls an option. The same markup (``selected`` before ``value``, as ``html_params``
    sorts them); an option with attributes of its own goes through WTForms."""

    @classmethod
    def render_option(cls, choice, **kwargs):
        if kwargs or choice.render_kw:
            return super().render_option(choice, **kwargs)
        value = str(choice.value) if isinstance(choice.value, bool) else choice.value
        label = escape(choice.label or choice.value)
        head = "<option selected " if choice.selected else "<option "
        return Markup(f'{head}value="{escape(value)}">{label}</option>')  # noqa: S704  # nosec B704


class FlaskForm(_FlaskForm):
    class Meta(_FlaskForm.Meta):
        def bind_field(self, form, unbound_field, options):
            """WTForms' documented hook: every plain select renders through ``Select``."""
            field = super().bind_field(form, unbound_field, options)
            if type(field.widget) is widgets.Select:
                field.widget = Select(multiple=field.widget.multiple)
            return field

        def get_translations(self, form):
            """WTForms' documented hook (``Meta.get_translations``) for its messages."""
            found = wtforms_translations()
            return super().get_translations(form) if found is None else found

    def validate(self, extra_validators=None) -> bool:
        bad = [
            field
            for field in self
            if any(isinstance(v, str) and not clean_text(v) for v in field.raw_data or ())
        ]
        if not bad:
            return super().validate(extra_validators)
        self._errors = None
        for field in self:
            field.errors = [BAD_TEXT] if field in bad else []
        return False


NOT_AN_ID = _l("This is not a valid reference.")


def id_value(form, field) -> None:
    """A validator for fields that carry a database id (hidden fields, mostly): a whole number
    from 1 to 2**31 - 1, or empty (combine with DataRequired where it must be given)."""
    from wtforms.validators import StopValidation

    from portal.core.input import MAX_ID

    raw = (field.data or "").strip() if isinstance(field.data, str) else field.data
    if raw in ("", None):
        return
    if not (str(raw).isdigit() and len(str(raw)) <= 10 and 1 <= int(str(raw)) <= MAX_ID):
        raise StopValidation(str(NOT_AN_ID))
