"""Meeting forms: they shape input; the services decide."""

from __future__ import annotations

from wtforms import (
    DateField,
    DateTimeLocalField,
    FieldList,
    Form,
    FormField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import FlaskForm, id_value
from portal.core.i18n import lazy_gettext as _l

LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class MeetingForm(FlaskForm):
    title = StringField(
        _l("Title"), validators=[DataRequired(_l("Give the meeting a title.")), Length(max=200)]
    )
    description = TextAreaField(
        _l("What the meeting is about"), validators=[Optional(), Length(max=10000)]
    )
    starts_at = DateTimeLocalField(
        _l("Starts (local time)"),
        format=LOCAL,
        validators=[InputRequired(_l("Give the date and time it starts."))],
    )
    ends_at = DateTimeLocalField(
        _l("Ends (local time)"),
        format=LOCAL,
        validators=[InputRequired(_l("Give the date and time it ends."))],
    )
    location = StringField(
        _l("Place"),
        description=_l("An address or room; leave empty for an online meeting."),
        validators=[Optional(), Length(max=300)],
    )
    online_url = StringField(_l("Online link (optional)"), validators=[Optional(), Length(max=500)])
    capacity = IntegerField(
        _l("Places (optional)"),
        description=_l("Beyond this number, registrations join a waitlist."),
        validators=[Optional(), NumberRange(min=1, max=100000)],
    )


class ItemForm(FlaskForm):
    kind = RadioField(
        _l("What goes on the agenda"),
        choices=[
            SelectChoice("proposal", _l("A proposal")),
            SelectChoice("case", _l("A case")),
            SelectChoice("topic", _l("A free topic")),
        ],
        default="topic",
        validators=[InputRequired(_l("Choose what the item is."))],
    )
    proposal_id = SelectField(_l("Proposal (open or qualified)"), validators=[Optional()])
    case_number = SelectField(_l("Case"), validators=[Optional()])
    topic = StringField(_l("Topic"), validators=[Optional(), Length(max=200)])
    note = TextAreaField(_l("Framing note (public)"), validators=[Optional(), Length(max=2000)])


class InviteForm(FlaskForm):
    agency_code = SelectField(_l("Agency"), validators=[DataRequired(_l("Choose an agency."))])
    due_at = DateTimeLocalField(
        _l("Answer due (local time)"),
        description=_l("Leave empty for the default: three working days before the meeting."),
        format=LOCAL,
        validators=[Optional()],
    )


class CancelForm(FlaskForm):
    reason = TextAreaField(
        _l("Why it is cancelled (public)"),
        validators=[DataRequired(_l("Give the public reason for cancelling.")), Length(max=2000)],
    )


class CommitmentForm(Form):
    text = StringField(_l("Commitment"), validators=[Optional(), Length(max=500)])
    due_on = DateField(_l("By (date)"), validators=[Optional()])


class AnswerForm(FlaskForm):
    body = TextAreaField(
        _l("The agency's position"),
        validators=[DataRequired(_l("Write the agency's position.")), Length(max=10000)],
    )
    commitments = FieldList(FormField(CommitmentForm), min_entries=3, max_entries=20)
    attendee_role = StringField(
        _l("Who will attend (a role, not a name)"),
        description=_l("For example: deputy director of the street office."),
        validators=[Optional(), Length(max=100)],
    )


class QuestionForm(FlaskForm):
    body = TextAreaField(
        _l("Your question"),
        validators=[DataRequired(_l("Write your question.")), Length(max=1000)],
    )


class DecisionForm(Form):
    item_id = HiddenField(validators=[DataRequired(), id_value])
    decision = SelectField(
        _l("Decision"),
        choices=[
            SelectChoice("", _l("Choose…")),
            SelectChoice("agreed-action", _l("Agreed action")),
            SelectChoice("referred-to-agency", _l("Referred to the agency")),
            SelectChoice("needs-more-input", _l("Needs more input")),
            SelectChoice("no-action", _l("No action")),
        ],
        validators=[DataRequired(_l("Choose a decision for every item."))],
    )
    note = TextAreaField(_l("Note (public)"), validators=[Optional(), Length(max=2000)])


class MinutesForm(FlaskForm):
    body = TextAreaField(
        _l("Minutes (public)"),
        validators=[DataRequired(_l("Write the minutes.")), Length(max=50000)],
    )
    decisions = FieldList(FormField(DecisionForm), min_entries=0, max_entries=200)
