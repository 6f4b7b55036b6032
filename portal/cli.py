"""Command-line verbs: ``flask demo``, ``flask places import``, ``flask roles grant|revoke``,
``flask outbox send``."""

from __future__ import annotations

from pathlib import Path

import click
from flask import Flask
from flask.cli import AppGroup

from portal.extensions import db

places_cli = AppGroup("places", help="Administrative places (the grid).")
roles_cli = AppGroup("roles", help="Scoped role grants.")
outbox_cli = AppGroup("outbox", help="Outgoing email and text messages.")
proposals_cli = AppGroup("proposals", help="Proposals.")
votes_cli = AppGroup("votes", help="Votes (表决) on agenda items.")
privacy_cli = AppGroup("privacy", help="Retention of personal data.")


@privacy_cli.command("anonymise")
def privacy_anonymise() -> None:
    """Strip personal data from residency requests, reports and feedback closed more than
    ANONYMISE_AFTER_DAYS ago, and forget staff views older than ACCESS_LOG_DAYS (safe to run
    again; run it daily)."""
    from portal.core import clock
    from portal.privacy.retention import anonymise

    done = anonymise(clock.now())
    db.session.commit()
    click.echo(", ".join(f"{n} {what.replace('_', ' ')}" for what, n in done.items()))


opendata_cli = AppGroup("opendata", help="Open data files.")


@opendata_cli.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def opendata_export(directory: Path) -> None:
    """Write today's proposals and cases as CSV and JSON into DIRECTORY (dated names), and a
    README.md of the columns in English and Chinese. Reads only; safe to run at any time."""
    from portal.opendata.files import export

    with _request_context():  # the README's column notes are said in both languages
        for path in export(directory):
            click.echo(str(path))


def file_waiting_cases() -> tuple[int, int]:
    """Retry filing every proposal waiting to be filed, each committed on its own (the
    sweep's; the service only files). Returns (filed, still waiting)."""
    from portal.proposals.services import file_waiting

    filed = waiting = 0
    for was_filed in file_waiting():
        db.session.commit()
        filed, waiting = filed + was_filed, waiting + (not was_filed)
    db.session.commit()
    return filed, waiting


@proposals_cli.command("sweep")
def proposals_sweep() -> None:
    """Qualify proposals left open at their threshold, retry filing the cases of those waiting
    to be filed, then stamp those whose support window closed as expired (safe to run again)."""
    from portal.proposals.services import qualify_reached, sweep

    with _request_context():  # qualifying notifies the author, with a link
        qualified, failed = qualify_reached()
        db.session.commit()
        filed, waiting = file_waiting_cases()
        expired = 0
        while True:
            n = sweep()
            db.session.commit()
            expired += n
            if n == 0:
                break
    click.echo(f"{qualified} qualified, {filed} filed, {expired} expired")
    if waiting:
        click.echo(f"{waiting} still waiting to be filed as a case (see the log)", err=True)
    if failed:
        click.echo(
            f"{failed} reached their threshold but could not qualify (see the log)", err=True
        )


@votes_cli.command("close-due")
def votes_close_due() -> None:
    """Open the votes whose opening time passed (their electors frozen, told) and finalise
    those whose closing time passed (totals published, ballots deleted, electors told), each
    exactly once and committed on its own (safe to run again, and beside readers)."""
    from portal.votes.models import Vote, VoteState
    from portal.votes.services import due_votes, settle

    opened = closed = 0
    with _request_context():  # notifications carry a link
        for vote_id in due_votes():
            vote = db.session.get(Vote, vote_id)
            if vote is None:
                continue
            before = vote.state
            settle(vote)
            db.session.commit()
            opened += before == VoteState.scheduled and vote.state != VoteState.scheduled
            closed += vote.state == VoteState.closed and before != VoteState.closed
    click.echo(f"{opened} opened, {closed} closed")


@places_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--crs",
    type=click.Choice(["wgs84", "gcj02"]),
    default="wgs84",
    show_default=True,
    help="Coordinate system of the polygons: gcj02 for data from Chinese map services "
    "(AMap/Gaode, Tencent), converted to WGS84 on import.",
)
def places_import(file: Path, crs: str) -> None:
    """Load places from a CSV or GeoJSON FILE (created or updated by code)."""
    from portal.places.services import ImportError_, import_file

    try:
        counts = import_file(file, crs)
    except (ImportError_, ValueError) as err:
        db.session.rollback()
        raise click.ClickException(str(err)) from None
    db.session.commit()
    click.echo(f"{counts['created']} created, {counts['updated']} updated")


def _user(who: str):
    """The account of an email address or a mobile number."""
    from portal.accounts.phones import find_person

    user = find_person(who)
    if user is None:
        raise click.ClickException(f"no account with email or number {who}")
    return user


ROLE_CHOICE = click.Choice(["committee", "grid_worker", "liaison", "supervisor", "admin"])


@roles_cli.command("grant")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@click.argument("scope_code", required=False, default="")
def roles_grant(email: str, role: str, scope_code: str) -> None:
    """Give EMAIL (an email address or a mobile number) the ROLE in SCOPE_CODE (community,
    grid, agency or district code)."""
    from portal.roles.models import Role
    from portal.roles.services import RoleError, grant

    try:
        grant(None, _user(email), Role(role), scope_code)
    except RoleError as err:
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"granted {role} {scope_code}".strip())


@roles_cli.command("revoke")
@click.argument("email")
@click.argument("role", type=ROLE_CHOICE)
@click.argument("scope_code", required=False, default="")
def roles_revoke(email: str, role: str, scope_code: str) -> None:
    """Take ROLE in SCOPE_CODE away from EMAIL (an email address or a mobile number)."""
    from portal.roles.models import Role, RoleGrant
    from portal.roles.services import RoleError, resolve_scope, revoke

    user = _user(email)
    try:
        scope = resolve_scope(Role(role), scope_code)
    except RoleError as err:
        raise click.ClickException(err.message) from None
    row = db.session.scalar(
        db.select(RoleGrant).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == Role(role),
            RoleGrant.scope_key == scope["scope_key"],
        )
    )
    if row is None:
        raise click.ClickException("no such grant")
    revoke(None, row)
    db.session.commit()
    click.echo(f"revoked {role} {scope_code}".strip())


@outbox_cli.command("send")
@click.option("--limit", default=200, show_default=True)
def outbox_send(limit: int) -> None:
    """Deliver queued email over SMTP (MAIL_SERVER must be set)."""
    from portal.notifications.mail import send_outbox

    sent = failed = 0
    try:
        for was_sent in send_outbox(limit):
            db.session.commit()
            sent, failed = sent + was_sent, failed + (not was_sent)
    except RuntimeError as err:
        raise click.ClickException(str(err)) from None
    except OSError as err:
        raise click.ClickException(f"cannot reach the mail server: {err}") from None
    click.echo(f"{sent} sent, {failed} failed")
    if failed:
        raise SystemExit(1)


@outbox_cli.command("list")
@click.option("--to", "to", required=True, help="A mobile number or an email address.")
@click.option("--limit", default=5, show_default=True)
def outbox_list(to: str, limit: int) -> None:
    """Show the latest messages (texts and mails) to a number or an address, newest first."""
    from portal.accounts.phones import normalize_phone
    from portal.notifications.sms import latest_to

    address = normalize_phone(to) or to.strip()
    rows = latest_to(address, limit)
    if not rows:
        click.echo(f"no messages to {address}")
    for msg in rows:
        state = "sent" if msg.sent_at else "queued"
        click.echo(f"#{msg.id} {msg.created_at:%Y-%m-%d %H:%M:%S}Z {msg.kind} ({state})")
        click.echo(f"  {msg.body}" if msg.subject == "SMS" else f"  {msg.subject}")


cases_cli = AppGroup("cases", help="Grid cases.")
routing_cli = AppGroup("routing", help="Routing of cases to agencies.")
calendar_cli = AppGroup("calendar", help="Working-day calendar (holidays and make-up days).")


@cases_cli.command("sweep")
def cases_sweep() -> None:
    """Settle verifications whose period ended and flag overdue cases (safe to run twice)."""
    from portal.cases.services import sweep

    with _request_context():
        done = sweep()
        db.session.commit()
    click.echo(
        f"{done['closed']} closed, {done['reopened']} reopened, {done['overdue']} newly overdue"
    )


meetings_cli = AppGroup("meetings", help="Community meetings (议事会).")


@meetings_cli.command("sweep")
def meetings_sweep() -> None:
    """Remind the liaisons of invited agencies a day before their written answer is due
    (each invitation once; safe to run again)."""
    from portal.meetings.services import remind_due_soon

    with _request_context():
        n = remind_due_soon()
        db.session.commit()
    click.echo(f"{n} invitations reminded")


def _request_context():
    """Services build links for notifications; give them a request context on the CLI."""
    from flask import current_app

    return current_app.test_request_context("/")


@routing_cli.command("set")
@click.argument("category")
@click.argument("place_code")
@click.argument("agency_code")
def routing_set(category: str, place_code: str, agency_code: str) -> None:
    """Route CATEGORY (a code, or * for the district fallback) at PLACE_CODE (district, street
    or community code) to AGENCY_CODE."""
    from portal.cases.services import CaseError, set_rule
    from portal.places.models import Community, District, Street
    from portal.proposals.models import Category
    from portal.roles.models import Agency

    cat = None
    if category != "*":
        cat = db.session.scalar(db.select(Category).where(Category.code == category))
        if cat is None:
            raise click.ClickException(f"no category {category}")
    levels: dict[int, type[District | Street | Community]] = {6: District, 9: Street, 12: Community}
    model = levels.get(len(place_code))
    place = model and db.session.scalar(db.select(model).where(model.code == place_code))
    if not place:
        raise click.ClickException(f"no district, street or community {place_code}")
    agency = db.session.scalar(db.select(Agency).where(Agency.code == agency_code))
    if agency is None:
        raise click.ClickException(f"no agency {agency_code}")
    try:
        set_rule(None, cat, place, agency)
    except CaseError as err:
        raise click.ClickException(err.message) from None
    db.session.commit()
    click.echo(f"{category} @ {place_code} -> {agency_code}")


@calendar_cli.command("set")
@click.argument("day", type=click.DateTime(formats=["%Y-%m-%d"]))
@click.argument("kind", type=click.Choice(["holiday", "workday"]))
@click.argument("note", required=False, default="")
def calendar_set(day, kind: str, note: str) -> None:
    """Mark DAY (YYYY-MM-DD) as a public holiday or a make-up working day (调休)."""
    from portal.cases.calendar import set_day

    set_day(day.date(), kind == "workday", note)
    db.session.commit()
    click.echo(f"{day.date()} {kind}")


@click.command("demo")
def demo() -> None:
    """Load the demo district, agencies and accounts, and a few months of life in its
    communities: proposals, discussions and cases made by the services (safe to run again)."""
    import time

    from portal.demo import credentials, load_demo
    from portal.demo.life import load_life

    started = time.monotonic()
    created = load_demo()
    db.session.commit()
    lived = load_life()
    db.session.commit()
    if created or lived:
        click.echo(f"demo data loaded in {time.monotonic() - started:.1f} s")
    else:
        click.echo("demo data already present")
    click.echo(credentials())


dashboard_cli = AppGroup("dashboard", help="The accountability dashboard's summary tables.")

REFRESH_BATCH = 500


@dashboard_cli.command("refresh")
@click.option("--all", "everything", is_flag=True, help="Rebuild both tables from all history.")
def dashboard_refresh(everything: bool) -> None:
    """Revisit the figures whose limits passed with nothing done and fill in any proposal not
    yet counted (run it nightly); ``--all`` rebuilds everything. Commits per batch."""
    from portal.core import clock
    from portal.transparency.dashboard import rollup

    if everything:
        rollup.rebuild_start()
        ids = rollup.all_proposal_ids()
    else:
        ids = rollup.due_for_refresh(clock.now())
    for i in range(0, len(ids), REFRESH_BATCH):
        rollup.refresh(ids[i : i + REFRESH_BATCH])
        db.session.commit()
    db.session.commit()
    click.echo(f"{len(ids)} proposals refreshed")


def register(app: Flask) -> None:
    for cmd in (
        places_cli,
        roles_cli,
        outbox_cli,
        proposals_cli,
        votes_cli,
        privacy_cli,
        opendata_cli,
        cases_cli,
        routing_cli,
        calendar_cli,
        meetings_cli,
        dashboard_cli,
        demo,
    ):
        app.cli.add_command(cmd)
