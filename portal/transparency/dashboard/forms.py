"""The dashboard's selector: a GET form (no state changes, so no CSRF token), the scope and
the period, each error at its field."""

from __future__ import annotations

from datetime import date, timedelta

from wtforms import DateField, SelectChoice, SelectField, StringField
from wtforms.validators import Optional

from portal.core.forms import FlaskForm
from portal.core.i18n import lazy_gettext as _l

LONGEST = timedelta(days=3 * 366)


class DashboardForm(FlaskForm):
    class Meta:
        csrf = False

    district = SelectField(_l("District"), choices=[], validators=[Optional()])
    community = StringField(
        _l("Community code"),
        validators=[Optional()],
        description=_l("12 digits, shown on each community's page. Leave empty for all."),
    )
    agency = SelectField(_l("Agency"), choices=[], validators=[Optional()])
    period = SelectField(
        _l("Period"),
        choices=[
            SelectChoice("30d", _l("Last 30 days")),
            SelectChoice("quarter", _l("This quarter")),
            SelectChoice("year", _l("This year")),
            SelectChoice("custom", _l("Custom dates")),
        ],
        default="30d",
    )
    start = DateField(_l("From"), validators=[Optional()])
    end = DateField(_l("To"), validators=[Optional()])

    def period_days(self, today: date) -> tuple[date, date] | None:
        """The chosen period as local days (both included), or None with field errors."""
        kind = self.period.data or "30d"
        if kind == "30d":
            return today - timedelta(days=29), today
        if kind == "quarter":
            return date(today.year, 3 * ((today.month - 1) // 3) + 1, 1), today
        if kind == "year":
            return date(today.year, 1, 1), today
        ok = True
        if self.start.data is None and not self.start.errors:
            self.start.errors = [*self.start.errors, _l("Enter the first day.")]
        if self.end.data is None and not self.end.errors:
            self.end.errors = [*self.end.errors, _l("Enter the last day.")]
        if self.start.errors or self.end.errors:
            return None
        start, end = self.start.data, self.end.data
        if end < start:
            self.end.errors = [_l("The last day cannot come before the first.")]
            ok = False
        elif end - start > LONGEST:
            self.end.errors = [_l("Choose at most three years.")]
            ok = False
        elif start > today:
            self.start.errors = [_l("Choose a day that has already begun.")]
            ok = False
        return (start, min(end, today)) if ok else None
