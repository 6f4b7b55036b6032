"""Keep the catalogues in step with the code: ``python tools/i18n.py [--check]``.

Extracts every translatable string, updates zh_Hans and en (en gets msgstr = msgid), compiles
the .mo files that ship in the repository, and lists zh_Hans strings still untranslated.
With --check nothing is written; it exits 1 when anything is missing, stale or fuzzy.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "portal" / "translations"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "lazy_gettext": None, "_l": None}
METHODS = {"portal": [("**.py", "python")], "templates": [("**.html", "jinja2")]}
LOCALES = ("zh_Hans", "en")


def _keep_dir(dirpath: str) -> bool:
    """Babel skips folders starting with "_" by default; templates/_macros must be read."""
    name = Path(dirpath).name
    return not name.startswith(".") and name != "__pycache__"


def extract() -> Catalog:
    template = Catalog(project="Commons", charset="utf-8")
    for folder, method_map in METHODS.items():
        for _filename, _lineno, message, _comments, context in extract_from_dir(
            ROOT / folder,
            method_map,
            keywords=KEYWORDS,
            directory_filter=_keep_dir,
            options_map={"**.html": {"extensions": "jinja2.ext.i18n"}},
        ):
            template.add(message, None, context=context)
    return template


def po_path(locale: str) -> Path:
    return TRANSLATIONS / locale / "LC_MESSAGES" / "messages.po"


def load(locale: str) -> Catalog:
    path = po_path(locale)
    if not path.exists():
        return Catalog(locale=locale)
    with path.open("rb") as fh:
        return read_po(fh, locale=locale)


def problems(template: Catalog) -> list[str]:
    found = []
    ids = {m.id for m in template if m.id}
    for locale in LOCALES:
        cat = load(locale)
        have = {m.id: m for m in cat if m.id}
        for mid in sorted(ids, key=str):
            m = have.get(mid)
            if m is None:
                found.append(f"{locale}: missing {mid!r}")
            elif m.fuzzy:
                found.append(f"{locale}: fuzzy {mid!r}")
            elif not m.string or (isinstance(m.string, tuple) and not all(m.string)):
                found.append(f"{locale}: untranslated {mid!r}")
        for mid in sorted(set(have) - ids, key=str):
            found.append(f"{locale}: obsolete {mid!r}")
    return found


def mo_bytes(cat: Catalog) -> bytes:
    buf = io.BytesIO()
    write_mo(buf, cat, use_fuzzy=False)
    return buf.getvalue()


def update(template: Catalog) -> None:
    for locale in LOCALES:
        cat = load(locale)
        cat.update(template, no_fuzzy_matching=True)
        cat.obsolete.clear()
        for m in cat:
            if not m.id:
                continue
            m.flags.discard("fuzzy")
            if locale == "en":
                if isinstance(m.id, tuple) and not all(m.string or ()):
                    m.string = m.id  # (singular, plural): English uses both forms as written
                elif not isinstance(m.id, tuple) and not m.string:
                    m.string = m.id
        path = po_path(locale)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            write_po(
                fh,
                cat,
                width=100,
                omit_header=False,
                sort_output=True,
                include_previous=False,
                no_location=True,
            )
        path.with_suffix(".mo").write_bytes(mo_bytes(cat))


def main() -> int:
    template = extract()
    if "--check" not in sys.argv:
        update(template)
    issues = problems(template)
    for locale in LOCALES:
        path = po_path(locale)
        if path.exists() and path.with_suffix(".mo").read_bytes() != mo_bytes(load(locale)):
            issues.append(f"{locale}: messages.mo is not compiled from messages.po")
    for line in issues:
        print(line)
    print(f"{len(template)} messages, {len(issues)} problems")
    return 1 if issues else 0


if __name__ == "__main__":
    raise SystemExit(main())
