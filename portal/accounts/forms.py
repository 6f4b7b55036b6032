"""Account forms. They shape and check input; services write."""

from __future__ import annotations

from werkzeug.datastructures import MultiDict
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    StringField,
    TelField,
)
from wtforms.validators import DataRequired, Email, EqualTo, Length, ValidationError

from portal.accounts.passwords import password_problem
from portal.core.forms import FlaskForm
from portal.core.i18n import lazy_gettext as _l

LOCALE_CHOICES = [SelectChoice("zh_Hans", "简体中文"), SelectChoice("en", "English")]


class _NewPassword:
    """Checks the policy, with the email and name fields as context when present (or the
    form's ``password_context``, when they come from elsewhere)."""

    def __call__(self, form, field):
        context = getattr(form, "password_context", None)
        if context is None:
            email = getattr(form, "email", None)
            name = getattr(form, "display_name", None)
            context = {
                "email": email.data or "" if email else "",
                "display_name": name.data or "" if name else "",
            }
        problem = password_problem(field.data or "", **context)
        if problem:
            raise ValidationError(problem)


class RegisterForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Length(max=254),
            Email(
                _l("Enter a valid email address, like name@example.org."),
                check_deliverability=False,
            ),
        ],
    )
    display_name = StringField(
        _l("Display name"),
        description=_l("Shown next to what you write. It need not be your real name."),
        validators=[
            DataRequired(_l("Enter a display name.")),
            Length(min=2, max=40, message=_l("Use 2 to 40 characters.")),
        ],
    )
    locale = RadioField(
        _l("Language"), choices=LOCALE_CHOICES, default="zh_Hans", validators=[DataRequired()]
    )


class CompleteRegistrationForm(FlaskForm):
    """The page of the mailed registration link: the password is chosen here, so the link
    never carries it."""

    password = PasswordField(
        _l("Password"),
        description=_l(
            "At least 12 characters. A phrase of several words is easy to "
            "remember and hard to guess."
        ),
        validators=[DataRequired(_l("Choose a password.")), _NewPassword()],
    )
    confirm = PasswordField(
        _l("Repeat the password"),
        validators=[EqualTo("password", _l("The two passwords differ."))],
    )

    def __init__(self, *args, email: str = "", display_name: str = "", **kwargs):
        super().__init__(*args, **kwargs)
        self.password_context = {"email": email, "display_name": display_name}


class LoginForm(FlaskForm):
    email = EmailField(
        _l("Email address"), validators=[DataRequired(_l("Enter your email address."))]
    )
    password = PasswordField(_l("Password"), validators=[DataRequired(_l("Enter your password."))])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(
        _l("Current password"), validators=[DataRequired(_l("Enter your current password."))]
    )
    password = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters."),
        validators=[DataRequired(_l("Choose a password.")), _NewPassword()],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[EqualTo("password", _l("The two passwords differ."))],
    )


class ResetRequestForm(FlaskForm):
    email = EmailField(
        _l("Email address"),
        validators=[
            DataRequired(_l("Enter your email address.")),
            Email(
                _l("Enter a valid email address, like name@example.org."),
                check_deliverability=False,
            ),
        ],
    )


class ResetPasswordForm(FlaskForm):
    password = PasswordField(
        _l("New password"),
        description=_l("At least 12 characters."),
        validators=[DataRequired(_l("Choose a password.")), _NewPassword()],
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[EqualTo("password", _l("The two passwords differ."))],
    )


class ProfileForm(FlaskForm):
    display_name = StringField(
        _l("Display name"),
        validators=[
            DataRequired(_l("Enter a display name.")),
            Length(min=2, max=40, message=_l("Use 2 to 40 characters.")),
        ],
    )
    locale = RadioField(_l("Language"), choices=LOCALE_CHOICES, validators=[DataRequired()])
    large_text = BooleanField(_l("Large text and high contrast (elderly-friendly mode)"))


def _mainland_number(form, field):
    from portal.accounts.phones import normalize_phone

    if normalize_phone(field.data) is None:
        raise ValidationError(
            _l("Enter a mainland mobile number: 11 digits starting with 1, like 138 0013 8000.")
        )


class PhoneForm(FlaskForm):
    """The number a code is sent to: to sign in or register, or to change one's number."""

    phone = TelField(
        _l("Mobile number"),
        description=_l("A mainland number, like 138 0013 8000. We text you a 6-digit code."),
        validators=[DataRequired(_l("Enter your mobile number.")), _mainland_number],
    )


class CodeForm(FlaskForm):
    phone = HiddenField()
    code = StringField(
        _l("Code from the text message"),
        description=_l("6 digits, valid for 5 minutes."),
        validators=[
            DataRequired(_l("Enter the code we sent you.")),
            Length(max=12, message=_l("Enter the 6 digits of the code.")),
        ],
    )
    accept_privacy = BooleanField(
        _l("I have read the privacy notice and accept it (needed once, to create an account)")
    )


class NameForm(FlaskForm):
    display_name = StringField(
        _l("Display name"),
        description=_l("Shown next to what you write. It need not be your real name."),
        validators=[
            DataRequired(_l("Enter a display name.")),
            Length(min=2, max=40, message=_l("Use 2 to 40 characters.")),
        ],
    )


class EmptyForm(FlaskForm):
    """A POST button: only the CSRF token."""


def api_registration_errors(data: dict) -> dict[str, str]:
    """Run the registration form's checks on a JSON body; field → message. A password is
    refused rather than dropped: it is chosen on the page of the mailed link, and a client
    that sent one would otherwise believe it set."""
    fields: dict[str, str] = {}
    if "password" in data:
        fields["password"] = str(
            _l("Do not send a password: it is chosen on the page of the link we mail.")
        )
    clean = {}
    for key in ("email", "display_name", "locale"):
        value = data.get(key)
        if value is None and key == "locale":
            continue
        if not isinstance(value, str):
            fields[key] = str(_l("This field is required."))
        else:
            clean[key] = value
    clean.setdefault("locale", "zh_Hans")
    form = RegisterForm(formdata=MultiDict(clean), meta={"csrf": False})
    form.validate()
    for name, errors in form.errors.items():
        fields.setdefault(name, str(errors[0]))
    return fields


class SecondStepForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"),
        description=_l("6 digits; or one of your recovery codes."),
        validators=[
            DataRequired(_l("Enter the code shown in your authenticator app.")),
            Length(max=20, message=_l("Enter the 6 digits, or a recovery code.")),
        ],
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "off"},
    )


class EnrolForm(FlaskForm):
    code = StringField(
        _l("Code from your authenticator app"),
        description=_l("6 digits, a new one every 30 seconds."),
        validators=[
            DataRequired(_l("Enter the code shown in your authenticator app.")),
            Length(max=12, message=_l("Enter the 6 digits of the code.")),
        ],
        render_kw={"autocomplete": "one-time-code", "inputmode": "numeric"},
    )


class ReauthForm(FlaskForm):
    """Confirm it is you: the password, a code from the authenticator app, or (for an
    account with neither) a fresh SMS code."""

    secret = PasswordField(
        _l("Password or code"),
        validators=[DataRequired(_l("Enter your password or the code."))],
        render_kw={"autocomplete": "current-password"},
    )
