"""Where each person lands after signing in, and that next= still wins."""

from __future__ import annotations

import pytest

from tests.conftest import DEMO, DEMO_PASSWORD, answer_second_step


def sign_in(client, email: str, next_: str | None = None):
    token = client.csrf_token("/login")
    url = "/login" + (f"?next={next_}" if next_ else "")
    data = {"csrf_token": token, "email": email, "password": DEMO_PASSWORD}
    return answer_second_step(client, client.post(url, data=data))


@pytest.mark.parametrize(
    ("who", "where"),
    [
        ("resident", "/communities/110101001001"),
        ("committee", "/communities/110101001001/desk"),
        ("liaison", "/workspace/agency/health-commission"),
        ("grid_worker", "/workspace/grid"),
        ("supervisor", "/workspace/supervisor/110101"),
        ("admin", "/admin/"),
    ],
)
def test_each_role_lands_on_its_desk(client, who, where):
    r = sign_in(client, DEMO[who])
    assert r.status_code == 302
    assert r.headers["Location"] == where
    assert client.get(where).status_code == 200


def test_a_person_without_a_community_lands_on_joining_one(client, make_user):
    user = make_user()
    r = sign_in(client, user.email)
    assert r.headers["Location"] == "/residency"


def test_next_wins_over_the_desk(client):
    r = sign_in(client, DEMO["committee"], next_="/cases")
    assert r.headers["Location"] == "/cases"


def test_an_unsafe_next_falls_back_to_the_desk(client):
    r = sign_in(client, DEMO["liaison"], next_="//evil.example/")
    assert r.headers["Location"] == "/workspace/agency/health-commission"


def test_a_signed_in_visit_to_the_sign_in_page_goes_to_the_desk(client, login_as):
    login_as("supervisor")
    r = client.get("/login")
    assert r.headers["Location"] == "/workspace/supervisor/110101"


def test_committee_and_resident_lands_on_the_committee_desk(client, login_as, db):
    """Someone holding several roles lands on the first of committee, agency, grid, district,
    administration; the committee member is also a resident here."""
    from portal.roles.models import Role, RoleGrant
    from tests.conftest import user_by_email

    user = user_by_email(DEMO["admin"])
    committee = user_by_email(DEMO["committee"])
    grant = db.session.scalar(
        db.select(RoleGrant).where(
            RoleGrant.user_id == committee.id, RoleGrant.role == Role.committee
        )
    )
    db.session.add(
        RoleGrant(
            user_id=user.id,
            role=Role.committee,
            community_id=grant.community_id,
            scope_key=grant.scope_key,
        )
    )
    db.session.commit()
    r = sign_in(client, DEMO["admin"])
    assert r.headers["Location"] == "/communities/110101001001/desk"


def test_the_home_page_sign_in_link_carries_no_next(anon):
    html = anon.get("/").get_data(as_text=True)
    assert 'href="/login"' in html
    other = anon.get("/cases").get_data(as_text=True)
    assert 'href="/login?next=/cases"' in other
