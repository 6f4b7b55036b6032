"""The public case list's "Community" box takes a name or a code, never only a 12-digit code."""

from __future__ import annotations

import re


def _numbers(html: str) -> set[str]:
    return set(re.findall(r'href="/cases/(\d{12}-\d{4}-\d{5})"', html))


def test_cases_by_community_name_or_code(client, make_case, community, community_b):
    a = make_case("dispatched")
    b = make_case("dispatched", community_=community_b)
    by_name = client.get("/cases?community=多福").get_data(as_text=True)
    assert a.number in _numbers(by_name) and b.number not in _numbers(by_name)
    assert "多福巷社区" in by_name and 'value="多福"' in by_name  # what was typed is kept
    by_code = client.get(f"/cases?community={community_b.code}").get_data(as_text=True)
    assert _numbers(by_code) >= {b.number} and a.number not in _numbers(by_code)
    by_english = client.get("/cases?community=yinzha").get_data(as_text=True)
    assert b.number in _numbers(by_english) and a.number not in _numbers(by_english)


def test_several_matching_communities_offer_a_choice(client, make_case, community_b):
    a = make_case("dispatched")
    b = make_case("dispatched", community_=community_b)
    r = client.get("/cases?community=1101010010&state=dispatched")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert {a.number, b.number} <= _numbers(html)  # cases of every match
    choices = re.findall(r'href="(/cases\?[^"]*community=(\d{12})[^"]*)"', html)
    assert {code for _url, code in choices} >= {"110101001001", "110101001002"}
    assert all("state=dispatched" in url for url, _code in choices)  # other filters kept


def test_an_unknown_community_is_said_at_the_field(client, make_case):
    make_case("dispatched")
    r = client.get("/cases?community=<script>x")
    html = r.get_data(as_text=True)
    assert r.status_code == 200
    assert 'id="community-error"' in html and 'aria-invalid="true"' in html
    assert 'value="&lt;script&gt;x"' in html and "<script>x" not in html
    assert not _numbers(html)
