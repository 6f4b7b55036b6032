"""The committee's form to put an item to a vote, and a resident's ballot."""

from __future__ import annotations

from wtforms import (
    DateTimeLocalField,
    IntegerField,
    RadioField,
    SelectChoice,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

from portal.core.forms import FlaskForm
from portal.core.i18n import lazy_gettext as _l
from portal.votes.models import MAX_OPTIONS, VoteKind

_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


class VoteForm(FlaskForm):
    question = TextAreaField(
        _l("Question"),
        validators=[DataRequired(_l("Write the question put to the vote.")), Length(max=300)],
    )
    kind = RadioField(
        _l("Options"),
        choices=[
            SelectChoice(VoteKind.for_against_abstain.value, _l("For / against / abstain")),
            SelectChoice(VoteKind.options.value, _l("Options of our own (two to six, below)")),
        ],
        default=VoteKind.for_against_abstain.value,
        validators=[InputRequired(_l("Choose the kind of vote."))],
    )
    option_1 = StringField(_l("Option 1"), validators=[Optional(), Length(max=100)])
    option_2 = StringField(_l("Option 2"), validators=[Optional(), Length(max=100)])
    option_3 = StringField(_l("Option 3"), validators=[Optional(), Length(max=100)])
    option_4 = StringField(_l("Option 4"), validators=[Optional(), Length(max=100)])
    option_5 = StringField(_l("Option 5"), validators=[Optional(), Length(max=100)])
    option_6 = StringField(_l("Option 6"), validators=[Optional(), Length(max=100)])
    opens_at = DateTimeLocalField(
        _l("Opens (local time)"),
        format=_FORMATS,
        validators=[InputRequired(_l("Enter when the vote opens."))],
    )
    closes_at = DateTimeLocalField(
        _l("Closes (local time)"),
        format=_FORMATS,
        validators=[InputRequired(_l("Enter when the vote closes."))],
    )
    quorum_percent = IntegerField(
        _l("Quorum in percent of confirmed residents (optional)"),
        description=_l("The result counts only if at least this share of residents vote."),
        validators=[Optional(), NumberRange(min=1, max=100)],
    )

    def option_fields(self):
        return [getattr(self, f"option_{i}") for i in range(1, MAX_OPTIONS + 1)]

    def labels(self) -> list[str]:
        return [(f.data or "").strip() for f in self.option_fields() if (f.data or "").strip()]


class BallotForm(FlaskForm):
    option = RadioField(
        _l("Your choice"), coerce=int, validators=[InputRequired(_l("Choose one option."))]
    )
