"""Data-rights forms: correcting the email address and the address note, and deleting the
account (a confirmation, and a fresh code or the password)."""

from __future__ import annotations

from wtforms import BooleanField, EmailField, PasswordField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional

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


class EmailForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        description=_l("Optional. A new address is sent a confirmation link."),
        validators=[
            DataRequired(_l("Enter an email address.")),
            Email(_l("Enter a valid email address.")),
            Length(max=254),
        ],
    )


class AddressNoteForm(FlaskForm):
    address_note = TextAreaField(
        _l("Address note"),
        description=_l(
            "Building and unit, so the committee can recognise you. Do not enter an ID number."
        ),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
    )
