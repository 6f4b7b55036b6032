"""Atom feeds: valid Atom (parsed, required elements present), stable entry ids, only public
content, and advertised by the pages they belong to."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pytest

NS = {"a": "http://www.w3.org/2005/Atom"}


def resident_b():
    from tests.conftest import user_by_email

    return user_by_email("resident.b@example.org")


def parse(resp) -> ET.Element:
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/atom+xml"
    feed = ET.fromstring(resp.data)  # noqa: S314  (our own app's output, in a test)
    assert feed.tag == "{http://www.w3.org/2005/Atom}feed"
    for name in ("id", "title", "updated"):  # RFC 4287 §4.1.1: required of a feed
        assert (feed.findtext(f"a:{name}", namespaces=NS) or "").strip(), name
    assert feed.find("a:author/a:name", NS) is not None  # or in every entry
    assert feed.find("a:link[@rel='self']", NS) is not None
    for entry in feed.findall("a:entry", NS):
        for name in ("id", "title", "updated"):
            assert (entry.findtext(f"a:{name}", namespaces=NS) or "").strip(), name
        assert entry.find("a:link", NS) is not None or entry.find("a:content", NS) is not None
    return feed


def entries(feed) -> dict[str, ET.Element]:
    return {e.findtext("a:id", namespaces=NS): e for e in feed.findall("a:entry", NS)}


def text_of(feed) -> str:
    return ET.tostring(feed, encoding="unicode")


def test_city_wide_new_proposals(anon, db, make_proposal, community_b):
    a = make_proposal("open", title="路灯 A")
    b = make_proposal("open", title="长椅 B", community_=community_b, author=resident_b())
    draft = make_proposal("draft", title="草稿 C")
    submitted = make_proposal("submitted", title="待审 D")
    hidden = make_proposal("open", title="隐藏 E")
    hidden.hidden, hidden.hidden_at, hidden.hidden_reason = True, hidden.opened_at, "spam"
    db.session.commit()
    first = parse(anon.get("/feeds/proposals.atom"))
    titles = [e.findtext("a:title", namespaces=NS) for e in first.findall("a:entry", NS)]
    assert titles[:2] == [b.title, a.title]  # newest first
    for p in (draft, submitted, hidden):
        assert p.title not in text_of(first)
    again = parse(anon.get("/feeds/proposals.atom"))
    assert list(entries(first)) == list(entries(again))  # stable ids from one fetch to the next
    assert first.findtext("a:id", namespaces=NS) == again.findtext("a:id", namespaces=NS)
    entry = entries(first)[next(i for i in entries(first) if i.endswith(f":proposal:{a.id}"))]
    assert re.fullmatch(r"tag:[^,]+,2026:proposal:\d+", entry.findtext("a:id", namespaces=NS))
    assert entry.find("a:link", NS).get("href").endswith(f"/proposals/{a.id}")
    assert entry.findtext("a:author/a:name", namespaces=NS) == a.author.display_name


def test_community_proposals_only_that_community(anon, make_proposal, community_b):
    a = make_proposal("open", title="甲社区")
    b = make_proposal("open", title="乙社区", community_=community_b, author=resident_b())
    feed = parse(anon.get("/feeds/communities/110101001001/proposals.atom"))
    assert a.title in text_of(feed)
    assert b.title not in text_of(feed)
    assert anon.get("/feeds/communities/999999999999/proposals.atom").status_code == 404


def test_case_updates_per_community_and_agency(anon, db, make_case):
    case = make_case("in_progress")
    feed = parse(anon.get("/feeds/communities/110101001001/cases.atom"))
    ids = [i for i in entries(feed) if ":case-event:" in i]
    assert len(ids) >= 4  # file, dispatch, accept, plan
    assert case.number in text_of(feed)
    assert "本周维修" in text_of(feed)  # the plan's public note
    agency_feed = parse(anon.get(f"/feeds/agencies/{case.agency.code}/cases.atom"))
    assert case.number in text_of(agency_feed)
    other = parse(anon.get("/feeds/agencies/culture-sports-bureau/cases.atom"))
    assert case.number not in text_of(other)
    assert anon.get("/feeds/agencies/no-such-agency/cases.atom").status_code == 404
    # A hidden proposal's title leaves the case feed; the steps stay.
    case.proposal.hidden, case.proposal.hidden_at = True, case.proposal.opened_at
    case.proposal.hidden_reason = "spam"
    db.session.commit()
    feed = parse(anon.get("/feeds/communities/110101001001/cases.atom"))
    assert case.number in text_of(feed)
    assert case.proposal.title not in text_of(feed)


def test_meetings_feed_leaves_out_drafts(anon, app, db, community):
    from datetime import timedelta

    from portal.core import clock
    from portal.meetings.models import Meeting

    start = clock.now() + timedelta(days=3)
    shown = Meeting(community_id=community.id, title="三月议事会", starts_at=start,
                    ends_at=start + timedelta(hours=2), location="社区活动室",
                    state="published", published_at=clock.now())  # fmt: skip
    draft = Meeting(community_id=community.id, title="草稿会议", starts_at=start,
                    ends_at=start + timedelta(hours=2))  # fmt: skip
    db.session.add_all([shown, draft])
    db.session.commit()
    feed = parse(anon.get("/feeds/communities/110101001001/meetings.atom"))
    assert "三月议事会" in text_of(feed)
    assert "社区活动室" in text_of(feed)
    assert "草稿会议" not in text_of(feed)
    assert any(i.endswith(f":meeting:{shown.id}") for i in entries(feed))
    page = anon.get(f"/meetings/{shown.id}").get_data(as_text=True)
    assert alternates(page) == ["/feeds/communities/110101001001/meetings.atom"]


@pytest.mark.parametrize(
    "path",
    [
        "/feeds/proposals.atom",
        "/feeds/communities/110101001001/proposals.atom",
        "/feeds/communities/110101001001/cases.atom",
        "/feeds/communities/110101001001/meetings.atom",
    ],
)
def test_feeds_are_cached_like_public_pages(anon, path):
    resp = anon.get(path)
    assert resp.headers["Cache-Control"].startswith("public, max-age=")
    assert resp.headers.get("ETag")
    assert anon.get(path, headers={"If-None-Match": resp.headers["ETag"]}).status_code == 304


def alternates(html: str) -> list[str]:
    return re.findall(
        r'<link rel="alternate" type="application/atom\+xml"[^>]*href="([^"]+)"', html
    )


def test_pages_advertise_their_feeds(anon, make_case):
    case = make_case("accepted")
    assert "/feeds/proposals.atom" in alternates(anon.get("/").get_data(as_text=True))
    community_page = alternates(anon.get("/communities/110101001001").get_data(as_text=True))
    assert community_page == [
        "/feeds/communities/110101001001/proposals.atom",
        "/feeds/communities/110101001001/cases.atom",
        "/feeds/communities/110101001001/meetings.atom",
    ]
    meetings = alternates(anon.get("/communities/110101001001/meetings").get_data(as_text=True))
    assert meetings == ["/feeds/communities/110101001001/meetings.atom"]
    listing = alternates(anon.get("/communities/110101001001/proposals").get_data(as_text=True))
    assert listing == ["/feeds/communities/110101001001/proposals.atom"]
    agency = anon.get(f"/cases?agency={case.agency.code}").get_data(as_text=True)
    assert alternates(agency) == [f"/feeds/agencies/{case.agency.code}/cases.atom"]
    narrowed = anon.get("/cases?community=110101001001").get_data(as_text=True)
    assert alternates(narrowed) == ["/feeds/communities/110101001001/cases.atom"]
    assert alternates(anon.get("/cases").get_data(as_text=True)) == []
    for href in {*community_page, f"/feeds/agencies/{case.agency.code}/cases.atom"}:
        parse(anon.get(href))


def test_feeds_speak_the_readers_language(anon, make_proposal):
    make_proposal("open")
    en = parse(anon.get("/feeds/communities/110101001001/proposals.atom",
                        headers={"Accept-Language": "en"}))  # fmt: skip
    zh = parse(anon.get("/feeds/communities/110101001001/proposals.atom",
                        headers={"Accept-Language": "zh-CN"}))  # fmt: skip
    assert en.findtext("a:title", namespaces=NS).startswith("New proposals in")
    assert en.findtext("a:id", namespaces=NS) == zh.findtext("a:id", namespaces=NS)
