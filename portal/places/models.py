"""The administrative grid: city → district → street → community → unit grid."""

from __future__ import annotations

from sqlalchemy import CheckConstraint, Float, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from portal.core.i18n import localized
from portal.extensions import Model


class _Named:
    name_zh: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(120))

    def name(self, locale: str) -> str:
        return localized(self.name_zh, self.name_en, locale)


class City(_Named, Model):
    __tablename__ = "cities"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)  # e.g. 110000
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")


class District(_Named, Model):
    __tablename__ = "districts"
    __table_args__ = (CheckConstraint("length(code) = 6", name="code_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    city_id: Mapped[int] = mapped_column(ForeignKey("cities.id"), index=True)
    code: Mapped[str] = mapped_column(String(6), unique=True)

    city = relationship(City, lazy="select")


class Street(_Named, Model):
    __tablename__ = "streets"
    __table_args__ = (CheckConstraint("length(code) = 9", name="code_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    district_id: Mapped[int] = mapped_column(ForeignKey("districts.id"), index=True)
    code: Mapped[str] = mapped_column(String(9), unique=True)  # district code + 3 digits

    district = relationship(District, lazy="select")


class Community(_Named, Model):
    __tablename__ = "communities"
    __table_args__ = (
        CheckConstraint("length(code) = 12", name="code_length"),
        CheckConstraint("confirmed_residents >= 0", name="residents_not_negative"),
        CheckConstraint(
            "support_minimum >= 1 AND support_percent >= 0 AND support_percent <= 100"
            " AND support_window_days BETWEEN 1 AND 365",
            name="support_settings",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    street_id: Mapped[int] = mapped_column(ForeignKey("streets.id"), index=True)
    code: Mapped[str] = mapped_column(String(12), unique=True)  # street code + 3 digits
    # Kept by the residency services in the same transaction as each change.
    confirmed_residents: Mapped[int] = mapped_column(default=0)
    # Support threshold = max(minimum, ceil(percent% × confirmed residents)), frozen on opening.
    support_minimum: Mapped[int] = mapped_column(default=20, server_default="20")
    support_percent: Mapped[float] = mapped_column(Float, default=5.0, server_default="5")
    support_window_days: Mapped[int] = mapped_column(default=30, server_default="30")

    street = relationship(Street, lazy="select")

    @property
    def district(self) -> District:
        return self.street.district


class Grid(_Named, Model):
    __tablename__ = "grids"
    __table_args__ = (CheckConstraint("length(code) = 15", name="code_length"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    code: Mapped[str] = mapped_column(String(15), unique=True)  # community code + 3 digits
    area_m2: Mapped[float | None] = mapped_column(Float)
    geometry: Mapped[str | None] = mapped_column(Text)  # GeoJSON Polygon/MultiPolygon, WGS84

    community = relationship(Community, lazy="select")
