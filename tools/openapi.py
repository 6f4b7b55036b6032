"""Write the request side of portal/api/openapi.json from the API's pydantic models.

    python tools/openapi.py          # rewrite the file
    python tools/openapi.py --check  # exit 1 when the committed file differs (CI)

The response side stays hand-written in the file; see portal/api/openapi.py.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when the file is stale")
    args = parser.parse_args()

    from portal import create_app
    from portal.api.openapi import OPENAPI_PATH, build, dumps, load

    app = create_app(
        {"COMMONS_ENV": "testing", "SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": "-"}
    )
    current = OPENAPI_PATH.read_text(encoding="utf-8")
    wanted = dumps(build(app, load()))
    if args.check:
        if current == wanted:
            return 0
        diff = difflib.unified_diff(
            current.splitlines(), wanted.splitlines(), "committed", "generated", lineterm=""
        )
        print("\n".join(list(diff)[:80]))
        print(f"{OPENAPI_PATH} is stale: run python tools/openapi.py", file=sys.stderr)
        return 1
    if current != wanted:
        OPENAPI_PATH.write_text(wanted, encoding="utf-8")
        print(f"wrote {OPENAPI_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
