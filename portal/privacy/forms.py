"""The deletion form: a confirmation, and a fresh code or the password."""

from __future__ import annotations

from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import FlaskForm
from portal.core.i18n import lazy_gettext as _l


class DeleteForm(FlaskForm):
    confirm = BooleanField(
        _l("I understand: my account and personal data are deleted at once, for good"),
        validators=[DataRequired(_l("Tick the box to confirm that you want to delete it."))],
    )
    code = StringField(
        _l("Code from the text message"),
        description=_l("Ask for a code below; it is valid for 5 minutes."),
        validators=[Optional(), Length(max=12, message=_l("Enter the 6 digits of the code."))],
    )
    password = PasswordField(_l("Or your password"), validators=[Optional(), Length(max=200)])
