"""Walks every registered route: each carries a guard, and the guards really refuse."""

from __future__ import annotations

import pytest

# Every public endpoint, deliberately listed: a new public route must be added here on purpose.
PUBLIC = {
    "main.home",
    "main.set_language",
    "main.set_display",
    "main.healthz",
    "accounts.register",
    "accounts.complete_registration",
    "accounts.login",
    "accounts.send_login_code",
    "accounts.verify_login_code",
    "accounts.second_step",
    "accounts.privacy",
    "api.send_sms_code",
    "accounts.confirm_email",
    "accounts.reset_request",
    "accounts.reset_password",
    "places.districts",
    "places.district",
    "places.community",
    "api.openapi",
    "api.create_token",
    "api.wechat_sign_in",
    "api.wechat_link",
    "api.create_account",
    "api.communities",
    "api.community",
    "proposals.community_list",
    "proposals.district_list",
    "proposals.show",
    "api.categories",
    "api.proposals_list",
    "api.similar_proposals",
    "api.proposal",
    "proposals.photo",
    "dashboard.index",
    "dashboard.cases",
    "dashboard.methods",
    "cases.index",
    "desks.search",
    "cases.show",
    "meetings.community_meetings",
    "meetings.show",
    "meetings.meeting_ics",
    "meetings.community_ics",
    "api.meetings_list",
    "api.meeting",
    "api.cases_list",
    "api.case",
    "api.agencies",
    "api.routing_rules",
    "deliberation.log",
    "cases.photo",
    "api.comments",
    "api.moderation_log",
    "votes.show",
    "votes.community_list",
    "api.vote",
    # Open311 GeoReport v2: public reads; its POST is authenticated by an api_key in the view.
    "open311.discovery",
    "open311.services",
    "open311.service_definition",
    "open311.requests_list",
    "open311.request_detail",
    "open311.token",
    "open311.create_request",
    "open311.unknown",
    "opendata.index",
    "opendata.proposals_csv",
    "opendata.proposals_json",
    "opendata.cases_csv",
    "opendata.cases_json",
    "opendata.proposals_feed",
    "opendata.community_proposals_feed",
    "opendata.community_cases_feed",
    "opendata.agency_cases_feed",
    "opendata.community_meetings_feed",
}
# Routes that need more than being signed in: a resident without roles is refused.
STAFF_ONLY = {
    "residency.queue",
    "residency.decide",
    "residency.invitations",
    "residency.print_batch",
    "api.residency_requests",
    "api.decide_residency",
    "admin.index",
    "admin.role_grants",
    "admin.revoke_role",
    "admin.agencies",
    "audit.log",
    "proposals.review_queue",
    "api.review_queue",
    "admin.categories",
    "admin.support_rules",
    "cases.liaison",
    "cases.supervisor",
    "admin.routing",
    "admin.delete_routing",
    "admin.calendar",
    "deliberation.workspace",
    "deliberation.moderate",
    "deliberation.decide",
    "api.moderation_queue",
    "meetings.new",
    "admin.open311_keys",
    "admin.revoke_open311_key",
}
SAMPLE_ARGS = {
    "code": "110101001001",
    "token": "x",
    "batch_id": 1,
    "notification_id": 1,
    "proposal_id": 1,
    "photo_id": 1,
    "category_id": 1,
    "comment_id": 1,
    "appeal_id": 1,
    "number": "110101001001-2026-00001",
    "size": "thumb",
    "request_id": 1,
    "meeting_id": 1,
    "item_id": 1,
    "invitation_id": 1,
    "question_id": 1,
    "vote_id": 1,
    "fmt": "json",
    "key_id": 1,
    "rest": "nothing-here",
    "session_ref": "x",
    "token_id": 1,
}


def _rules(app):
    return [r for r in app.url_map.iter_rules() if r.endpoint != "static"]


def _url(rule) -> str:
    return rule.build({k: SAMPLE_ARGS[k] for k in rule.arguments}, append_unknown=False)[1]


def _method(rule) -> str:
    return "GET" if "GET" in rule.methods else sorted(rule.methods - {"HEAD", "OPTIONS"})[0]


def test_every_route_has_a_guard(app):
    missing = [
        r.endpoint
        for r in _rules(app)
        if getattr(app.view_functions[r.endpoint], "__guard__", None) is None
    ]
    assert not missing, f"routes without an authorization guard: {missing}"


def test_public_routes_are_exactly_the_listed_ones(app):
    public = {
        r.endpoint
        for r in _rules(app)
        if getattr(app.view_functions[r.endpoint], "__guard__", None) == "public"
    }
    assert public == PUBLIC


def test_anonymous_visitors_are_refused_everywhere_else(app):
    client = app.test_client()
    for rule in _rules(app):
        if rule.endpoint in PUBLIC:
            continue
        method = _method(rule)
        url = _url(rule)
        headers = {}
        if url.startswith("/api/"):
            r = client.open(url, method=method, json={}, headers=headers)
            assert r.status_code == 401, (rule.endpoint, r.status_code)
        else:
            r = client.open(url, method=method)
            # Forms refuse a missing CSRF token first (400); pages send to the sign-in page.
            assert r.status_code in (302, 400), (rule.endpoint, r.status_code)
            if r.status_code == 302:
                assert "/login" in r.headers["Location"], rule.endpoint


@pytest.mark.parametrize("who", ["resident", "grid_worker", "liaison", "committee_b"])
def test_people_without_the_role_are_refused_staff_routes(app, login_as, who, api_token):
    client = app.test_client()
    login_as(who, client)
    headers = api_token(who)
    token = client.csrf_token("/")
    for rule in _rules(app):
        if rule.endpoint not in STAFF_ONLY:
            continue
        method = _method(rule)
        url = _url(rule)
        if url.startswith("/api/"):
            r = client.open(url, method=method, json={"decision": "approve"}, headers=headers)
        else:
            r = client.open(
                url,
                method=method,
                data={
                    "csrf_token": token,
                    "request_id": "1",
                    "grant_id": "1",
                    "decision": "approve",
                    "target": "proposal:999999",
                    "action": "hide",
                },
            )
        assert r.status_code in (403, 404), (who, rule.endpoint, r.status_code)


def test_admin_reaches_admin_pages(app, login_as):
    client = app.test_client()
    login_as("admin", client)
    for url in ("/admin/", "/admin/roles", "/admin/agencies", "/admin/audit"):
        assert client.get(url).status_code == 200, url


def test_workspaces_refuse_other_roles(app, login_as):
    client = app.test_client()
    for who in ("resident", "committee", "liaison"):
        login_as(who, client)
        assert client.get("/workspace/grid").status_code == 403, who
    for who in ("resident", "grid_worker", "supervisor"):
        login_as(who, client)
        assert client.get("/workspace/agency/health-commission").status_code == 403, who
    for who in ("resident", "liaison", "committee"):
        login_as(who, client)
        assert client.get("/workspace/supervisor/110101").status_code == 403, who
