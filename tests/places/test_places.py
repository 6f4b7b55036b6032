"""Places: import from CSV and GeoJSON, public pages, community API."""

from __future__ import annotations

import json

import sqlalchemy as sa

from portal.places.models import Community, Grid

CSV = """level,code,name_zh,name_en,parent_code,timezone,area_m2
district,110102,西城区,Xicheng District,110000,,
street,110102001,西长安街街道,Xichang'anjie Subdistrict,,,
community,110102001001,府右街社区,Fuyoujie Community,,,
grid,110102001001001,第1网格,Grid 1,,,9800.5
"""


def test_import_csv_then_geojson(app, db, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "places.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(args=["places", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "4 created" in result.output
    community = db.session.scalar(sa.select(Community).where(Community.code == "110102001001"))
    assert community.street.district.code == "110102"

    square = [[116.36, 39.91], [116.37, 39.91], [116.37, 39.92], [116.36, 39.92], [116.36, 39.91]]
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [square]},
                "properties": {
                    "code": "110102001001001",
                    "name_zh": "第1网格",
                    "name_en": "Grid One",
                },
            },
            {
                "type": "Feature",
                "geometry": {"type": "Polygon", "coordinates": [square]},
                "properties": {
                    "code": "110102001001002",
                    "name_zh": "第2网格",
                    "name_en": "Grid 2",
                },
            },
        ],
    }
    gpath = tmp_path / "grids.geojson"
    gpath.write_text(json.dumps(geo), encoding="utf-8")
    result = runner.invoke(args=["places", "import", str(gpath)])
    assert result.exit_code == 0, result.output
    assert "1 created, 1 updated" in result.output
    grid = db.session.scalar(sa.select(Grid).where(Grid.code == "110102001001002"))
    assert json.loads(grid.geometry)["type"] == "Polygon"
    # ~0.01° × 0.01° at 39.9°N is about 1.11 km × 0.85 km.
    assert 900_000 < grid.area_m2 < 1_000_000
    page = app.test_client().get("/communities/110102001001").get_data(as_text=True)
    assert "府右街社区" in page and "110102001001002" in page


def test_import_reports_the_bad_row_and_saves_nothing(app, db, tmp_path):
    runner = app.test_cli_runner()
    path = tmp_path / "bad.csv"
    path.write_text(
        "level,code,name_zh,name_en\ncommunity,110109999001,某社区,X\ngrid,12,坏网格,Bad\n",
        encoding="utf-8",
    )
    result = runner.invoke(args=["places", "import", str(path)])
    assert result.exit_code != 0
    assert "bad.csv:" in result.output
    assert db.session.scalar(sa.select(Community).where(Community.code == "110109999001")) is None


def test_import_refuses_non_wgs84_geometry(app, tmp_path):
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "110101001001009", "name_zh": "网格"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [[450000, 4400000], [450100, 4400000], [450100, 4400100], [450000, 4400000]]
                    ],
                },
            }
        ],
    }
    path = tmp_path / "utm.geojson"
    path.write_text(json.dumps(geo), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["places", "import", str(path)])
    assert result.exit_code != 0 and "WGS84" in result.output


def test_public_place_pages(client):
    districts = client.get("/places").get_data(as_text=True)
    assert "东城区" in districts
    district = client.get("/places/110101").get_data(as_text=True)
    assert "多福巷社区" in district and "110101001001" in district
    community = client.get("/communities/110101001001").get_data(as_text=True)
    assert "110101001001001" in community
    assert client.get("/places/999999").status_code == 404
    assert client.get("/communities/999999999999").status_code == 404


def test_communities_api_filters_and_pages(client):
    r = client.get("/api/v1/communities?district=110101&limit=2")
    body = r.get_json()
    assert len(body["items"]) == 2 and body["next"]
    seen = [c["code"] for c in body["items"]]
    while body["next"]:
        body = client.get(body["next"]).get_json()
        seen += [c["code"] for c in body["items"]]
    assert len(seen) == len(set(seen)) == 5
    assert client.get("/api/v1/communities?q=多福").get_json()["items"][0]["code"] == "110101001001"
    assert client.get("/api/v1/communities?q=100%25").get_json()["items"] == []
    one = client.get("/api/v1/communities/110101001001").get_json()
    assert one["district_code"] == "110101" and one["confirmed_residents"] >= 5
    assert client.get("/api/v1/communities/000000000000").status_code == 404


def test_list_parameters_are_validated(client):
    for query in ("limit=0", "limit=101", "limit=abc", "cursor=%%%", "cursor=WyJ4Il0"):
        r = client.get(f"/api/v1/communities?{query}")
        assert r.status_code == 400, query
        assert r.get_json()["error"]["fields"]
