"""The base of every form: Flask-WTF's, with the input layer's text check in front.

A field that received NUL or a lone surrogate (which no text column can store) gets a field
error, and the form's own validators (which may query the database) do not run.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm as _FlaskForm

from portal.core.input import clean_text

BAD_TEXT = _l("This contains characters that cannot be used.")


class FlaskForm(_FlaskForm):
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
