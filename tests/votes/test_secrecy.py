"""After a vote closes nothing links a voter to an option: not the database (no row, no id, no
timestamp), not the vote's pages or API answers for anyone, not the audit log, the
notifications or the application's log."""

from __future__ import annotations

import logging
import re

import pytest
import sqlalchemy as sa

from portal.core import clock
from portal.extensions import db as _db
from portal.votes.models import Elector, Vote, VoteOption
from tests.conftest import user_by_email
from tests.votes.factories import make_vote

LABELS = ["甲方案ALPHA", "乙方案BRAVO", "丙方案CHARLIE"]


def _references(column, table: str) -> bool:
    return any(fk.column.table.name == table for fk in column.foreign_keys)


@pytest.fixture
def closed_vote(app, client, api_token, community, make_user, caplog):
    """Six residents vote (two change their mind), then the vote closes."""
    caplog.set_level(logging.DEBUG)
    voters = [user_by_email("resident1@example.org"), user_by_email("resident2@example.org")]
    voters += [make_user(community=community) for _ in range(4)]
    vote = make_vote(app, community, options=LABELS, quorum_percent=10)
    choices = {}
    for i, voter in enumerate(voters):
        headers = api_token(voter)
        first = vote.options[(i + 1) % 3].id
        final = vote.options[i % 3].id
        for option in (first, final) if i < 2 else (final,):
            r = client.put(
                f"/api/v1/votes/{vote.id}/ballot", json={"option": option}, headers=headers
            )
            assert r.status_code == 200
        choices[voter.id] = final
    clock.freeze(vote.closes_at)
    assert client.get(f"/api/v1/votes/{vote.id}").get_json()["state"] == "closed"
    return vote, voters, choices


def test_no_table_links_a_voter_to_an_option(closed_vote, db):
    vote, voters, choices = closed_vote
    voter_ids = set(choices)
    option_ids = {o.id for o in vote.options}
    for table in _db.metadata.sorted_tables:
        user_cols = [c for c in table.columns if _references(c, "users")]
        option_cols = [c for c in table.columns if _references(c, "vote_options")]
        if option_cols:
            # Nothing that names an option also names a person, nor says when.
            times = [c for c in table.columns if isinstance(c.type, sa.DateTime)]
            assert not times, f"{table.name} has timestamps beside an option"
        if user_cols and option_cols:
            rows = db.session.execute(sa.select(table)).all()
            assert rows == [], f"{table.name} still links people to options"
        # Any row holding a voter's id holds none of the options' ids in a column about options
        # (generic scan of every table, its integer columns).
        if user_cols:
            for row in db.session.execute(sa.select(table)).mappings():
                if not any(row[c.name] in voter_ids for c in user_cols):
                    continue
                for c in table.columns:
                    if c in user_cols or c.primary_key or not isinstance(c.type, sa.Integer):
                        continue
                    if "option" in c.name:
                        assert row[c.name] not in option_ids, (table.name, c.name)
    # What is left of each voter: a flag, the same for every option chosen.
    electors = sa.inspect(Elector).columns
    assert {c.name for c in electors} == {"vote_id", "user_id", "voted"}
    voted = set(
        db.session.scalars(
            sa.select(Elector.user_id).where(Elector.vote_id == vote.id, Elector.voted)
        )
    )
    assert voted == voter_ids
    totals = {o.id: o.total for o in db.session.scalars(sa.select(VoteOption))}
    assert sum(totals[o] for o in option_ids) == len(voters)
    for option in option_ids:
        assert totals[option] == sum(1 for c in choices.values() if c == option)


def test_no_page_or_answer_tells_who_chose_what(closed_vote, app, client, api_token, login_as):
    vote, voters, _choices = closed_vote
    answers, pages = set(), set()
    readers = [*voters, *(user_by_email(e) for e in ("committee@example.org", "admin@example.org"))]
    for reader in readers:
        data = client.get(f"/api/v1/votes/{vote.id}", headers=api_token(reader)).get_json()
        assert data["my_ballot"] is None
        data.pop("voted"), data.pop("eligible")
        answers.add(repr(sorted(data.items())))
        login_as(reader)
        html = client.get(f"/votes/{vote.id}").get_data(as_text=True)
        article = re.search(r"<article.*?</article>", html, re.S).group(0)
        assert "checked" not in article
        # Whether the reader took part is theirs to see; nothing else may differ.
        pages.add(re.sub(r"\s+", " ", article.replace("<p>✓ 您参加了本次表决。</p>", "")))
        for url in (f"/communities/{vote.item.meeting.community.code}/votes", "/notifications"):
            text = client.get(url).get_data(as_text=True)
            assert not any(label in text for label in LABELS), url
    login_as("admin")
    audit = client.get("/admin/audit")
    assert audit.status_code == 200 and "vote.create" in audit.get_data(as_text=True)
    assert not any(label in audit.get_data(as_text=True) for label in LABELS)
    # Every reader gets the same vote: the choices of those who read it are nowhere.
    assert len(answers) == 1
    assert len(pages) == 1


def test_no_audit_entry_notification_or_log_line_carries_a_ballot(closed_vote, db, caplog):
    from portal.audit.models import AuditEntry
    from portal.notifications.models import Notification

    vote, voters, choices = closed_vote
    option_ids = {str(o.id) for o in vote.options}
    entries = db.session.scalars(sa.select(AuditEntry)).all()
    for e in entries:
        assert e.actor_id not in choices or e.subject_type != "votes"
        assert "ballot" not in e.action
        text = repr(e.details)
        assert not any(label in text for label in LABELS)
    assert [e.action for e in entries if e.subject_type == "votes"] == ["vote.create"]
    for n in db.session.scalars(
        sa.select(Notification).where(Notification.user_id.in_(list(choices)))
    ):
        assert not any(label in repr(n.params) for label in LABELS)
        assert (n.subject_type != "vote_options" and n.subject_id not in option_ids) or (
            n.subject_type == "votes" and n.subject_id == str(vote.id)
        )
    for record in caplog.records:
        message = record.getMessage()
        assert not any(label in message for label in LABELS)
        assert "ballot" not in message.lower() or "option" not in message.lower()
    assert db.session.get(Vote, vote.id).turnout == len(voters)
