from __future__ import annotations

from wtforms import (
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import FlaskForm
from portal.core.i18n import lazy_gettext as _l


class JoinForm(FlaskForm):
    community_code = SelectField(
        _l("Community"), validators=[DataRequired(_l("Choose a community."))]
    )
    address_note = TextAreaField(
        _l("Address note"),
        description=_l(
            "Building and unit, so the committee can recognise you (for example "
            '"Building 3, unit 2"). Do not enter an ID number.'
        ),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
    )


class InvitationForm(FlaskForm):
    invitation_code = StringField(
        _l("Invitation code"),
        description=_l("The code printed on the letter from your neighbourhood committee."),
        validators=[
            DataRequired(_l("Enter the code from your letter.")),
            Length(max=20, message=_l("Use at most 20 characters.")),
        ],
    )


class DecisionForm(FlaskForm):
    request_id = HiddenField(validators=[DataRequired()])
    decision = RadioField(
        _l("Decision"),
        choices=[SelectChoice("approve", _l("Approve")), SelectChoice("reject", _l("Reject"))],
        validators=[InputRequired(_l("Choose approve or reject."))],
    )
    reason = StringField(
        _l("Reason (required to reject; shown to the person)"),
        validators=[Optional(), Length(max=500)],
    )


class BatchForm(FlaskForm):
    size = IntegerField(
        _l("Number of codes"),
        default=20,
        validators=[
            InputRequired(_l("Enter a number.")),
            NumberRange(1, 500, _l("Choose between 1 and 500.")),
        ],
    )
    label = StringField(
        _l("Label"),
        description=_l("For example the buildings the letters go to."),
        validators=[Optional(), Length(max=100)],
    )
    valid_days = SelectField(
        _l("Valid for"),
        coerce=int,
        default=90,
        choices=[
            SelectChoice(30, _l("30 days")),
            SelectChoice(90, _l("90 days")),
            SelectChoice(180, _l("180 days")),
            SelectChoice(365, _l("1 year")),
        ],
    )
