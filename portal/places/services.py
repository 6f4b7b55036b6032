"""Places: lookups, and importing the grid from CSV or GeoJSON (idempotent upserts by code)."""

from __future__ import annotations

import csv
import itertools
import json
import math
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Select, bindparam

from portal.core.database import read
from portal.extensions import db
from portal.places.coords import CONVERTERS, convert_geometry
from portal.places.models import City, Community, District, Grid, Street


@cache
def first_city_timezone() -> Select:
    """The city's time zone: the first city's (one deployment serves one city). Built once."""
    return db.select(City.timezone).order_by(City.id).limit(1)


def city_timezone_column():
    """``first_city_timezone`` as a column, for a statement a page runs anyway to bring the
    city's time zone along (``core.i18n.found_city_timezone``): no statement of its own."""
    return first_city_timezone().scalar_subquery().label("city_timezone")


def install_city_timezone() -> None:
    """Give ``core.i18n`` the city's time zone (the first city's), and empty its cache whenever
    a city changes."""
    from sqlalchemy import event

    from portal.core.i18n import clear_city_timezone, set_city_timezone_source

    set_city_timezone_source(lambda: read(first_city_timezone()).scalar())
    for name in ("after_insert", "after_update", "after_delete"):
        if not event.contains(City, name, clear_city_timezone):
            event.listen(City, name, clear_city_timezone)


LEVELS = ("city", "district", "street", "community", "grid")
CODE_LENGTH = {"city": 6, "district": 6, "street": 9, "community": 12, "grid": 15}
Place = City | District | Street | Community | Grid
MODEL: dict[str, type[Place]] = {
    "city": City,
    "district": District,
    "street": Street,
    "community": Community,
    "grid": Grid,
}
PARENT = {"district": "city", "street": "district", "community": "street", "grid": "community"}
PARENT_FIELD = {
    "district": "city_id",
    "street": "district_id",
    "community": "street_id",
    "grid": "community_id",
}


class ImportError_(ValueError):
    """A row of an import file is wrong; the message names the row."""


def district_community_ids(district_id):
    """The ids of a district's communities, as a subquery (``column.in_(…)``)."""
    return (
        db.select(Community.id)
        .join(Street, Street.id == Community.street_id)
        .where(Street.district_id == district_id)
    )


@cache
def _community_by_code():
    # Built once, the code bound: building the statement cost more than running it.
    code = bindparam("code", type_=Community.code.type)
    return db.select(Community).where(Community.code == code)


def community_by_code(code: str) -> Community | None:
    return db.session.scalar(_community_by_code(), {"code": code})


@cache
def _community_id_by_code():
    return db.select(Community.id).where(
        Community.code == bindparam("code", type_=Community.code.type)
    )


def community_id_by_code(code: str) -> int | None:
    """The id of the community coded ``code``, for a filter that needs no more of it."""
    return db.session.scalar(_community_id_by_code(), {"code": code})


def find_communities(text: str, *, also_code: str | None = None, limit: int = 20):
    """Communities whose name holds ``text`` or whose code starts with it (LIKE wildcards in
    ``text`` match literally), plus the one coded ``also_code``; streets and districts loaded."""
    from sqlalchemy import or_
    from sqlalchemy.orm import selectinload

    wanted = []
    text = text.strip()
    if text:
        wanted.append(
            or_(
                Community.name_zh.icontains(text, autoescape=True),
                Community.name_en.icontains(text, autoescape=True),
                Community.code.startswith(text, autoescape=True),
            )
        )
    if also_code:
        wanted.append(Community.code == also_code)
    if not wanted:
        return []
    return db.session.scalars(
        db.select(Community)
        .where(or_(*wanted))
        .options(selectinload(Community.street).selectinload(Street.district))
        .order_by(Community.code)
        .limit(limit)
    ).all()


PICKER_LEVELS = ("district", "street", "community", "grid")


def _pick_statement(level: str):
    from sqlalchemy.orm import joinedload

    model = MODEL[level]
    stmt = db.select(model)
    # Load the parents a label names, in the same query.
    if level == "street":
        stmt = stmt.options(joinedload(Street.district))
    elif level == "community":
        stmt = stmt.options(joinedload(Community.street).joinedload(Street.district))
    elif level == "grid":
        stmt = stmt.options(joinedload(Grid.community))
    return model, stmt


def count_places(levels: tuple[str, ...], *, up_to: int) -> int:
    """How many places of ``levels`` exist, counting no further than ``up_to``."""
    total = 0
    for level in levels:
        model = MODEL[level]
        total += len(db.session.scalars(db.select(model.id).limit(up_to - total)).all())
        if total >= up_to:
            break
    return total


def find_places(
    text: str | None,
    levels: tuple[str, ...],
    *,
    also_code: str | None = None,
    limit: int = 20,
) -> list[Place]:
    """Places of ``levels`` for a picker, coarsest level first, each level in code order.

    With ``text`` None every place of those levels (a small grid: the caller counted them);
    otherwise those whose name holds ``text`` or whose code starts with it (LIKE wildcards match
    literally), up to ``limit`` a level. ``also_code`` adds the place with that code (the choice
    being submitted must be among the choices). One query a level; parents loaded for labels."""
    from sqlalchemy import or_

    found: list[Place] = []
    text = None if text is None else text.strip()
    for level in levels:
        model, stmt = _pick_statement(level)
        rows: list[Place] = []
        if text is None:
            rows = list(db.session.scalars(stmt.order_by(model.code)).unique())
        elif text:
            rows = list(
                db.session.scalars(
                    stmt.where(
                        or_(
                            model.name_zh.icontains(text, autoescape=True),
                            model.name_en.icontains(text, autoescape=True),
                            model.code.startswith(text, autoescape=True),
                        )
                    )
                    .order_by(model.code)
                    .limit(limit)
                ).unique()
            )
        if (
            also_code
            and len(also_code) == CODE_LENGTH[level]
            and all(p.code != also_code for p in rows)
        ):
            extra = db.session.scalars(stmt.where(model.code == also_code)).unique().first()
            if extra is not None:
                rows.append(extra)
        found.extend(rows)
    return found


def level_of(place: Place) -> str:
    return next(level for level, model in MODEL.items() if isinstance(place, model))


def place_label(place: Place, locale: str) -> str:
    """A place's name with what it lies in, and its code: "多福巷社区 · 东华门街道 · 东城区 ·
    110101001001"."""
    parts = [place.name(locale)]
    if isinstance(place, Grid):
        parts.append(place.community.name(locale))
    elif isinstance(place, Community):
        parts += [place.street.name(locale), place.street.district.name(locale)]
    elif isinstance(place, Street):
        parts.append(place.district.name(locale))
    parts.append(place.code)
    return " · ".join(parts)


def polygon_area_m2(geometry: dict) -> float | None:
    """Approximate area of a WGS84 Polygon/MultiPolygon (equirectangular, fine for grids)."""

    def ring_area(ring):
        if len(ring) < 4:
            return 0.0
        lat0 = math.radians(sum(p[1] for p in ring) / len(ring))
        r = 6371008.8
        pts = [(math.radians(x) * r * math.cos(lat0), math.radians(y) * r) for x, y, *_ in ring]
        return abs(sum(x1 * y2 - x2 * y1 for (x1, y1), (x2, y2) in itertools.pairwise(pts))) / 2

    def poly_area(rings):
        return ring_area(rings[0]) - sum(ring_area(h) for h in rings[1:]) if rings else 0.0

    kind = geometry.get("type")
    if kind == "Polygon":
        return poly_area(geometry["coordinates"])
    if kind == "MultiPolygon":
        return sum(poly_area(p) for p in geometry["coordinates"])
    return None


def _validate_geometry(geometry, where: str) -> dict:
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        raise ImportError_(f"{where}: geometry must be a GeoJSON Polygon or MultiPolygon")
    polys = (
        geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    )
    for poly in polys:
        for ring in poly:
            for point in ring:
                lon, lat = point[0], point[1]
                if not (-180 <= lon <= 180 and -90 <= lat <= 90):
                    raise ImportError_(f"{where}: coordinates are not WGS84 longitude/latitude")
    return geometry


def upsert_place(row: dict, where: str, crs: str = "wgs84") -> tuple[str, bool]:
    """Create or update one place from a dict; returns (level, created). A grid's geometry in
    ``crs`` ("wgs84", or "gcj02" from a Chinese map service) is stored in WGS84."""
    level = (row.get("level") or "").strip().lower()
    if level not in LEVELS:
        raise ImportError_(f"{where}: level must be one of {', '.join(LEVELS)}")
    code = str(row.get("code") or "").strip()
    if not (code.isdigit() and code.isascii() and len(code) == CODE_LENGTH[level]):
        raise ImportError_(f"{where}: a {level} code has {CODE_LENGTH[level]} digits")
    name_zh = (row.get("name_zh") or "").strip()
    name_en = (row.get("name_en") or "").strip()
    if not name_zh:
        raise ImportError_(f"{where}: name_zh is required")
    model = MODEL[level]
    obj = db.session.scalar(db.select(model).where(model.code == code))
    created = obj is None
    if created:
        obj = model(code=code)
    obj.name_zh, obj.name_en = name_zh, name_en or name_zh
    if isinstance(obj, City):
        tz = (row.get("timezone") or "Asia/Shanghai").strip()
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ImportError_(f"{where}: unknown time zone {tz!r}") from exc
        obj.timezone = tz
    else:
        parent_level = PARENT[level]
        parent_code = str(row.get("parent_code") or "").strip()
        if not parent_code and level != "district":
            parent_code = code[: CODE_LENGTH[parent_level]]
        parent_model = MODEL[parent_level]
        parent = db.session.scalar(db.select(parent_model).where(parent_model.code == parent_code))
        if parent is None:
            raise ImportError_(f"{where}: parent {parent_level} {parent_code!r} does not exist")
        if level != "district" and not code.startswith(parent.code):
            raise ImportError_(f"{where}: code {code} does not start with its parent's code")
        setattr(obj, PARENT_FIELD[level], parent.id)
    if isinstance(obj, Grid):
        geometry = row.get("geometry")
        if isinstance(geometry, str) and geometry.strip():
            try:
                geometry = json.loads(geometry)
            except json.JSONDecodeError as exc:
                raise ImportError_(f"{where}: geometry is not valid JSON") from exc
        if geometry:
            geometry = convert_geometry(_validate_geometry(geometry, where), crs)
            obj.geometry = json.dumps(geometry, separators=(",", ":"))
        area = row.get("area_m2")
        if area not in (None, ""):
            try:
                obj.area_m2 = float(area)
            except (TypeError, ValueError) as exc:
                raise ImportError_(f"{where}: area_m2 must be a number") from exc
        elif geometry:
            obj.area_m2 = round(polygon_area_m2(geometry) or 0, 1)
    db.session.add(obj)  # added last, so the parent look-up above never flushes a half row
    db.session.flush()
    return level, created


def import_file(path: Path, crs: str = "wgs84") -> dict[str, int]:
    """Load places from a .csv or .geojson/.json file. Rows go parent first. Polygons in
    ``crs`` (``coords.CONVERTERS``) are converted to WGS84 as they are stored."""
    if crs not in CONVERTERS:
        raise ImportError_(f"unknown coordinate system {crs!r}: use {', '.join(CONVERTERS)}")
    counts = {"created": 0, "updated": 0}
    suffix = path.suffix.lower()
    if suffix == ".csv":
        with path.open(newline="", encoding="utf-8-sig") as fh:
            rows = [(f"{path.name}:{i + 2}", row) for i, row in enumerate(csv.DictReader(fh))]
    elif suffix in (".geojson", ".json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("type") != "FeatureCollection":
            raise ImportError_(f"{path.name}: expected a GeoJSON FeatureCollection")
        rows = []
        for i, feature in enumerate(data.get("features", [])):
            props = dict(feature.get("properties") or {})
            props.setdefault("level", "grid")
            props["geometry"] = feature.get("geometry")
            rows.append((f"{path.name} feature {i}", props))
    else:
        raise ImportError_(f"{path.name}: use a .csv or .geojson file")
    rows.sort(
        key=lambda r: (
            LEVELS.index(str(r[1].get("level", "")).strip().lower())
            if str(r[1].get("level", "")).strip().lower() in LEVELS
            else 99
        )
    )
    for where, row in rows:
        _level, created = upsert_place(row, where, crs)
        counts["created" if created else "updated"] += 1
    return counts
