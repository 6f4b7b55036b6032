"""Proposal forms: shape and length checks only; services decide the rules."""

from __future__ import annotations

from wtforms import (
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
from portal.proposals.models import RejectReason


class ProposalForm(FlaskForm):
    title = StringField(
        _l("Title"),
        description=_l("Up to 80 characters. Say what should change, e.g. “社区卫生站太远了”."),
        validators=[
            DataRequired(_l("Enter a title.")),
            Length(max=80, message=_l("Use at most 80 characters.")),
        ],
    )
    summary = TextAreaField(
        _l("Summary"),
        description=_l("Up to 300 characters, shown in lists."),
        validators=[
            DataRequired(_l("Enter a summary.")),
            Length(max=300, message=_l("Use at most 300 characters.")),
        ],
    )
    body = TextAreaField(
        _l("Details"),
        description=_l(
            "Up to 6,000 characters. Markdown works: **bold**, "
            "lists, links. Do not name or describe private "
            "persons."
        ),
        validators=[
            DataRequired(_l("Describe the issue.")),
            Length(max=6000, message=_l("Use at most 6,000 characters.")),
        ],
    )
    category = SelectField(_l("Category"), validators=[DataRequired(_l("Choose a category."))])
    grid = SelectField(_l("Grid (optional)"), validators=[Optional()])
    location_note = StringField(
        _l("Where (optional)"),
        description=_l("A public place, e.g. “3号楼北侧空地”."),
        validators=[Optional(), Length(max=200, message=_l("Use at most 200 characters."))],
    )
    photos = MultipleFileField(
        _l("Photos (optional)"),
        description=_l(
            "Up to 4 photos, JPEG, PNG or WebP, 5 MB each. Location data is "
            "removed. Do not show people's faces or house numbers."
        ),
    )
    confirmed = HiddenField(default="")


class WithdrawForm(FlaskForm):
    reason = StringField(
        _l("Why do you withdraw it? (shown publicly)"),
        validators=[
            DataRequired(_l("Say why you withdraw the proposal.")),
            Length(max=500, message=_l("Use at most 500 characters.")),
        ],
    )


REASON_LABELS = {
    RejectReason.duplicate: _l("Duplicate of another proposal"),
    RejectReason.not_public_interest: _l("Not a matter of public interest"),
    RejectReason.outside_community_remit: _l("Outside the community's remit"),
    RejectReason.offensive: _l("Offensive content"),
    RejectReason.personal_data: _l("Contains personal data"),
    RejectReason.already_in_progress: _l("Already being handled"),
    RejectReason.other: _l("Other reason"),
}


class ReviewForm(FlaskForm):
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice("approve", _l("Approve: open it for support")),
            SelectChoice("request_changes", _l("Ask the author for changes")),
            SelectChoice("reject", _l("Reject")),
        ],
        validators=[InputRequired(_l("Choose a decision."))],
    )
    reason_code = SelectField(
        _l("Reason for rejecting (public)"),
        choices=[
            SelectChoice("", "—"),
            *(SelectChoice(r.value, label) for r, label in REASON_LABELS.items()),
        ],
        validators=[Optional()],
    )
    duplicate_of = StringField(
        _l("Number of the original proposal (for duplicates)"),
        validators=[Optional(), Length(max=12)],
    )
    note = TextAreaField(
        _l("Note (public; required when asking for changes)"),
        validators=[Optional(), Length(max=1000)],
    )
