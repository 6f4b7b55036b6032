"""Give the scanner something to attack: proposals in review and open for support, with a
comment and a support, made through the public API by the demo accounts.

    python tools/ci/wapiti_seed.py BASE_URL

The demo data holds places and people only; without this the proposal, comment and support
pages and forms would never be crawled. Standard library only; the certificate is not checked
(prod-local's is self-signed). A refusal (say, a rate limit on a database seeded before) is
reported and skipped: the scan still runs on what exists.
"""

from __future__ import annotations

import json
import ssl
import sys
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from totp_code import fresh_code

PASSWORD = "commons-demo-2026"  # noqa: S105 - the documented demo password (portal/demo.py)
CONTEXT = ssl.create_default_context()
CONTEXT.check_hostname = False
CONTEXT.verify_mode = ssl.CERT_NONE


def call(base: str, method: str, path: str, body: dict | None = None, token: str | None = None):
    request = urllib.request.Request(  # noqa: S310 - main accepts http(s) URLs only
        f"{base}/api/v1{path}",
        method=method,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, context=CONTEXT, timeout=15) as response:  # noqa: S310
            return json.loads(response.read() or b"null")
    except urllib.error.HTTPError as err:
        print(f"seed: {method} {path} -> {err.code} {err.read()[:200]!r}", file=sys.stderr)
        return None


def token(base: str, email: str) -> str:
    # otp: staff answer the second step with the demo's authenticator code; an account
    # without two-step sign-in ignores it.
    body = {"email": email, "password": PASSWORD, "otp": fresh_code(email)}
    answer = call(base, "POST", "/auth/token", body)
    if not answer:
        raise SystemExit(f"seed: cannot sign in as {email}")
    return answer["token"]


def main(base: str) -> None:
    base = base.rstrip("/")
    author = token(base, "resident1@example.org")
    neighbour = token(base, "resident2@example.org")
    committee = token(base, "committee@example.org")
    made = []
    for title, category in (
        ("社区花园的长椅坏了", "public-space"),
        ("Evening lights by the gate", "safety"),
    ):
        proposal = call(
            base,
            "POST",
            "/proposals",
            {
                "title": title,
                "summary": "A short summary for the scan.",
                "body": "Some **Markdown** body, with a [link](/places).",
                "category": category,
                "location_note": "3号楼",
                "submit": True,
            },
            author,
        )
        if proposal:
            made.append(proposal["id"])
    if made:
        open_id = made[0]
        call(base, "POST", f"/proposals/{open_id}/review", {"decision": "approve"}, committee)
        call(base, "POST", f"/proposals/{open_id}/support", {}, neighbour)
        call(
            base,
            "POST",
            f"/proposals/{open_id}/comments",
            {"body": "I agree, it needs fixing.", "stance": "for"},
            neighbour,
        )
    print(f"seed: {len(made)} proposals made")


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].startswith(("https://", "http://")):
        raise SystemExit(__doc__)
    main(sys.argv[1])
