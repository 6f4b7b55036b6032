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
