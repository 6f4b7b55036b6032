"""Votes (表决): putting an item to a vote, eligibility frozen at opening, secret ballots
changeable while open, finalising exactly once, results with turnout and quorum."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from portal.core import clock
from portal.votes.models import Ballot, Elector, Vote
from tests.conftest import user_by_email
from tests.votes.factories import make_item, make_vote


def iso(dt) -> str:
    return dt.isoformat().replace("+00:00", "Z")


def body(**extra):
    now = clock.now()
    data = {
        "question": "是否在北门加装路灯？",
        "kind": "for-against-abstain",
        "opens_at": iso(now),
        "closes_at": iso(now + timedelta(days=2)),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


@pytest.fixture
def item(community):
    return make_item(community)


# --- putting an item to a vote -----------------------------------------------------------------


def test_committee_puts_an_item_to_a_for_against_abstain_vote(client, api_token, item, db):
    from portal.audit.models import AuditEntry

    r = client.post(
        f"/api/v1/agenda-items/{item.id}/vote",
        json=body(quorum_percent=30),
        headers=api_token("committee"),
    )
    assert r.status_code == 201, r.get_json()
    data = r.get_json()
    assert [o["key"] for o in data["options"]] == ["for", "against", "abstain"]
    assert [o["label"] for o in data["options"]] == ["赞成", "反对", "弃权"]
    assert all(isinstance(o["id"], int) for o in data["options"])
    assert data["state"] == "open" and data["totals"] is None and data["quorum_percent"] == 30
    # The frozen list: every confirmed resident of the community, counted.
    residents = db.session.scalar(
        sa.select(sa.func.count())
        .select_from(sa.text("users"))
        .where(sa.text("community_id = :c")),
        {"c": item.meeting.community_id},
    )
    assert data["eligible_count"] == residents > 0
    entry = db.session.scalar(
        sa.select(AuditEntry).where(
            AuditEntry.action == "vote.create", AuditEntry.subject_id == str(data["id"])
        )
    )
    assert entry is not None and entry.actor_id == user_by_email("committee@example.org").id
    # English labels for an English reader.
    r = client.get(f"/api/v1/votes/{data['id']}", headers={"Accept-Language": "en"})
    assert [o["label"] for o in r.get_json()["options"]] == ["For", "Against", "Abstain"]


def test_committee_puts_an_item_to_a_vote_with_options_of_its_own(client, api_token, item):
    r = client.post(
        f"/api/v1/agenda-items/{item.id}/vote",
        json=body(kind=None, options=["东侧", "西侧", "<b>都不要</b>"]),
        headers=api_token("committee"),
    )
    assert r.status_code == 201
    assert [o["label"] for o in r.get_json()["options"]] == ["东侧", "西侧", "<b>都不要</b>"]
    assert [o["key"] for o in r.get_json()["options"]] == [None, None, None]


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"kind": None, "options": ["只有一个"]}, "options"),
        ({"kind": None, "options": [str(i) for i in range(7)]}, "options"),
        ({"kind": None, "options": ["同", "同"]}, "options"),
        ({"kind": None, "options": ["甲", "  "]}, "options"),
        ({"options": ["甲", "乙"]}, "body"),  # both ways at once
        ({"kind": None}, "body"),  # neither
        ({"quorum_percent": 0}, "quorum_percent"),
        ({"quorum_percent": 101}, "quorum_percent"),
        ({"question": "  "}, "question"),
    ],
)
def test_bad_votes_are_refused_at_their_field(client, api_token, item, extra, field, db):
    r = client.post(
        f"/api/v1/agenda-items/{item.id}/vote", json=body(**extra), headers=api_token("committee")
    )
    assert r.status_code == 400, r.get_json()
    err = r.get_json()["error"]
    assert err["code"] == "validation_failed" and field in err["fields"]
    assert db.session.scalar(sa.select(sa.func.count(Vote.id))) == 0


def test_closing_before_opening_and_opening_in_the_past_are_refused(client, api_token, item):
    now = clock.now()
    headers = api_token("committee")
    url = f"/api/v1/agenda-items/{item.id}/vote"
    r = client.post(url, json=body(closes_at=iso(now - timedelta(minutes=1))), headers=headers)
    assert r.status_code == 400 and "closes_at" in r.get_json()["error"]["fields"]
    r = client.post(
        url,
        json=body(opens_at=iso(now + timedelta(days=1)), closes_at=iso(now + timedelta(days=1))),
        headers=headers,
    )
    assert r.status_code == 400 and "closes_at" in r.get_json()["error"]["fields"]
    r = client.post(url, json=body(opens_at=iso(now - timedelta(hours=1))), headers=headers)
    assert r.status_code == 400 and "opens_at" in r.get_json()["error"]["fields"]
    # A little in the past is tolerated (the form took a minute to fill in).
    r = client.post(url, json=body(opens_at=iso(now - timedelta(minutes=2))), headers=headers)
    assert r.status_code == 201


@pytest.mark.parametrize("who", ["resident", "committee_b", "admin", "liaison", "supervisor"])
def test_only_the_committee_of_the_community_puts_to_a_vote(client, api_token, item, who):
    r = client.post(f"/api/v1/agenda-items/{item.id}/vote", json=body(), headers=api_token(who))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "forbidden"


def test_unknown_or_draft_items_are_not_found(client, api_token, community):
    draft = make_item(community, state="draft")
    r = client.post("/api/v1/agenda-items/999999/vote", json=body(), headers=api_token("committee"))
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/agenda-items/{draft.id}/vote", json=body(), headers=api_token("resident")
    )
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/agenda-items/{draft.id}/vote", json=body(), headers=api_token("committee")
    )
    assert r.status_code == 201  # the committee prepares the draft's votes
    vote_id = r.get_json()["id"]
    assert client.get(f"/api/v1/votes/{vote_id}").status_code == 404
    assert client.get(f"/api/v1/votes/{vote_id}", headers=api_token("committee")).status_code == 200


def test_a_cancelled_meeting_takes_no_vote_and_no_ballot(app, client, api_token, community, db):
    from portal.meetings.models import MeetingState

    cancelled = make_item(community, state="cancelled")
    r = client.post(
        f"/api/v1/agenda-items/{cancelled.id}/vote", json=body(), headers=api_token("committee")
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_cancelled"
    vote = make_vote(app, community)
    meeting = vote.item.meeting
    meeting.state = MeetingState.cancelled.value
    meeting.cancelled_at, meeting.cancel_reason = clock.now(), "下雨"
    db.session.commit()
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": vote.options[0].id},
        headers=api_token("resident"),
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "meeting_cancelled"


# --- ballots ---------------------------------------------------------------------------------


def test_a_resident_casts_and_changes_a_secret_ballot(app, client, api_token, community, db):
    vote = make_vote(app, community)
    first, second = vote.options[0].id, vote.options[1].id
    me = api_token("resident")
    r = client.put(f"/api/v1/votes/{vote.id}/ballot", json={"option": first}, headers=me)
    assert r.status_code == 200 and r.get_json()["my_ballot"] == first
    r = client.put(f"/api/v1/votes/{vote.id}/ballot", json={"option": second}, headers=me)
    assert r.status_code == 200 and r.get_json()["my_ballot"] == second
    assert r.get_json()["voted"] is True and r.get_json()["totals"] is None
    rows = db.session.execute(sa.select(Ballot.user_id, Ballot.option_id)).all()
    assert rows == [(user_by_email("resident1@example.org").id, second)]  # one ballot, changed
    # Nobody else sees it: another resident, the committee, an admin, a visitor.
    for headers in (api_token("resident2"), api_token("committee"), api_token("admin"), {}):
        data = client.get(f"/api/v1/votes/{vote.id}", headers=headers).get_json()
        assert data["my_ballot"] is None and data["totals"] is None and data["turnout"] is None
    assert client.get(f"/api/v1/votes/{vote.id}", headers=me).get_json()["my_ballot"] == second


def test_option_of_another_vote_is_refused(app, client, api_token, community):
    vote, other = make_vote(app, community), make_vote(app, community)
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": other.options[0].id},
        headers=api_token("resident"),
    )
    assert r.status_code == 400 and r.get_json()["error"]["fields"] == {
        "option": r.get_json()["error"]["message"]
    }
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot", json={"option": "1"}, headers=api_token("resident")
    )
    assert r.status_code == 400 and "option" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("who", ["resident_b", "committee", "admin", "liaison"])
def test_only_confirmed_residents_of_the_community_vote(app, client, api_token, community, who):
    vote = make_vote(app, community)
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": vote.options[0].id},
        headers=api_token(who),
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_eligible"


def test_residents_confirmed_after_opening_do_not_vote(
    app, client, api_token, community, make_user, db
):
    from portal.residency import services as residency

    vote = make_vote(app, community)
    newcomer = make_user()
    with app.test_request_context("/"):
        req = residency.request_residency(newcomer, community, "5号楼")
        residency.decide(user_by_email("committee@example.org"), req, "approve", None)
        db.session.commit()
    assert newcomer.community_id == community.id
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": vote.options[0].id},
        headers=api_token(newcomer),
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_eligible"
    assert (
        client.get(f"/api/v1/votes/{vote.id}", headers=api_token(newcomer)).get_json()["eligible"]
        is False
    )


def test_the_list_is_frozen_at_the_opening_time_however_late_it_is_opened(
    app, client, api_token, community, make_user, db
):
    """Nobody read the vote at its opening time; a resident confirmed in between is still not
    in the list when a later read opens it (the rule is the confirmation time)."""
    from portal.residency import services as residency

    start = clock.now()
    clock.freeze(start)
    vote = make_vote(app, community, opens_in=timedelta(hours=1))
    assert vote.state == "scheduled"
    before = make_user()
    with app.test_request_context("/"):
        req = residency.request_residency(before, community, "1号楼")
        residency.decide(user_by_email("committee@example.org"), req, "approve", None)
        db.session.commit()
    clock.freeze(start + timedelta(hours=2))
    late = make_user()
    with app.test_request_context("/"):
        req = residency.request_residency(late, community, "2号楼")
        residency.decide(user_by_email("committee@example.org"), req, "approve", None)
        db.session.commit()
    option = {"option": vote.options[0].id}
    r = client.put(f"/api/v1/votes/{vote.id}/ballot", json=option, headers=api_token(late))
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "not_eligible"
    r = client.put(f"/api/v1/votes/{vote.id}/ballot", json=option, headers=api_token(before))
    assert r.status_code == 200
    electors = set(db.session.scalars(sa.select(Elector.user_id).where(Elector.vote_id == vote.id)))
    assert before.id in electors and late.id not in electors
    assert db.session.get(Vote, vote.id).eligible_count == len(electors)


def test_a_ballot_before_opening_is_refused(app, client, api_token, community):
    vote = make_vote(app, community, opens_in=timedelta(days=1))
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": vote.options[0].id},
        headers=api_token("resident"),
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "vote_not_open"
    data = client.get(f"/api/v1/votes/{vote.id}").get_json()
    assert data["state"] == "scheduled" and data["eligible_count"] is None


# --- closing ---------------------------------------------------------------------------------


def _cast(client, api_token, vote, who, index):
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": vote.options[index].id},
        headers=api_token(who),
    )
    assert r.status_code == 200, r.get_json()


def test_the_first_read_after_closing_finalises_once(app, client, api_token, community, db):
    from portal.notifications.models import Notification

    start = clock.now()
    clock.freeze(start)
    vote = make_vote(app, community, quorum_percent=1)
    _cast(client, api_token, vote, "resident", 0)
    _cast(client, api_token, vote, "resident2", 1)
    _cast(client, api_token, vote, "resident2", 0)
    clock.freeze(vote.closes_at + timedelta(seconds=1))
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": vote.options[0].id},
        headers=api_token("resident"),
    )
    assert r.status_code == 409 and r.get_json()["error"]["code"] == "vote_closed"
    data = client.get(f"/api/v1/votes/{vote.id}", headers=api_token("resident")).get_json()
    assert data["state"] == "closed"
    assert data["totals"] == [
        {"option": vote.options[0].id, "count": 2},
        {"option": vote.options[1].id, "count": 0},
        {"option": vote.options[2].id, "count": 0},
    ]
    assert data["turnout"] == 2 and data["quorum_met"] is True
    assert data["my_ballot"] is None and data["voted"] is True
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0
    # Read again: nothing changes, nobody is told twice.
    again = client.get(f"/api/v1/votes/{vote.id}").get_json()
    assert again["totals"] == data["totals"] and again["closed_at"] == data["closed_at"]
    told = db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.type == "vote_closed", Notification.subject_id == str(vote.id)
        )
    )
    assert told == data["eligible_count"]


def test_quorum_not_met(app, client, api_token, community, make_user):
    for _ in range(8):
        make_user(community=community)
    vote = make_vote(app, community, quorum_percent=50)
    _cast(client, api_token, vote, "resident", 2)
    clock.freeze(vote.closes_at)
    data = client.get(f"/api/v1/votes/{vote.id}").get_json()
    assert data["turnout"] == 1 and data["eligible_count"] >= 10
    assert data["quorum_met"] is False
    assert [t["count"] for t in data["totals"]] == [0, 0, 1]


def test_opening_and_closing_tell_the_electors_once(app, client, api_token, community, db):
    from portal.notifications.models import Notification

    vote = make_vote(app, community, opens_in=timedelta(hours=1))

    def told(kind):
        return set(
            db.session.scalars(
                sa.select(Notification.user_id).where(
                    Notification.type == kind, Notification.subject_id == str(vote.id)
                )
            )
        )

    assert told("vote_opened") == set()
    clock.freeze(vote.opens_at)
    for _ in range(2):
        client.get(f"/api/v1/votes/{vote.id}")
    electors = set(db.session.scalars(sa.select(Elector.user_id).where(Elector.vote_id == vote.id)))
    assert electors and told("vote_opened") == electors
    n = db.session.scalar(
        sa.select(sa.func.count(Notification.id)).where(Notification.type == "vote_opened")
    )
    assert n == len(electors)
    assert user_by_email("resident.b@example.org").id not in electors


def test_the_sweep_opens_and_closes_due_votes_once(app, community, db):
    opening = make_vote(app, community, opens_in=timedelta(hours=1))
    closing = make_vote(app, community)
    clock.freeze(closing.closes_at + timedelta(minutes=1))
    runner = app.test_cli_runner()
    result = runner.invoke(args=["votes", "close-due"])
    assert result.exit_code == 0, result.output
    assert "1 opened, 1 closed" in result.output
    db.session.expire_all()
    assert db.session.get(Vote, closing.id).state == "closed"
    assert db.session.get(Vote, opening.id).state == "open"
    assert "0 opened, 0 closed" in runner.invoke(args=["votes", "close-due"]).output


def test_the_meeting_json_shows_each_items_votes_as_the_vote_json_does(
    app, client, api_token, community
):
    """GET /meetings/{id} carries the item's votes (the meetings feature knows nothing of
    votes: they are added where the app is put together): the caller's own ballot while
    open, no totals until closing."""
    vote = make_vote(app, community)
    me = api_token("resident")
    option = vote.options[0].id
    r = client.put(f"/api/v1/votes/{vote.id}/ballot", json={"option": option}, headers=me)
    assert r.status_code == 200
    meeting_id = vote.item.meeting_id
    for headers in ({}, me):
        data = client.get(f"/api/v1/meetings/{meeting_id}", headers=headers).get_json()
        (item,) = data["items"]
        (shown,) = item["votes"]
        assert shown == client.get(f"/api/v1/votes/{vote.id}", headers=headers).get_json()
        assert shown["totals"] is None
    assert shown["my_ballot"] == option


def test_ballots_are_rate_limited_on_the_page_and_the_api_together(
    app, client, api_token, login_as, community
):
    from portal.extensions import limiter

    vote = make_vote(app, community)
    first, second = vote.options[0].id, vote.options[1].id
    app.config["BALLOT_LIMIT"] = "2 per minute"
    limiter.reset()
    try:
        me = api_token("resident")
        put = client.put(f"/api/v1/votes/{vote.id}/ballot", json={"option": first}, headers=me)
        assert put.status_code == 200
        login_as("resident")
        page = client.form(f"/votes/{vote.id}/ballot", {"option": str(second)})
        assert page.status_code == 302  # the second of two: stored
        again = client.put(f"/api/v1/votes/{vote.id}/ballot", json={"option": first}, headers=me)
        assert again.status_code == 429
    finally:
        app.config["BALLOT_LIMIT"] = "30 per minute;300 per hour"
        limiter.reset()


def test_a_resident_blocked_in_the_community_does_not_vote(app, client, api_token, community, db):
    from portal.blocks.models import Block

    vote = make_vote(app, community)
    me = user_by_email("resident1@example.org")
    db.session.add(Block(community_id=community.id, user_id=me.id, reason="人身攻击"))
    db.session.commit()
    r = client.put(
        f"/api/v1/votes/{vote.id}/ballot",
        json={"option": vote.options[0].id},
        headers=api_token("resident"),
    )
    assert r.status_code == 403 and r.get_json()["error"]["code"] == "blocked"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Ballot)) == 0


def test_where_people_sign_in_by_phone_a_ballot_needs_a_verified_number(
    app, client, api_token, community, make_user, db
):
    newcomer = make_user(community=community)  # an email account, confirmed before opening
    vote = make_vote(app, community)
    saved = app.config["SIGN_IN_METHODS"]
    app.config["SIGN_IN_METHODS"] = ("phone",)
    try:
        r = client.put(
            f"/api/v1/votes/{vote.id}/ballot",
            json={"option": vote.options[0].id},
            headers=api_token(newcomer),
        )
        assert r.status_code == 403 and r.get_json()["error"]["code"] == "phone_required"
        # A demo resident has a verified number and votes.
        r = client.put(
            f"/api/v1/votes/{vote.id}/ballot",
            json={"option": vote.options[0].id},
            headers=api_token("resident"),
        )
        assert r.status_code == 200
    finally:
        app.config["SIGN_IN_METHODS"] = saved
