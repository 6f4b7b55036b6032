"""A proposal the committee hid keeps its text, author and photos from everyone but its author
and the committee: on the page (its <title> included), in the API and behind its photo URLs."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa
from markupsafe import escape
from PIL import Image

from portal.proposals import services
from portal.proposals.models import ProposalPhoto
from tests.conftest import user_by_email

SECRET = "张三 13800138000 住6号楼302"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 40), (10, 120, 200)).save(out, "JPEG")
    return out.getvalue()


@pytest.fixture
def hidden(app, db, client, api_token, make_proposal, tmp_path):
    """An open proposal with a photo and personal data in its title, hidden by the committee."""
    app.config["MEDIA_ROOT"] = str(tmp_path)
    p = make_proposal("open", title=f"{SECRET} 的提议", summary=f"摘要 {SECRET}")
    with app.test_request_context("/"):
        services.add_photos(user_by_email("resident1@example.org"), p, [_jpeg()])
    db.session.commit()
    r = client.post(
        "/api/v1/moderation/actions",
        json={
            "action": "hide",
            "target_type": "proposal",
            "target_id": p.id,
            "reason_code": "personal-data",
            "note": "含住址电话",
        },
        headers=api_token("committee"),
    )
    assert r.status_code == 201, r.get_json()
    db.session.refresh(p)
    assert p.hidden
    return p


def _photo_url(db, p) -> str:
    photo = db.session.scalar(sa.select(ProposalPhoto).where(ProposalPhoto.proposal_id == p.id))
    return f"/proposals/{p.id}/photos/{photo.id}"


def test_api_gives_others_no_content_of_a_hidden_proposal(app, hidden, api_token):
    for headers in ({}, api_token("resident2"), api_token("resident_b"), api_token("liaison")):
        r = app.test_client().get(f"/api/v1/proposals/{hidden.id}", headers=headers)
        assert r.status_code == 200
        data = r.get_json()
        assert data["hidden"] is True and data["hidden_reason"] == "personal-data"
        assert data["hidden_note"] == "含住址电话"
        for key in ("title", "summary", "body_html", "author", "location_note"):
            assert data[key] is None, key
        assert data["photos"] == []
        assert SECRET not in r.get_data(as_text=True)
        # Nor through its comments.
        r = app.test_client().get(f"/api/v1/proposals/{hidden.id}/comments", headers=headers)
        assert r.status_code == 404


def test_api_gives_the_author_and_the_committee_the_hidden_proposal(app, hidden, api_token):
    for who in ("resident", "committee"):
        r = app.test_client().get(f"/api/v1/proposals/{hidden.id}", headers=api_token(who))
        data = r.get_json()
        assert data["hidden"] is True and data["title"].startswith(SECRET)
        assert data["author"] is not None and len(data["photos"]) == 1
    # The committee of another community is not this one's committee.
    r = app.test_client().get(f"/api/v1/proposals/{hidden.id}", headers=api_token("committee_b"))
    assert r.get_json()["title"] is None


def test_visible_proposal_says_it_is_not_hidden(app, make_proposal):
    p = make_proposal("open")
    data = app.test_client().get(f"/api/v1/proposals/{p.id}").get_json()
    assert data["hidden"] is False and data["title"] == p.title


def _title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html, re.S).group(1)


def test_page_and_its_title_show_no_hidden_content(app, hidden, login_as):
    visitor = app.test_client()
    html = visitor.get(f"/proposals/{hidden.id}").get_data(as_text=True)
    assert SECRET not in html and str(escape(SECRET)) not in html
    assert f"#{hidden.id}" in _title(html)
    other = app.test_client()
    login_as("resident2", other)
    assert SECRET not in other.get(f"/proposals/{hidden.id}").get_data(as_text=True)
    for who in ("resident", "committee"):
        reader = app.test_client()
        login_as(who, reader)
        html = reader.get(f"/proposals/{hidden.id}").get_data(as_text=True)
        assert SECRET in _title(html) and "含住址电话" in html


def test_hidden_proposal_photos_are_not_served_to_the_public(app, db, hidden, login_as):
    url = _photo_url(db, hidden)
    for path in (url, url + "/thumb"):
        assert app.test_client().get(path).status_code == 404
        other = app.test_client()
        login_as("resident2", other)
        assert other.get(path).status_code == 404
        for who in ("resident", "committee"):
            reader = app.test_client()
            login_as(who, reader)
            with reader.get(path) as served:
                assert served.status_code == 200 and served.mimetype == "image/jpeg"


def test_public_photos_are_cached_for_a_minute_at_most(app, db, make_proposal, tmp_path):
    app.config["MEDIA_ROOT"] = str(tmp_path)
    p = make_proposal("open")
    with app.test_request_context("/"):
        services.add_photos(user_by_email("resident1@example.org"), p, [_jpeg()])
    db.session.commit()
    visitor = app.test_client()
    with visitor.get(_photo_url(db, p)) as served:
        assert served.status_code == 200
        cc = served.cache_control
        assert cc.public and cc.max_age is not None and cc.max_age <= 60
        assert "stale-while-revalidate" not in served.headers["Cache-Control"]
        etag = served.headers["ETag"]
    with visitor.get(_photo_url(db, p), headers={"If-None-Match": etag}) as again:
        assert again.status_code == 304


def test_hidden_proposal_is_in_no_public_list_or_search(app, hidden, api_token):
    visitor = app.test_client()
    for url in (
        "/api/v1/proposals?community=110101001001",
        "/api/v1/proposals?community=110101001001&q=" + SECRET[:2],
        "/api/v1/proposals/similar?community=110101001001&q=" + SECRET,
        "/communities/110101001001/proposals",
        "/communities/110101001001/proposals?q=" + SECRET[:2],
    ):
        r = visitor.get(url, headers=api_token("resident2") if "api" in url else {})
        assert r.status_code == 200 and SECRET not in r.get_data(as_text=True), url
