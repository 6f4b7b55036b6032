"""Coordinate systems of imported grid polygons: GCJ-02 (the "Mars" datum of Chinese map
services: AMap/Gaode, Tencent, Google in China) to WGS84, and a polygon's centroid.

GCJ-02 is WGS84 shifted by an obfuscating function (a few hundred metres, varying in space)
inside mainland China and equal to it outside. The forward function below is the widely
published one (e.g. eviltransform, coordtransform). Its inverse has no closed form: we invert
it by fixed-point iteration (start at the GCJ-02 point, move by the shift the forward function
gives there, repeat). Against the forward function the round trip is exact to better than
1e-9 degrees (about 0.1 mm) after a few steps; the forward function itself matches the
official transform to about 1–2 m, which bounds the accuracy of converted polygons. That is
far finer than a unit grid (about 100 m × 100 m) and than what Open311 publishes (a grid's
centroid).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable

_A = 6378245.0  # Krasovsky 1940 semi-major axis, as the transform uses it
_EE = 0.00669342162296594323  # its first eccentricity squared


def out_of_china(lon: float, lat: float) -> bool:
    """The transform applies to mainland China's rough bounding box only."""
    return not (72.004 <= lon <= 137.8347 and 0.8293 <= lat <= 55.8271)


def _shift_lat(x: float, y: float) -> float:
    ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    return ret


def _shift_lon(x: float, y: float) -> float:
    ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    ret += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    ret += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    ret += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    return ret


def wgs84_to_gcj02(lon: float, lat: float) -> tuple[float, float]:
    """The forward transform (what a Chinese map service does to a GPS position)."""
    if out_of_china(lon, lat):
        return lon, lat
    d_lat = _shift_lat(lon - 105.0, lat - 35.0)
    d_lon = _shift_lon(lon - 105.0, lat - 35.0)
    rad = lat / 180.0 * math.pi
    magic = 1 - _EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_A * (1 - _EE)) / (magic * sqrt_magic) * math.pi)
    d_lon = (d_lon * 180.0) / (_A / sqrt_magic * math.cos(rad) * math.pi)
    return lon + d_lon, lat + d_lat


def gcj02_to_wgs84(lon: float, lat: float, *, tolerance: float = 1e-10) -> tuple[float, float]:
    """The inverse, by iteration: converges to ``tolerance`` degrees in a handful of steps."""
    if out_of_china(lon, lat):
        return lon, lat
    x, y = lon, lat
    for _ in range(30):
        gx, gy = wgs84_to_gcj02(x, y)
        dx, dy = lon - gx, lat - gy
        x, y = x + dx, y + dy
        if abs(dx) < tolerance and abs(dy) < tolerance:
            break
    return x, y


CONVERTERS: dict[str, Callable[[float, float], tuple[float, float]] | None] = {
    "wgs84": None,
    "gcj02": gcj02_to_wgs84,
}


def convert_geometry(geometry: dict, crs: str) -> dict:
    """A GeoJSON Polygon/MultiPolygon with every position converted from ``crs`` to WGS84
    (a copy; anything past longitude and latitude in a position is kept)."""
    convert = CONVERTERS[crs]
    if convert is None:
        return geometry

    def ring(points):
        return [[*convert(float(p[0]), float(p[1])), *p[2:]] for p in points]

    coords = geometry.get("coordinates")
    if geometry.get("type") == "Polygon":
        coords = [ring(r) for r in coords or []]
    elif geometry.get("type") == "MultiPolygon":
        coords = [[ring(r) for r in poly] for poly in coords or []]
    return {**geometry, "coordinates": coords}


def centroid(geometry: dict) -> tuple[float, float] | None:
    """(lon, lat) of a Polygon/MultiPolygon's area centroid (outer rings less holes), planar in
    degrees: exact enough for a grid of a few hundred metres. None for an empty or flat one."""

    def ring_moments(points) -> tuple[float, float, float]:
        a = cx = cy = 0.0
        # Relative to an origin near the polygon: products of raw degrees (116 × 39) would
        # cancel away the digits a grid's size lives in.
        pts = [(p[0] - x0, p[1] - y0) for p in points]
        for (x1, y1), (x2, y2) in itertools.pairwise(pts):
            cross = x1 * y2 - x2 * y1
            a += cross
            cx += (x1 + x2) * cross
            cy += (y1 + y2) * cross
        return a / 2, cx / 6, cy / 6

    kind = geometry.get("type")
    polys = geometry.get("coordinates") or []
    if kind == "Polygon":
        polys = [polys]
    elif kind != "MultiPolygon":
        return None
    try:
        x0, y0 = float(polys[0][0][0][0]), float(polys[0][0][0][1])
    except (IndexError, TypeError, ValueError):
        return None
    area = mx = my = 0.0
    for poly in polys:
        for i, r in enumerate(poly):
            a, x, y = ring_moments(r)
            # Outer rings count, holes subtract, whichever way each ring winds.
            sign = (1 if a >= 0 else -1) * (1 if i == 0 else -1)
            area += sign * a
            mx += sign * x
            my += sign * y
    if abs(area) < 1e-15:
        return None
    return x0 + mx / area, y0 + my / area
