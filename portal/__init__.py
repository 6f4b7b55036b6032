"""Commons (社区议事厅): the app factory."""

from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from portal.config import ROOT, load_config
from portal.core.urls import Portal, refuse_untrusted_host


def create_app(config: dict | None = None) -> Flask:
    cfg = load_config(config)
    app = Portal(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "portal" / "static"),
        instance_path=cfg["INSTANCE_PATH"],
    )
    from portal.core.templating import LocalizedEnvironment

    # Before anything reads ``app.jinja_env``, which Flask builds from this class once.
    app.jinja_environment = LocalizedEnvironment
    app.config.update(cfg)
    app.config["TESTING"] = cfg["COMMONS_ENV"] == "testing" or cfg.get("TESTING", False)
    # Before every other hook: a request for an unknown host (TRUSTED_HOSTS) goes no further.
    app.before_request(refuse_untrusted_host)
    if cfg["COMMONS_ENV"] == "production":
        # One TLS-terminating proxy in front: trust its X-Forwarded-For and -Proto, and nothing
        # else (its X-Forwarded-Host would let a client choose the host links are built for).
        # Wrapping wsgi_app is Flask's documented way to add middleware; mypy sees a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    logging.getLogger("portal").setLevel(logging.INFO)

    _init_extensions(app)
    from portal.core import input as input_layer

    input_layer.install(app)  # the ``id`` converter must exist before the routes use it
    _register_blueprints(app)
    _register_cli(app)

    from portal.core import http_cache
    from portal.core.errors import install_error_handlers
    from portal.core.security import install_headers
    from portal.core.templating import install_templating

    install_error_handlers(app)
    connect_signals(app)
    http_cache.install(app)  # before the header hook, so that it sees a signed-in no-store
    install_headers(app)
    install_templating(app)
    install_template_globals(app)
    _add_community_sections(app)
    _connect_proposal_page(app)
    return app


def _connect_proposal_page(app: Flask) -> None:
    """What the features built on proposals add to a proposal (its case, the deliberation on
    its page): proposals import neither."""
    from portal.cases.api import proposal_case
    from portal.cases.services import brief, case_for_proposal, cases_for_proposals, with_briefs
    from portal.cases.views import proposal_page_section as case_section
    from portal.deliberation.views import proposal_page_section
    from portal.proposals import hooks

    hooks.set_case_lookup(case_for_proposal, cases_for_proposals, proposal_case)
    hooks.set_case_columns(with_briefs, brief)
    hooks.add_page_section(app, case_section)
    hooks.add_page_section(app, proposal_page_section)
    from portal.cases.views import add_case_page_section
    from portal.meetings.views import case_page_section
    from portal.meetings.views import proposal_page_section as meetings_section

    hooks.add_page_section(app, meetings_section)
    add_case_page_section(app, case_page_section)
    from portal.notifications.services import set_live_state

    set_live_state(_notification_states)


def _notification_states(rows) -> dict[int, str]:
    """A notification about a proposal that became a case, or about a case, tells the case's
    stage now (in the reader's language): one query for a page of notifications."""
    from portal.cases.services import case_stages, stage_text

    def ids(kind: str) -> set[int]:
        return {
            int(n.subject_id) for n in rows if n.subject_type == kind and n.subject_id.isdigit()
        }

    by_id, by_proposal = case_stages(ids("cases"), ids("proposals"))
    found = {}
    for n in rows:
        if not n.subject_id.isdigit():
            continue
        table = (
            by_proposal
            if n.subject_type == "proposals"
            else by_id
            if n.subject_type == "cases"
            else {}
        )
        case = table.get(int(n.subject_id))
        if case is not None:
            found[n.id] = stage_text(case)
    return found


def _add_community_sections(app: Flask) -> None:
    """The community page (``places``) shows what the features know of the community."""
    from portal.deliberation.services import figures
    from portal.places.views import add_community_section
    from portal.proposals.services import review_queue_size

    def reviews_and_figures(community) -> dict:
        return {"waiting": review_queue_size(community), "figures": figures(community)}

    add_community_section(app, reviews_and_figures)
    from portal.meetings.views import community_page_section

    add_community_section(app, community_page_section)
    from portal.transparency.dashboard.views import community_section

    add_community_section(app, community_section)


def install_template_globals(app: Flask) -> None:
    """The template globals that read the features: here, where every layer may be imported,
    so that ``core.templating`` needs none of them."""
    from flask_login import current_user

    from portal.cases import services as cases
    from portal.cases.cards import CaseLines, CaseParts, case_status
    from portal.core import clock
    from portal.deliberation import services as delib
    from portal.deliberation.targets import noun as target_noun
    from portal.desks.landing import landing_url
    from portal.desks.queries import desks_for, open_invitations, same_kind_twice
    from portal.meetings.services import decision_label as meeting_decision_label
    from portal.notifications.services import unread_count
    from portal.proposals import services as proposals
    from portal.proposals.cards import card_list, progress_bar, proposal_title, status_tag
    from portal.proposals.models import Status
    from portal.roles import permissions
    from portal.votes import services as votes

    app.jinja_env.globals.update(
        status_label=proposals.status_label,
        reason_label=proposals.reason_label,
        effective_status=proposals.effective_status,
        support_progress=proposals.support_progress,
        S=Status,
        button_label=cases.button_label,
        reason_text=delib.reason_text,
        case_state_label=cases.state_label,
        # A case's stage in words and the limit that runs now, wherever a proposal shows it.
        case_stage=cases.stage_text,
        case_deadline=cases.deadline,
        # The line of a proposal's case (``cases.cards.CaseLines``), made once a page.
        case_lines=CaseLines,
        # A card's progress toward its threshold (``proposals.cards.progress_bar``).
        bar=progress_bar,
        # A proposal's status as a tag; once it became a case, the case's stage instead
        # (``view_status`` for a list's ``CardView``, its label already looked up).
        status_tag=status_tag,
        proposal_status=lambda st, case=None: case_status(case) if case else status_tag(st),
        view_status=lambda c, case=None: (
            case_status(case) if case else status_tag(c.status, c.status_label)
        ),
        # A list page's proposal cards, with what each says of its case (``CaseParts``).
        proposal_cards=lambda items, mine, found: card_list(
            items, mine, found, CaseParts(clock.now())
        ),
        deadline_label=cases.deadline_label,
        # Whether the reader may see a proposal's text (no, once hidden, but for its author
        # and committee): lists of cases and supports show a placeholder instead.
        can_read_proposal=lambda p: proposals.can_read(current_user, p),
        proposal_title=proposal_title,
        perm=permissions,
        # The header's desks with their counts: asked by base.html only, once a request.
        header_desks=lambda: desks_for(current_user),
        # Where a signed-in person's work is (the page they land on): error pages lead there.
        my_desk_url=lambda: landing_url(current_user),
        same_kind_twice=same_kind_twice,
        # What a report or moderation action is about, in words ("comment", "question").
        target_noun=target_noun,
        meeting_decision_label=meeting_decision_label,
        # The open invitations of an agency, counted on its workspace.
        open_invitations=lambda agency: open_invitations(agency, current_user),
        # The votes of an agenda item (settled), for the meeting page's
        # ``{% include "votes/_item_votes.html" %}``, and the words of a vote.
        item_votes=votes.item_votes,
        can_put_item_to_vote=lambda item: votes.can_put_to_vote(current_user, item),
        vote_option_label=votes.option_label,
        vote_state_label=votes.state_label,
        vote_share=votes.share,
    )

    @app.context_processor
    def _people_globals():
        user = current_user
        return {"unread_count": unread_count(user) if user.is_authenticated else 0}


def _init_extensions(app: Flask) -> None:
    from portal.core.database import configure_engine, install_request_transaction
    from portal.core.i18n import select_locale, select_timezone
    from portal.extensions import babel, cache, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    install_request_transaction(app)
    with app.app_context():
        configure_engine(db.engine)
    migrate.init_app(
        app,
        db,
        directory=str(Path(__file__).resolve().parent.parent / "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        timezone_selector=select_timezone,
        default_translation_directories=str(Path(__file__).parent / "translations"),
    )
    limiter.init_app(app)
    cache.init_app(app)
    login_manager.init_app(app)
    from portal.places.services import install_city_timezone

    install_city_timezone()
    from portal.accounts import auth  # registers the user loader
    from portal.core import guards, limits
    from portal.roles.permissions import is_admin

    auth.install(app)
    from portal.accounts import mfa

    mfa.install(app)  # staff sessions pass the second step before anything else
    limits.set_token_lookup(auth.token_user_id)
    from portal.accounts.views import set_landing
    from portal.desks.landing import landing_url

    set_landing(landing_url)
    guards.set_admin_check(is_admin)
    # Import every model so metadata (and Alembic autogenerate) sees the whole schema.
    import portal.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from portal.accounts import bp as accounts_bp
    from portal.admin import bp as admin_bp
    from portal.api import bp as api_bp
    from portal.audit import bp as audit_bp
    from portal.cases import bp as cases_bp
    from portal.deliberation import bp as deliberation_bp
    from portal.desks import bp as desks_bp
    from portal.main import bp as main_bp
    from portal.meetings import bp as meetings_bp
    from portal.notifications import bp as notifications_bp
    from portal.opendata import bp as opendata_bp
    from portal.places import bp as places_bp
    from portal.privacy import bp as privacy_bp
    from portal.proposals import bp as proposals_bp
    from portal.residency import bp as residency_bp
    from portal.transparency.dashboard import bp as dashboard_bp
    from portal.transparency.open311 import bp as open311_bp
    from portal.votes import bp as votes_bp

    for bp in (
        main_bp,
        accounts_bp,
        places_bp,
        proposals_bp,
        cases_bp,
        deliberation_bp,
        meetings_bp,
        residency_bp,
        votes_bp,
        opendata_bp,
        notifications_bp,
        admin_bp,
        audit_bp,
        privacy_bp,
        desks_bp,
        dashboard_bp,
        api_bp,
        open311_bp,
    ):
        app.register_blueprint(bp)


def _register_cli(app: Flask) -> None:
    from portal.cli import register

    register(app)


def connect_signals(app: Flask) -> None:
    """Subscribe each feature to the domain events of those below it (blinker signals declared
    by their publishers). Here, not on import: importing a module connects nothing."""
    from portal.cases.services import install as install_cases
    from portal.deliberation.services import install as install_deliberation

    install_cases(app)
    install_deliberation(app)
    from portal.meetings.services import install as install_meetings

    install_meetings(app)
    from portal.transparency.dashboard.rollup import install as install_dashboard

    install_dashboard(app)
    from portal.meetings.api import add_item_extra
    from portal.votes import services as votes
    from portal.votes.api import vote_json

    # The meeting's JSON shows each item's votes, as its page does.
    add_item_extra(
        app,
        lambda item, user: {"votes": [vote_json(v, user) for v in votes.item_votes(item)]},
    )
