"""One search: a case by its number, proposals and cases by words; bad input never a 500."""

from __future__ import annotations

from urllib.parse import quote


def test_an_exact_case_number_opens_the_case(anon, make_case):
    case = make_case("accepted")
    r = anon.get(f"/search?q={case.number}")
    assert r.status_code == 302
    assert r.headers["Location"] == f"/cases/{case.number}"


def test_a_case_number_typed_loosely_still_opens_it(anon, make_case):
    case = make_case("accepted")
    community, year, seq = case.number.split("-")
    for typed in (
        f" {community}-{year}-{int(seq)} ",
        f"{community}－{year}－{seq}".translate(
            str.maketrans("0123456789", "０１２３４５６７８９")
        ),
    ):
        r = anon.get("/search?q=" + quote(typed))
        assert r.status_code == 302, typed
        assert r.headers["Location"] == f"/cases/{case.number}"


def test_an_unknown_case_number_says_so(anon):
    r = anon.get("/search?q=110101001001-2026-99999")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert "110101001001-2026-99999" in html
    assert 'href="/cases"' in html


def test_an_empty_search_explains_what_to_type(anon):
    for url in ("/search", "/search?q=", "/search?q=+++"):
        r = anon.get(url)
        assert r.status_code == 200
        assert 'name="q"' in r.get_data(as_text=True)


def test_an_over_long_search_is_refused_with_a_way_on(anon):
    r = anon.get("/search?q=" + "长" * 101)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert 'name="q"' in html and "100" in html


def test_words_in_chinese_find_proposals_and_their_cases(anon, make_proposal, make_case):
    p = make_proposal("open", title="社区卫生站延长服务时间", summary="老人看病不便")
    case = make_case("accepted")  # its proposal is titled 路灯不亮
    html = anon.get("/search?q=" + quote("卫生站")).get_data(as_text=True)
    assert f'href="/proposals/{p.id}"' in html
    assert f'href="/cases/{case.number}"' not in html
    html = anon.get("/search?q=" + quote("路灯")).get_data(as_text=True)
    assert f'href="/cases/{case.number}"' in html


def test_a_single_character_is_matched_too(anon, make_proposal):
    p = make_proposal("open", title="社区卫生站延长服务时间")
    html = anon.get("/search?q=" + quote("站")).get_data(as_text=True)
    assert f'href="/proposals/{p.id}"' in html


def test_latin_words_and_escaping(anon, make_proposal):
    p = make_proposal("open", title="Fix the park lights", summary="100% broken_")
    html = anon.get("/search?q=park").get_data(as_text=True)
    assert f'href="/proposals/{p.id}"' in html
    html = anon.get("/search?q=" + quote("<script>")).get_data(as_text=True)
    assert "<script>alert" not in html
    assert anon.get("/search?q=" + quote("%_")).status_code == 200


def test_private_and_hidden_proposals_are_not_found(anon, make_proposal, db):
    draft = make_proposal("draft", title="草稿里的秘密")
    waiting = make_proposal("submitted", title="待审核的秘密")
    hidden = make_proposal("open", title="被隐藏的秘密")
    hidden.hidden, hidden.hidden_at, hidden.hidden_reason = True, hidden.opened_at, "spam"
    db.session.commit()
    html = anon.get("/search?q=" + quote("秘密")).get_data(as_text=True)
    for p in (draft, waiting, hidden):
        assert f'href="/proposals/{p.id}"' not in html


def test_results_are_paginated(anon, make_proposal):
    made = [make_proposal("open", title=f"井盖松动 {i}") for i in range(7)]
    first = anon.get("/search?q=" + quote("井盖")).get_data(as_text=True)
    assert first.count('href="/proposals/') == 5
    assert "kind=proposals" in first
    page = anon.get("/search?q=" + quote("井盖") + "&kind=proposals").get_data(as_text=True)
    assert page.count('href="/proposals/') == 7
    older = anon.get(
        "/search?q=" + quote("井盖") + f"&kind=proposals&before={made[2].id}"
    ).get_data(as_text=True)
    assert older.count('href="/proposals/') == 2


def test_bad_parameters_are_never_a_server_error(anon):
    assert anon.get("/search?q=abc&before=zero").status_code in (200, 400)
    assert anon.get("/search?q=abc&before=99999999999").status_code in (200, 400)
    assert anon.get("/search?q=abc&kind=everything").status_code == 200


def test_a_proposal_that_became_a_case_shows_the_case_stage(app, anon, make_case, count_queries):
    from portal.cases.services import stage_text
    from portal.proposals.services import status_label

    case = make_case("in_progress")  # its proposal is titled 路灯不亮
    html = anon.get("/search?q=" + quote("路灯")).get_data(as_text=True)
    found = html.split('id="found-proposals"')[1].split("</section>")[0]
    cases = html.split('id="found-cases"')[1].split("</section>")[0]
    with app.test_request_context("/"):
        stage, qualified = str(stage_text(case)), str(status_label(case.proposal.status))
    assert f'href="/proposals/{case.proposal_id}"' in found
    assert stage in found and qualified not in found
    assert f'href="/cases/{case.number}"' in found and case.agency.name_zh in found
    assert stage in cases
    with count_queries() as one:
        anon.get("/search?q=" + quote("路灯"))
    make_case("accepted")
    make_case("verifying")
    with count_queries() as three:
        anon.get("/search?q=" + quote("路灯"))
    assert three.count == one.count
