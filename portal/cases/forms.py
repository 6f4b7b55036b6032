from __future__ import annotations

from wtforms import (
    DateTimeLocalField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.core.forms import FlaskForm
from portal.core.i18n import lazy_gettext as _l


class ActionForm(FlaskForm):
    action = HiddenField(validators=[DataRequired()])
    note = TextAreaField(_l("Note (public)"), validators=[Optional(), Length(max=4000)])
    expected_at = DateTimeLocalField(
        _l("Expected date (local time)"),
        format=["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"],
        validators=[Optional()],
    )
    agency_code = SelectField(_l("Agency"), validators=[Optional()])
    passed = RadioField(
        _l("Result of the check"),
        choices=[
            SelectChoice("yes", _l("Passed: it is fixed")),
            SelectChoice("no", _l("Failed: not fixed")),
        ],
        validators=[Optional()],
    )
    reason_code = SelectField(
        _l("Reason for closing (public)"),
        choices=[
            SelectChoice("", _l("Choose…")),
            SelectChoice("duplicate", _l("Duplicate case")),
            SelectChoice("not-responsible", _l("Not a government responsibility")),
            SelectChoice("no-further-action", _l("No further action")),
        ],
        validators=[Optional()],
    )
    # Read from the request by the view (``act-photos``); here so an error shows at the input.
    photos = MultipleFileField(_l("Photos of the site (optional, up to 4)"))


class FeedbackForm(FlaskForm):
    solved = RadioField(
        _l("Is it solved?"),
        choices=[SelectChoice("yes", _l("Yes")), SelectChoice("no", _l("No"))],
        validators=[InputRequired(_l("Choose yes or no."))],
    )
    satisfaction = RadioField(
        _l("How satisfied are you? (1 = not at all, 5 = very)"),
        choices=[SelectChoice(str(i), str(i)) for i in range(1, 6)],
        validators=[InputRequired(_l("Choose 1 to 5."))],
    )
    comment = StringField(
        _l("Comment (optional, not published with your name)"),
        validators=[Optional(), Length(max=500)],
    )
