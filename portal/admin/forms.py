from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    EmailField,
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

from portal.roles.models import Role

ROLE_LABELS = {
    Role.committee: _l("Committee member (community code)"),
    Role.grid_worker: _l("Grid worker (grid or community code)"),
    Role.liaison: _l("Agency liaison (agency code)"),
    Role.supervisor: _l("Supervisor (district code)"),
    Role.admin: _l("Administrator (no scope)"),
}


class GrantForm(FlaskForm):
    email = EmailField(
        _l("Email address of the person"),
        validators=[DataRequired(_l("Enter your email address.")), Length(max=254)],
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
        validators=[DataRequired()],
    )
    scope_code = StringField(_l("Scope code"), validators=[Optional(), Length(max=64)])


class RevokeForm(FlaskForm):
    grant_id = HiddenField(validators=[DataRequired()])


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
