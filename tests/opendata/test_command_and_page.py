"""``flask opendata export DIR`` and the open data page."""

from __future__ import annotations

import csv
import json

from portal.core import clock
from portal.core.i18n import local
from portal.opendata.exports import CASE_COLUMNS, PROPOSAL_COLUMNS


def test_export_writes_four_dated_files_and_a_readme(app, tmp_path, make_proposal, make_case):
    p = make_proposal("open", title="导出的提议")
    case = make_case("accepted")
    target = tmp_path / "out"
    result = app.test_cli_runner().invoke(args=["opendata", "export", str(target)])
    assert result.exit_code == 0, result.output
    day = local(clock.now()).date().isoformat()
    names = sorted(x.name for x in target.iterdir())
    assert names == sorted(
        [f"{n}-{day}.{f}" for n in ("proposals", "cases") for f in ("csv", "json")] + ["README.md"]
    )
    assert all(str(target / n) in result.output for n in names)
    with (target / f"proposals-{day}.csv").open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert p.title in {r["title"] for r in rows}
    cases = json.loads((target / f"cases-{day}.json").read_text(encoding="utf-8"))
    assert case.number in {r["number"] for r in cases["items"]}
    readme = (target / "README.md").read_text(encoding="utf-8")
    for c in PROPOSAL_COLUMNS + CASE_COLUMNS:
        assert f"`{c.name}`" in readme
    assert "First dispatched to an agency: the clock starts." in readme  # English
    assert "首次派遣" in readme  # and Chinese
    assert app.config["OPEN_DATA_LICENSE"] in readme


def test_export_of_an_empty_database_is_headers_only(app, db, tmp_path):
    from sqlalchemy import delete, update

    from portal.cases.models import Case
    from portal.proposals.models import Proposal

    db.session.execute(delete(Case))
    db.session.execute(update(Proposal).values(hidden=True, hidden_at=clock.now()))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["opendata", "export", str(tmp_path)])
    assert result.exit_code == 0, result.output
    day = local(clock.now()).date().isoformat()
    assert json.loads((tmp_path / f"cases-{day}.json").read_text())["items"] == []
    lines = (tmp_path / f"proposals-{day}.csv").read_text(encoding="utf-8-sig").splitlines()
    assert lines == [",".join(c.name for c in PROPOSAL_COLUMNS)]


def test_the_page_links_the_files_and_names_the_licence(anon, app):
    html = anon.get("/open-data").get_data(as_text=True)
    files = [f"/open-data/{n}.{f}" for n in ("proposals", "cases") for f in ("csv", "json")]
    for href in [*files, "/feeds/proposals.atom"]:
        assert f'href="{href}"' in html
    assert app.config["OPEN_DATA_LICENSE"] in html
    assert app.config["OPEN_DATA_LICENSE_URL"] in html
    for c in PROPOSAL_COLUMNS + CASE_COLUMNS:
        assert f"<code>{c.name}</code>" in html
    en = anon.get("/open-data", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Licence:" in en
    assert "许可协议" in html  # the default language is Chinese


def test_every_page_footer_links_open_data(anon):
    assert 'href="/open-data"' in anon.get("/places").get_data(as_text=True)


def test_the_licence_is_a_setting(tmp_path_factory, monkeypatch):
    from portal.config import load_config

    monkeypatch.setenv("OPEN_DATA_LICENSE", "ODbL-1.0")
    monkeypatch.setenv("OPEN_DATA_LICENSE_URL", "https://opendatacommons.org/licenses/odbl/")
    cfg = load_config({"COMMONS_ENV": "testing"})
    assert cfg["OPEN_DATA_LICENSE"] == "ODbL-1.0"
    monkeypatch.delenv("OPEN_DATA_LICENSE")
    assert load_config({"COMMONS_ENV": "testing"})["OPEN_DATA_LICENSE"] == "CC-BY-4.0"
