"""Choosing a place (or an agency) on an admin form by its name or code, without JavaScript.

A small grid lists every choice at once; a city's thousands are found first with a GET search
(``find``) on the same page, whose matches become the select's choices, as on the residency page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wtforms import SelectChoice

from portal.core.i18n import current_locale
from portal.core.i18n import lazy_gettext as _l
from portal.extensions import db
from portal.places.services import count_places, find_places, level_of, place_label
from portal.roles.models import Agency
from portal.roles.services import find_agencies

# Below this many choices the select lists them all; above it the admin searches first.
LIST_ALL_UNDER = 60
MATCHES = 20
FIND_MAX = 50

KIND_LABELS = {
    "district": _l("Districts"),
    "street": _l("Streets"),
    "community": _l("Communities"),
    "grid": _l("Grids"),
    "agency": _l("Agencies"),
}


@dataclass
class Picker:
    choices: list[SelectChoice]
    kinds: dict[str, str] = field(default_factory=dict)  # code → "community", "agency", …
    searching: bool = False
    find: str = ""
    matches: int = 0


def build(
    find: str,
    levels: tuple[str, ...],
    *,
    agencies: bool = False,
    posted: str | None = None,
    empty_label: str,
) -> Picker:
    """The choices for a place field: ``levels`` of the grid (and agencies), every one of them
    while few, else those matching ``find``; ``posted`` (the value submitted) is always among
    them when it exists, so a submitted choice validates and stays selected."""
    find = find.strip()[:FIND_MAX]
    few = count_places(levels, up_to=LIST_ALL_UNDER)
    if agencies and few < LIST_ALL_UNDER:
        few += len(db.session.scalars(db.select(Agency.id).limit(LIST_ALL_UNDER)).all())
    searching = few >= LIST_ALL_UNDER
    text: str | None = find if searching else None
    loc = current_locale()
    picker = Picker(choices=[SelectChoice("", empty_label)], searching=searching, find=find)
    for place in find_places(text, levels, also_code=posted, limit=MATCHES):
        kind = level_of(place)
        picker.kinds[place.code] = kind
        picker.choices.append(
            SelectChoice(place.code, place_label(place, loc), optgroup=str(KIND_LABELS[kind]))
        )
    if agencies:
        found: list[Agency] = find_agencies(text, also_code=posted, limit=MATCHES)
        for agency in found:
            picker.kinds[agency.code] = "agency"
            picker.choices.append(
                SelectChoice(
                    agency.code,
                    f"{agency.name(loc)} · {agency.code}",
                    optgroup=str(KIND_LABELS["agency"]),
                )
            )
    picker.matches = len(picker.choices) - 1
    return picker
