from __future__ import annotations

from wtforms import DateField, HiddenField, RadioField, SelectChoice, SelectField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from portal.core.forms import FlaskForm, id_value
from portal.core.i18n import lazy_gettext as _l

STANCE_CHOICES = [
    SelectChoice("for", _l("For")),
    SelectChoice("against", _l("Against")),
    SelectChoice("question", _l("Question")),
]
REPORT_CHOICES = [
    SelectChoice("spam", _l("Spam or advertising")),
    SelectChoice("offensive", _l("Offensive or abusive")),
    SelectChoice("personal-data", _l("Reveals personal data")),
    SelectChoice("off-topic", _l("Off-topic")),
    SelectChoice("other", _l("Something else (say what)")),
]
HIDE_CHOICES = [
    SelectChoice("spam", _l("spam")),
    SelectChoice("offensive", _l("offensive")),
    SelectChoice("personal-data", _l("personal data")),
    SelectChoice("off-topic", _l("off-topic")),
    SelectChoice("other", _l("other reason")),
]
RESTORE_CHOICES = [
    SelectChoice("no-violation", _l("no violation")),
    SelectChoice("edited-by-author", _l("edited by the author")),
    SelectChoice("appeal-upheld", _l("appeal upheld")),
    SelectChoice("other", _l("other reason")),
]


class CommentForm(FlaskForm):
    stance = RadioField(_l("Your position"), choices=STANCE_CHOICES, validators=[Optional()])
    body = TextAreaField(
        _l("Comment"),
        description=_l("Up to 1,000 characters. Be respectful; links work."),
        validators=[
            DataRequired(_l("Write something.")),
            Length(max=1000, message=_l("Use at most 1,000 characters.")),
        ],
    )
    parent_id = HiddenField(validators=[id_value])


class EditCommentForm(FlaskForm):
    body = TextAreaField(
        _l("Comment"), validators=[DataRequired(_l("Write something.")), Length(max=1000)]
    )


class ReportForm(FlaskForm):
    target_type = HiddenField(validators=[DataRequired()])
    target_id = HiddenField(validators=[DataRequired(), id_value])
    reason = SelectField(_l("What is wrong?"), choices=REPORT_CHOICES, validators=[DataRequired()])
    note = TextAreaField(
        _l("Details (optional unless “something else”)"), validators=[Optional(), Length(max=500)]
    )


# What a report's reason says, where the committee reads the reports.
REPORT_LABELS = {c.value: c.label for c in REPORT_CHOICES}
CHOOSE = SelectChoice("", _l("Choose a reason…"))


class ModerateForm(FlaskForm):
    """A moderation action on one or more items. ``reason_code`` serves the one-button forms
    (lock, hide as off-topic); the workspace asks for the reason of the action chosen, from
    the list that fits it (``hide_reason``, ``restore_reason``), with none chosen for the
    moderator."""

    action = HiddenField(validators=[DataRequired()])
    targets = HiddenField()  # "comment:5,proposal:2" for bulk actions
    reason_code = SelectField(
        _l("Reason"),
        choices=[
            *HIDE_CHOICES,
            *(c for c in RESTORE_CHOICES if c.value not in {h.value for h in HIDE_CHOICES}),
        ],
        validators=[Optional()],
    )
    hide_reason = SelectField(
        _l("Reason for hiding (public)"),
        choices=[CHOOSE, *HIDE_CHOICES],
        validators=[Optional()],
    )
    restore_reason = SelectField(
        _l("Reason for restoring or dismissing (public)"),
        choices=[CHOOSE, *RESTORE_CHOICES],
        validators=[Optional()],
    )
    note = TextAreaField(_l("Note (shown publicly)"), validators=[Optional(), Length(max=1000)])
    until = DateField(_l("Blocked until (empty: permanently)"), validators=[Optional()])

    def chosen_reason(self) -> str | None:
        """The reason for the action chosen: from its own list, or the one-button form's."""
        if self.reason_code.data:
            return self.reason_code.data
        if self.action.data == "hide":
            return self.hide_reason.data or None
        if self.action.data in ("restore", "dismiss"):
            return self.restore_reason.data or None
        return None

    def reason_field(self):
        """Where an error about the reason is shown."""
        return self.hide_reason if self.action.data == "hide" else self.restore_reason


class AppealForm(FlaskForm):
    action_id = HiddenField(validators=[DataRequired(), id_value])
    note = TextAreaField(
        _l("Why should the decision change?"),
        validators=[DataRequired(_l("Say why the decision should change.")), Length(max=1000)],
    )


class AppealDecisionForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("uphold", _l("Uphold the moderation decision")),
            SelectChoice("reverse", _l("Reverse it")),
        ],
        validators=[InputRequired(_l("Choose a decision."))],
    )
    note = TextAreaField(
        _l("Note (shown publicly)"),
        validators=[DataRequired(_l("Write a note.")), Length(max=1000)],
    )
