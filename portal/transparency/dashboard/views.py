"""The public dashboard pages: the figures of a scope and period, the cases behind a
figure, and the methods page."""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import date, timedelta

from flask import abort, render_template, request
from markupsafe import Markup, escape
from sqlalchemy import select
from wtforms import SelectChoice

from portal.cases.models import Case
from portal.core import clock
from portal.core.guards import public
from portal.core.i18n import (
    OptionLists,
    code_names,
    current_locale,
    localized,
    name_rows,
    option_lists,
)
from portal.core.i18n import gettext as _
from portal.core.templating import written_html
from portal.core.urls import query_args, query_url_maker
from portal.extensions import cache, db
from portal.places.models import Community, District
from portal.places.services import community_by_code
from portal.roles.models import Agency
from portal.transparency.dashboard import bp
from portal.transparency.dashboard import figures as F
from portal.transparency.dashboard.charts import bar_chart, bars_svg, month_chart, months_svg
from portal.transparency.dashboard.forms import DashboardForm
from portal.transparency.dashboard.models import DashboardFact
from portal.transparency.dashboard.rollup import city_tz

FORM_KEYS = ("district", "community", "agency", "period", "start", "end")
SORTS = ("name", "dispatched", "response", "on_time", "close", "rework", "satisfaction", "agenda")
CASES_PAGE = 50
HEADLINE_SECONDS = 30  # no longer than a public page may be kept (core.http_cache)
FIGURE_KINDS = {"response", "due", "closed", "opened"}
OUTCOMES = {
    "on_time",
    "late",
    "waiting",
    "unrecorded",
    "overdue",
    "clean",
    "reworked",
    "filed",
    "returned",
}


def today() -> date:
    return clock.now().astimezone(city_tz()).date()


def _scope(form: DashboardForm) -> F.Scope | None:
    """The scope chosen in ``form`` (one of community, agency, district; else the city)."""
    chosen = [n for n in ("community", "agency", "district") if getattr(form, n).data]
    if len(chosen) > 1:
        getattr(form, chosen[0]).errors = [
            *getattr(form, chosen[0]).errors,
            _("Choose one of community, agency or district."),
        ]
        return None
    if not chosen:
        return F.Scope("city")
    level = chosen[0]
    field = getattr(form, level)
    finders = {
        "community": lambda code: community_by_code(code.strip()),
        "agency": lambda code: db.session.scalar(select(Agency).where(Agency.code == code)),
        "district": lambda code: db.session.scalar(select(District).where(District.code == code)),
    }
    found = finders[level](field.data)
    if found is None:
        unknown = {
            "community": _("No community has this code."),
            "agency": _("No agency has this code."),
            "district": _("No district has this code."),
        }
        # One message at the field: a district's or agency's code outside the select's
        # choices was refused by WTForms already, in general terms ("Not a valid choice"):
        # say which instead.
        field.errors = [unknown[level]]
        return None
    return F.Scope(level, found)


@functools.cache
def _choices() -> OptionLists:
    """The districts' and agencies' rows, in one statement (built once)."""
    return option_lists((District, (District.code,), None), (Agency, (Agency.code,), None))


def _form() -> tuple[DashboardForm, list]:
    """The selector, its district and agency choices from plain rows; and the agencies'
    rows (id, code, names), which name the league table's agencies too."""
    form = DashboardForm(request.args)
    districts, agencies = name_rows(_choices())
    form.district.choices = [
        SelectChoice("", _("All districts")),
        *(SelectChoice(code, name) for code, name in code_names(districts)),
    ]
    form.agency.choices = [
        SelectChoice("", _("All agencies")),
        *(SelectChoice(code, name) for code, name in code_names(agencies)),
    ]
    return form, agencies


def _league(
    scope, start, end, sort: str, descending: bool, agenda: dict, agencies: list
) -> list[dict]:
    """The league table's rows: each agency's code and name in the reader's language, its
    case figures and its agenda answers, in the order chosen."""
    per = F.by_agency(scope, start, end)
    for aid in agenda:
        if aid is not None and aid not in per:  # answers agendas, no case in the period
            per[aid] = F.case_figures({})
    locale = current_locale()
    names = {aid: (code, localized(zh, en, locale)) for aid, code, zh, en in agencies}
    no_agenda = F.Rate(0, 0, {"waiting": 0})
    rows = [
        {
            "code": names[aid][0],
            "name": names[aid][1],
            **figs,
            "agenda": agenda.get(aid, no_agenda),
        }
        for aid, figs in per.items()
        if aid in names
    ]

    def key(row):
        if sort == "name":
            return (0, row["name"])
        if sort == "dispatched":
            return (0, row["dispatched"])
        value = row[sort].value
        return (1, 0.0) if value is None else (0, value)  # no figure: always last

    rows.sort(key=lambda r: r["code"])
    if sort == "name":
        rows.sort(key=key, reverse=descending)
    else:
        known = [r for r in rows if key(r)[0] == 0]
        unknown = [r for r in rows if key(r)[0] == 1]
        known.sort(key=key, reverse=descending)
        rows = known + unknown
    return rows


@bp.get("/dashboard")
@public
def index():
    form, agencies = _form()
    form.validate()
    scope = _scope(form)
    period = form.period_days(today())
    if scope is None or period is None:
        return render_template("dashboard/index.html", form=form, scope=None), 400
    start, end = period
    now = clock.now()
    sort = request.args.get("sort", "dispatched")
    sort = sort if sort in SORTS else "dispatched"
    descending = request.args.get("dir", "desc") != "asc"
    summary = F.summary(scope, start, end, now)
    agenda = F.agenda_answers(scope, start, end, now)
    summary["agenda"] = agenda[None]
    locale = current_locale()
    by_cat = sorted(
        ((localized(zh, en, locale), n) for _cid, n, zh, en in F.by_category(scope, start, end)),
        key=lambda x: (-x[1], x[0]),
    )
    months = F.monthly(scope, start, end)
    funnel_labels = {
        "submitted": _("Submitted"),
        "opened": _("Opened for support"),
        "qualified": _("Qualified (became a case)"),
        "closed": _("Case closed"),
    }
    charts = {
        "funnel": bar_chart([(funnel_labels[k], n) for k, n, _r in summary["funnel"]]),
        "category": bar_chart(by_cat),
        "volume": month_chart([(m["month"], m["opened"], m["closed"]) for m in months]),
        "on_time": bar_chart(
            [(m["month"], m["on_time"].percent) for m in months], maximum=100, unit="%"
        ),
    }
    # The form's own choices, kept by the sort links; nothing else the address carried
    # (``core.urls.query_args`` says why).
    params = {k: v for k, v in request.args.items() if k in FORM_KEYS}
    return render_template(
        "dashboard/index.html",
        form=form,
        scope=scope,
        start=start,
        end=end,
        s=summary,
        months=months,
        by_cat=by_cat,
        funnel_labels=funnel_labels,
        charts=charts,
        league=_league(scope, start, end, sort, descending, agenda, agencies),
        sort=sort,
        descending=descending,
        params=params,
        cases_link=cases_links(scope, start, end),
        rate=rate_formatter(),
    )


def cases_links(scope: F.Scope, start: date, end: date) -> Callable[..., str]:
    """``link(kind, outcome=None, agency=None)``: the address of the cases behind a figure of
    ``scope`` and the period (``agency``, a code, narrows it to that agency), each built from
    one ``url_for`` per shape of link on the page."""
    make = query_url_maker("dashboard.cases")
    first, last = start.isoformat(), end.isoformat()
    scoped = {scope.level: scope.code} if scope.level != "city" and scope.code else {}

    def link(kind: str, outcome: str | None = None, agency: str | None = None) -> str:
        args: dict[str, str] = {"kind": kind, "start": first, "end": last}
        if outcome:
            args["outcome"] = outcome
        if agency is not None:
            args["agency"] = agency
        else:
            args.update(scoped)
        return make(**args)

    return link


bp.add_app_template_global(bars_svg, "dashboard_bars")
bp.add_app_template_global(months_svg, "dashboard_months")


def rate_formatter() -> Callable[..., Markup]:
    """``show(rate, link=None)``: a rate as the dashboard shows it, the percentage ("—" when
    nothing was counted), then its numerator and denominator (a link to the cases counted,
    when given) and what is still waiting or not recorded. A function, not a macro, with its
    strings translated once for the page's sixty rates."""
    counted = _("%(num)d of %(den)d")
    waiting = "; " + _("%(n)d still waiting")
    unrecorded = "; " + _("%(n)d not recorded")

    def show(r: F.Rate, link: str | None = None) -> Markup:
        percent = r.percent
        text = counted % {"num": r.num, "den": r.den}
        html = ("—" if percent is None else f"{percent}%") + '<span class="rate-den">'
        html += f'<a href="{escape(link)}">{text}</a>' if link else text
        extra = r.extra
        if extra.get("waiting"):
            html += waiting % {"n": extra["waiting"]}
        if extra.get("unrecorded"):
            html += unrecorded % {"n": extra["unrecorded"]}
        # Our catalogue's text (trusted, as the templates' strings are), numbers, an escaped URL.
        return written_html(html + "</span>")

    return show


@bp.app_template_global("dashboard_rate")
def rate_html(r: F.Rate, link: str | None = None) -> Markup:
    """One rate, as ``rate_formatter`` shows it (the headline figures of other pages)."""
    return rate_formatter()(r, link)


@bp.get("/dashboard/cases")
@public
def cases():
    """The cases behind a figure: those whose fact of ``kind`` (and ``outcome``) fell in the
    period, for the scope — the rows a number on the dashboard counts."""
    args = request.args
    kind, outcome = args.get("kind", "opened"), args.get("outcome") or None
    if kind not in FIGURE_KINDS or (outcome is not None and outcome not in OUTCOMES):
        abort(400)
    try:
        end = date.fromisoformat(args["end"]) if "end" in args else today()
        start = date.fromisoformat(args["start"]) if "start" in args else end - timedelta(days=29)
    except ValueError:
        abort(400)
    if end < start or end - start > timedelta(days=3 * 366):
        abort(400)
    form, _agencies = _form()
    scope = _scope(form)
    if scope is None or (scope.level != "city" and scope.obj is None):
        abort(404)
    stmt = select(DashboardFact.case_id).where(
        DashboardFact.kind == kind,
        DashboardFact.day >= start,
        DashboardFact.day <= end,
        DashboardFact.case_id.is_not(None),
    )
    if outcome:
        stmt = stmt.where(DashboardFact.outcome == outcome)
    stmt = F.scope_filter(
        stmt, scope, community_col=DashboardFact.community_id, agency_col=DashboardFact.agency_id
    )
    page = db.paginate(
        select(Case).where(Case.id.in_(stmt)).order_by(Case.id.desc()),
        per_page=CASES_PAGE,
        error_out=False,
    )
    return render_template(
        "dashboard/cases.html",
        page=page,
        scope=scope,
        kind=kind,
        outcome=outcome,
        start=start,
        end=end,
        page_args=query_args("page"),
    )


@bp.get("/dashboard/methods")
@public
def methods():
    return render_template("dashboard/methods.html")


def headline(scope: F.Scope) -> dict:
    """The last 30 days' headline figures of ``scope``, for the home, community and agency
    pages (a few summed rows)."""
    end = today()
    start = end - timedelta(days=29)
    # Shared by every worker for a few seconds (Redis, or nothing): the home page is read by
    # signed-in people too, whose pages are never kept by HTTP caches.
    key = f"dashboard:headline:{scope.level}:{getattr(scope.obj, 'id', 0)}:{end.isoformat()}"
    s = cache.get(key)
    if s is None:
        s = F.summary(scope, start, end, clock.now())
        cache.set(key, s, timeout=HEADLINE_SECONDS)
    return {"scope": scope, "start": start, "end": end, "s": s}


@bp.app_template_global("agency_headline")
def agency_headline(agency: Agency) -> dict:
    """The agency's headline figures, for its pages (the agency workspace); the dashboard's
    agency scope is the agency's public page."""
    return headline(F.Scope("agency", agency))


def community_section(community: Community) -> dict:
    return {"dashboard_headline": headline(F.Scope("community", community))}
