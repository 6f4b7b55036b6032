"""GCJ-02 → WGS84 on import, and a polygon's centroid."""

from __future__ import annotations

import json
import math

import pytest
import sqlalchemy as sa

from portal.places.coords import centroid, convert_geometry, gcj02_to_wgs84, wgs84_to_gcj02
from portal.places.models import Grid

# (WGS84 lat, lon) measured, and the same places as GCJ-02 map services give them: the
# reference pairs of the eviltransform project's tests (Shanghai, Shenzhen, Beijing).
PAIRS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),
]


def metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    r = 6371008.8
    x = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return r * math.hypot(x, math.radians(lat2 - lat1))


@pytest.mark.parametrize(("wlat", "wlon", "glat", "glon"), PAIRS)
def test_the_transform_matches_the_reference_points(wlat, wlon, glat, glon):
    assert metres(*wgs84_to_gcj02(wlon, wlat), glon, glat) < 5
    lon, lat = gcj02_to_wgs84(glon, glat)
    assert metres(lon, lat, wlon, wlat) < 5  # the documented accuracy: a few metres at most
    assert metres(glon, glat, wlon, wlat) > 100  # and the shift it removes is real


def test_the_inverse_undoes_the_forward_transform_exactly():
    for lon, lat in [(116.3912, 39.9061), (121.4737, 31.2304), (87.6168, 43.8256)]:
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lon, lat))
        assert metres(*back, lon, lat) < 0.001


def test_outside_china_nothing_moves():
    assert gcj02_to_wgs84(2.3522, 48.8566) == (2.3522, 48.8566)
    assert wgs84_to_gcj02(-0.1276, 51.5072) == (-0.1276, 51.5072)


def test_centroids():
    square = [[10.0, 20.0], [12.0, 20.0], [12.0, 22.0], [10.0, 22.0], [10.0, 20.0]]
    assert centroid({"type": "Polygon", "coordinates": [square]}) == pytest.approx((11.0, 21.0))
    # Wound the other way, with a hole in its western half, and a second polygon.
    hole = [[10.2, 20.2], [10.2, 21.8], [10.8, 21.8], [10.8, 20.2], [10.2, 20.2]]
    cx, cy = centroid({"type": "Polygon", "coordinates": [square[::-1], hole]})
    assert cx > 11.0 and cy == pytest.approx(21.0)
    other = [[20.0, 20.0], [22.0, 20.0], [22.0, 22.0], [20.0, 22.0], [20.0, 20.0]]
    multi = {"type": "MultiPolygon", "coordinates": [[square], [other]]}
    assert centroid(multi) == pytest.approx((16.0, 21.0))
    assert centroid({"type": "Polygon", "coordinates": []}) is None
    flat = [[1.0, 1.0], [2.0, 2.0], [1.0, 1.0]]
    assert centroid({"type": "Polygon", "coordinates": [flat]}) is None
    assert centroid({"type": "Point", "coordinates": [1, 2]}) is None


def _grid_file(tmp_path, ring):
    geo = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"code": "110101001001042", "name_zh": "火星网格"},
                "geometry": {"type": "Polygon", "coordinates": [ring]},
            }
        ],
    }
    path = tmp_path / "gcj.geojson"
    path.write_text(json.dumps(geo), encoding="utf-8")
    return path


def test_import_converts_gcj02_polygons_when_told(app, db, tmp_path):
    wgs = [[116.400, 39.900], [116.401, 39.900], [116.401, 39.901], [116.400, 39.901]]
    wgs.append(wgs[0])
    gcj = [list(wgs84_to_gcj02(x, y)) for x, y in wgs]
    path = _grid_file(tmp_path, gcj)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["places", "import", "--crs", "gcj02", str(path)])
    assert result.exit_code == 0, result.output
    grid = db.session.scalar(sa.select(Grid).where(Grid.code == "110101001001042"))
    stored = json.loads(grid.geometry)["coordinates"][0]
    for (x, y), (wx, wy) in zip(stored, wgs, strict=True):
        assert metres(x, y, wx, wy) < 0.01
    assert 9000 < grid.area_m2 < 10000  # 0.001° squared at 39.9°N: about 111 m × 85 m
    # Without the option the same file is taken as WGS84 already: the polygon stays shifted.
    result = runner.invoke(args=["places", "import", str(path)])
    assert result.exit_code == 0, result.output
    db.session.refresh(grid)
    x, y = json.loads(grid.geometry)["coordinates"][0][0]
    assert metres(x, y, *wgs[0]) > 100


def test_an_unknown_coordinate_system_is_refused(app, tmp_path):
    path = _grid_file(tmp_path, [[116.4, 39.9], [116.5, 39.9], [116.5, 40.0], [116.4, 39.9]])
    result = app.test_cli_runner().invoke(args=["places", "import", "--crs", "bd09", str(path)])
    assert result.exit_code != 0 and "bd09" in result.output


def test_convert_keeps_the_shape_and_extra_ordinates():
    poly = {"type": "MultiPolygon", "coordinates": [[[[116.4, 39.9, 50.0], [116.5, 39.9, 51.0]]]]}
    out = convert_geometry(poly, "gcj02")
    assert out["type"] == "MultiPolygon" and out["coordinates"][0][0][0][2] == 50.0
    assert convert_geometry(poly, "wgs84") is poly
