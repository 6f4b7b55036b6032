"""Read wapiti's JSON reports and fail on any finding that was not reviewed.

    python tools/ci/wapiti_check.py --exceptions tools/ci/wapiti_exceptions.toml REPORT.json...

wapiti exits 0 whatever it finds, so this is the step that fails the build: every entry under
"vulnerabilities" and "anomalies" (an anomaly is, say, a 500 an attack provoked) counts, unless
an exception in the exceptions file matches its category and path (and, when given, a part of
its text). A report that crawled almost nothing fails too: a scan that could not reach or sign
in to the site must not pass as clean. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

MIN_PAGES = 10  # the signed-out site alone has more; fewer means the scan did not really run


def load_exceptions(path: Path) -> tuple[list[dict], dict]:
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    exceptions = data.get("finding", [])
    for entry in exceptions:
        missing = {"category", "path", "reason"} - entry.keys()
        if missing or not entry["reason"].strip():
            raise SystemExit(f"{path}: an exception needs category, path and a reason: {entry}")
    return exceptions, data.get("not_run", {})


def findings(report: dict) -> list[dict]:
    out = []
    for kind in ("vulnerabilities", "anomalies"):
        for category, items in (report.get(kind) or {}).items():
            for item in items:
                out.append({"kind": kind, "category": category, **item})
    return out


def matches(exception: dict, finding: dict) -> bool:
    """Category, path (exact, or with ``*`` standing for one path segment: a case's number,
    say) and, when given, a part of the finding's text."""
    pattern = "^" + "[^/]+".join(re.escape(part) for part in exception["path"].split("*")) + "$"
    return (
        exception["category"] == finding["category"]
        and re.match(pattern, finding.get("path") or "") is not None
        and exception.get("info", "") in (finding.get("info") or "")
    )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exceptions", type=Path, required=True)
    parser.add_argument("reports", nargs="+", type=Path)
    args = parser.parse_args(argv)
    exceptions, not_run = load_exceptions(args.exceptions)
    used: set[int] = set()
    failed = False
    for path in args.reports:
        report = json.loads(path.read_text(encoding="utf-8"))
        pages = (report.get("infos") or {}).get("crawled_pages_nbr", 0)
        name = path.stem
        if pages < MIN_PAGES:
            print(f"FAIL {name}: only {pages} pages crawled; the scan did not reach the site")
            failed = True
        accepted = 0
        for finding in findings(report):
            hits = [i for i, e in enumerate(exceptions) if matches(e, finding)]
            if hits:
                used.update(hits)
                accepted += 1
                continue
            failed = True
            print(
                f"FAIL {name}: {finding['category']}: {finding.get('method', '')} "
                f"{finding.get('path', '')} parameter={finding.get('parameter') or '-'}\n"
                f"     {finding.get('info', '')}"
            )
            if finding.get("http_request"):
                print("     " + finding["http_request"].strip().replace("\n", "\n     ")[:800])
        print(f"{name}: {pages} pages crawled, {accepted} reviewed findings accepted")
    for i, entry in enumerate(exceptions):
        if i not in used:
            print(f"note: exception no longer needed? {entry['category']} {entry['path']}")
    for module, reason in not_run.items():
        print(f"note: module {module} not run: {reason}")
    if failed:
        print("wapiti found problems (see above); fix them or review them in the exceptions file")
        return 1
    print("wapiti: no unreviewed findings")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
