"""Proposal forms: shape and length checks only; services decide the rules."""

from __future__ import annotations

from wtforms import (
    HiddenField,
    MultipleFileField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from portal.core.forms import FlaskForm
from portal.core.i18n import lazy_gettext as _l
from portal.proposals.models import RejectReason


class ProposalForm(FlaskForm):
    title = StringField(
        _l("Title"),
        description=_l(
            "Up to 80 characters. Say what should change, e.g. “The clinic is too far away”."
        ),
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
        description=_l("A public place, e.g. “the open ground north of building 3”."),
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
    """The committee's decision on a submitted proposal: one small form per decision, each
    with only the fields that decision takes (rendered with ``prefix`` = the decision, so the
    four forms of one page keep distinct ids). ``decision`` names the form posted."""

    decision_name = ""
    note = TextAreaField(
        _l("Note to the author (public, optional)"),
        validators=[Optional(), Length(max=1000, message=_l("Use at most 1,000 characters."))],
    )


class ApproveForm(ReviewForm):
    decision_name = "approve"


class ChangesForm(ReviewForm):
    decision_name = "request_changes"
    note = TextAreaField(
        _l("What should the author change? (public)"),
        validators=[
            DataRequired(_l("Say what should change.")),
            Length(max=1000, message=_l("Use at most 1,000 characters.")),
        ],
    )


class RejectForm(ReviewForm):
    decision_name = "reject"
    reason_code = SelectField(
        _l("Reason for rejecting (public)"),
        choices=[
            SelectChoice("", _l("Choose…")),
            *(
                SelectChoice(r.value, label)
                for r, label in REASON_LABELS.items()
                if r != RejectReason.duplicate  # a duplicate is its own decision
            ),
        ],
        validators=[DataRequired(_l("Choose a reason for the rejection."))],
    )


class DuplicateForm(ReviewForm):
    decision_name = "duplicate"
    duplicate_of = StringField(
        _l("Number of the original proposal"),
        description=_l("The number after # on the original's page, e.g. 1024."),
        validators=[
            DataRequired(_l("Give the number of the original proposal.")),
            Length(max=12, message=_l("Use at most 12 characters.")),
        ],
    )


# The decisions in the order the review page offers them, each with its form.
REVIEW_FORMS: dict[str, type[ReviewForm]] = {
    f.decision_name: f for f in (ApproveForm, ChangesForm, RejectForm, DuplicateForm)
}
