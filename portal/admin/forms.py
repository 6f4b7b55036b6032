from __future__ import annotations

from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    Regexp,
)

from portal.core.forms import FlaskForm, id_value
from portal.core.i18n import lazy_gettext as _l
from portal.roles.models import Role

ROLE_LABELS = {
    Role.committee: _l("Committee member (of a community)"),
    Role.grid_worker: _l("Grid worker (of a grid or community)"),
    Role.liaison: _l("Agency liaison (of an agency)"),
    Role.supervisor: _l("Supervisor (of a district)"),
    Role.admin: _l("Administrator (no scope)"),
}

# What each role's scope is, and what to say when another kind was chosen.
ROLE_SCOPES = {
    Role.committee: ("community",),
    Role.grid_worker: ("grid", "community"),
    Role.liaison: ("agency",),
    Role.supervisor: ("district",),
    Role.admin: (),
}
SCOPE_HINTS = {
    Role.committee: _l("Choose the community this committee member serves."),
    Role.grid_worker: _l("Choose the grid or community this grid worker covers."),
    Role.liaison: _l("Choose the agency this liaison works for."),
    Role.supervisor: _l("Choose the district this supervisor oversees."),
    Role.admin: _l("An administrator has no scope: choose “No scope”."),
}


class GrantForm(FlaskForm):
    # Named ``email`` since the form began; it takes a mobile number as well.
    email = StringField(
        _l("Email address or mobile number of the person"),
        validators=[
            DataRequired(_l("Enter the person's email address or mobile number.")),
            Length(max=254),
        ],
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
        validators=[DataRequired()],
    )
    # The choices are set by the view (admin.pickers); an unknown value is the service's to refuse.
    scope_code = SelectField(
        _l("Where the role applies"),
        description=_l(
            "A community for a committee member, a grid or community for a grid worker, an "
            "agency for a liaison, a district for a supervisor."
        ),
        validators=[Optional(), Length(max=64)],
        validate_choice=False,
    )


class SecondFactorResetForm(FlaskForm):
    person = StringField(
        _l("Email address or mobile number of the staff member"),
        validators=[
            DataRequired(_l("Enter the person's email address or mobile number.")),
            Length(max=254),
        ],
    )
    confirm = BooleanField(
        _l("I have checked who is asking: in person, or by calling a number we already know."),
        validators=[DataRequired(_l("Confirm that you have checked who is asking."))],
    )


class RevokeForm(FlaskForm):
    grant_id = HiddenField(validators=[DataRequired(), id_value])


class AgencyForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("Lower-case letters, digits and hyphens."),
        validators=[
            DataRequired(_l("Enter a code.")),
            Length(max=64),
            Regexp(
                r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lower-case letters, digits and hyphens.")
            ),
        ],
    )
    name_zh = StringField(
        _l("Name (Chinese)"), validators=[DataRequired(_l("Enter a name.")), Length(max=100)]
    )
    name_en = StringField(
        _l("Name (English)"), validators=[DataRequired(_l("Enter a name.")), Length(max=120)]
    )
    district_code = SelectField(_l("District"), validators=[DataRequired()])


class CategoryForm(FlaskForm):
    code = StringField(
        _l("Code"),
        description=_l("Lower-case letters, digits and hyphens."),
        validators=[
            DataRequired(_l("Enter a code.")),
            Length(max=40),
            Regexp(
                r"^[a-z0-9][a-z0-9-]*$", message=_l("Use lower-case letters, digits and hyphens.")
            ),
        ],
    )
    name_zh = StringField(
        _l("Name (Chinese)"), validators=[DataRequired(_l("Enter a name.")), Length(max=60)]
    )
    name_en = StringField(
        _l("Name (English)"), validators=[DataRequired(_l("Enter a name.")), Length(max=80)]
    )
    icon = StringField(_l("Icon (one symbol)"), validators=[Optional(), Length(max=4)])
    position = IntegerField(
        _l("Position in lists"),
        default=0,
        validators=[InputRequired(_l("Enter a number.")), NumberRange(0, 999)],
    )
    active = BooleanField(_l("Offered for new proposals"), default=True)
    response_days = IntegerField(
        _l("Working days to accept or return a case"),
        default=1,
        validators=[InputRequired(_l("Enter a number.")), NumberRange(1, 30)],
    )
    handling_days = IntegerField(
        _l("Working days to handle a case"),
        default=15,
        validators=[InputRequired(_l("Enter a number.")), NumberRange(1, 365)],
    )
    verification_days = IntegerField(
        _l("Working days to verify"),
        default=3,
        validators=[InputRequired(_l("Enter a number.")), NumberRange(1, 30)],
    )


class SupportRulesForm(FlaskForm):
    support_minimum = IntegerField(
        _l("Minimum supports"),
        validators=[InputRequired(_l("Enter a number.")), NumberRange(1, 100000)],
    )
    support_percent = DecimalField(
        _l("Share of confirmed residents (%)"),
        places=2,
        validators=[InputRequired(_l("Enter a number.")), NumberRange(0, 100)],
    )
    support_window_days = IntegerField(
        _l("Support window (days)"),
        validators=[InputRequired(_l("Enter a number.")), NumberRange(1, 365)],
    )


class RoutingForm(FlaskForm):
    category = SelectField(_l("Category"), validators=[DataRequired()])
    # The choices are set by the view (admin.pickers).
    place_code = SelectField(
        _l("District, street or community"),
        validators=[
            DataRequired(_l("Choose a district, street or community.")),
            Length(max=12),
            Regexp(
                r"^(\d{6}|\d{9}|\d{12})$",
                message=_l("Choose a district, street or community."),
            ),
        ],
        validate_choice=False,
    )
    agency = SelectField(_l("Agency"), validators=[DataRequired()])


class DeleteForm(FlaskForm):
    item_id = HiddenField(validators=[DataRequired(), id_value])


class CalendarForm(FlaskForm):
    day = DateField(_l("Date"), validators=[InputRequired(_l("Enter a date."))])
    kind = SelectField(
        _l("Kind"),
        choices=[
            SelectChoice("holiday", _l("Public holiday (no work)")),
            SelectChoice("workday", _l("Make-up working day")),
        ],
    )
    note = StringField(_l("Note"), validators=[Optional(), Length(max=100)])


class Open311KeyForm(FlaskForm):
    name = StringField(
        _l("Integration"),
        description=_l("Who gets the key, e.g. “12345 citizen hotline”."),
        validators=[DataRequired(_l("Name the integration.")), Length(max=100)],
    )
