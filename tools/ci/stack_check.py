"""Check the deployed stack (tools/stack.sh) from outside, through nginx:

1. public pages are served from the micro-cache on the second request, with the app's
   headers intact;
2. a signed-in person never gets a cached page, not even on a URL whose anonymous copy is
   cached, and nothing they get is cached for others;
3. a visitor who chose English or large text gets that page even when a Chinese or
   standard-text copy is cached, and the other way round;
4. a proposal the committee hides stops being served within 60 s (the time is printed);
5. a forged X-Forwarded-Host or Host and a junk If-None-Match are answered correctly;
6. with --outage: also when the app stops right after the hiding (nginx serves stale copies
   while the app is down, but none older than the cache's bound); the app is stopped and
   started again with tools/stack.sh.

    python tools/ci/stack_check.py [--outage] https://127.0.0.1:9443

Standard library only; the certificate is not checked (the stack's is self-signed). Exits 1
with a message naming the failed check.
"""

from __future__ import annotations

import http.client
import json
import re
import secrets
import shutil
import ssl
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from totp_code import fresh_code

STACK = [shutil.which("bash") or "/bin/bash", str(Path(__file__).resolve().parents[1] / "stack.sh")]
PASSWORD = "commons-demo-2026"  # noqa: S105 - the documented demo password (portal/demo.py)
HIDE_WITHIN = 60.0
SIGN_OUT = 'action="/logout"'
SECURITY_HEADERS = (
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "strict-transport-security",
)


class CheckFailed(Exception):
    pass


def require(condition: bool, message: str) -> None:
    if not condition:
        raise CheckFailed(message)


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: bytes):
        self.status = status
        self.headers = {}
        for name, value in headers:
            self.headers.setdefault(name.lower(), value)
        self.set_cookies = [v for n, v in headers if n.lower() == "set-cookie"]
        self.text = body.decode("utf-8", "replace")

    @property
    def cache(self) -> str:
        return self.headers.get("x-cache-status", "")

    def html_tag(self) -> str:
        found = re.search(r"<html[^>]*>", self.text)
        return found.group(0) if found else ""


class Client:
    """One visitor: no redirects followed, cookies kept by name (the stack has one host)."""

    def __init__(self, base: str, cookies: dict[str, str] | None = None):
        parts = urllib.parse.urlsplit(base)
        self.base = base.rstrip("/")
        self.host, self.port = parts.hostname, parts.port or 443
        self.cookies = dict(cookies or {})
        self.context = ssl.create_default_context()
        self.context.check_hostname = False
        self.context.verify_mode = ssl.CERT_NONE

    def request(self, method: str, path: str, headers=None, form=None) -> Response:
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=20)
        send = {"Accept-Language": "zh-CN,zh;q=0.9"}
        send.update(headers or {})
        if self.cookies and "Cookie" not in send:
            send["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            send["Content-Type"] = "application/x-www-form-urlencoded"
            send.setdefault("Origin", self.base)  # what a browser sends with a form POST
        try:
            conn.request(method, path, body=body, headers=send)
            raw = conn.getresponse()
            response = Response(raw.status, raw.getheaders(), raw.read())
        finally:
            conn.close()
        for header in response.set_cookies:
            name, _, rest = header.partition("=")
            value = rest.split(";", 1)[0]
            if "max-age=0" in header.lower() or "expires=thu, 01 jan 1970" in header.lower():
                self.cookies.pop(name.strip(), None)
            else:
                self.cookies[name.strip()] = value
        return response

    def api(self, method: str, path: str, body: dict | None = None, token: str | None = None):
        """(status, JSON answer) of an API call."""
        conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=20)
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        try:
            conn.request(
                method,
                f"/api/v1{path}",
                body=json.dumps(body or {}).encode() if method != "GET" else None,
                headers=headers,
            )
            raw = conn.getresponse()
            status, text = raw.status, raw.read()
        finally:
            conn.close()
        try:
            return status, json.loads(text or b"null")
        except json.JSONDecodeError:
            return status, {"raw": text[:200].decode("utf-8", "replace")}

    def token(self, email: str) -> str:
        # otp: staff answer the second step with the demo's authenticator code; an account
        # without two-step sign-in ignores it.
        body = {"email": email, "password": PASSWORD, "otp": fresh_code(email)}
        status, answer = self.api("POST", "/auth/token", body)
        require(status in (200, 201), f"signing in as {email} through the API: {status} {answer}")
        return answer["token"]

    def get(self, path: str, **kw) -> Response:
        return self.request("GET", path, **kw)

    def sign_in(self, email: str) -> None:
        page = self.get("/login")
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
        require(token is not None, "no CSRF token on the sign-in page")
        done = self.request(
            "POST",
            "/login",
            form={"csrf_token": token.group(1), "email": email, "password": PASSWORD},
        )
        require(done.status in (302, 303), f"signing in as {email}: {done.status}")
        if done.headers.get("location", "").endswith("/login/two-factor"):
            page = self.get("/login/two-factor")  # staff: the second step
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
            require(token is not None, "no CSRF token on the second step's page")
            done = self.request(
                "POST",
                "/login/two-factor",
                form={"csrf_token": token.group(1), "code": fresh_code(email)},
            )
            require(done.status in (302, 303), f"second step as {email}: {done.status}")
        require("commons_session" in self.cookies, "no session cookie after signing in")


def cached_twice(
    client: Client, path: str, headers=None, tries: int = 4
) -> tuple[Response, Response]:
    """The first answer and a later one served from the cache (a new 30-second slot in
    between makes a fresh MISS, hence a few tries)."""
    first = client.get(path, headers=headers)
    require(first.status == 200, f"GET {path}: {first.status}")
    for _ in range(tries):
        again = client.get(path, headers=headers)
        if again.cache == "HIT":
            return first, again
        time.sleep(0.2)
    raise CheckFailed(f"GET {path} was not served from the cache (X-Cache-Status {again.cache!r})")


def seed(base: str) -> dict:
    """Two open proposals (one for the pages, one to hide) by a demo resident, approved by the
    committee, through the API. Each resident may propose 10 an hour: on a stack that has
    been checked often, the next resident writes them."""
    api = Client(base)
    me_token = api.token("resident1@example.org")
    committee = api.token("committee@example.org")
    status, me = api.api("GET", "/me", token=me_token)
    require(status == 200, f"GET /api/v1/me as resident1: {status}")
    made: dict = {}
    residents = iter(f"resident{n}@example.org" for n in range(1, 6))
    author = me_token
    for role in ("page", "hide", "outage"):
        title = f"Stack check {role} {secrets.token_hex(4)}"
        while True:
            status, proposal = api.api(
                "POST",
                "/proposals",
                {
                    "title": title,
                    "summary": "Made by tools/ci/stack_check.py.",
                    "body": "Checking the micro-cache.",
                    "category": "public-space",
                    "location_note": "3号楼",
                    "submit": True,
                },
                author,
            )
            if status != 429:
                break
            email = next(residents, None)
            require(email is not None, "every demo resident has reached the proposal limit")
            author = api.token(email)
        require(status == 201, f"creating a proposal through the API: {status} {proposal}")
        status, review = api.api(
            "POST", f"/proposals/{proposal['id']}/review", {"decision": "approve"}, committee
        )
        require(status < 300, f"approving the proposal: {status} {review}")
        made[role] = {"id": proposal["id"], "title": title}
        made["code"] = proposal["community_code"]
    return {"me": me, "committee": committee, **made}


def check_public(base: str, data: dict) -> None:
    anon = Client(base)
    for path in ("/", f"/communities/{data['code']}/proposals", f"/proposals/{data['page']['id']}"):
        first, hit = cached_twice(anon, path)
        for name in SECURITY_HEADERS:
            require(name in hit.headers, f"{path}: the cached copy lacks {name}")
            require(
                hit.headers[name] == first.headers.get(name),
                f"{path}: {name} differs between the app's answer and the cached copy",
            )
        require(not hit.set_cookies, f"{path}: a cached copy sets a cookie")
        require(SIGN_OUT not in hit.text, f"{path}: an anonymous page has a sign-out form")
        print(f"  {path}: {first.cache} then {hit.cache}, headers intact")
    require(
        data["page"]["title"] in anon.get(f"/proposals/{data['page']['id']}").text,
        "the proposal page does not show its title",
    )


def check_signed_in(base: str, data: dict) -> None:
    anon = Client(base)
    person = Client(base)
    person.sign_in("resident1@example.org")
    name = data["me"]["display_name"]
    account = person.get("/account")
    require(
        account.status == 200 and name in account.text,
        "the account page does not show the signed-in person's name",
    )
    require(account.cache in ("BYPASS", ""), f"/account: X-Cache-Status {account.cache}")
    for path in ("/", f"/communities/{data['code']}/proposals", f"/proposals/{data['page']['id']}"):
        cached_twice(anon, path)  # an anonymous copy exists now
        for _ in range(2):
            page = person.get(path)
            require(page.status == 200, f"{path} signed in: {page.status}")
            require(
                page.cache in ("BYPASS", ""),
                f"{path} signed in: X-Cache-Status {page.cache!r}, expected BYPASS",
            )
            require(
                SIGN_OUT in page.text,
                f"{path} signed in: got a page without the sign-out form (a cached copy?)",
            )
            require(
                "no-store" in page.headers.get("cache-control", ""),
                f"{path} signed in: no Cache-Control: no-store",
            )
        after = anon.get(path)
        require(
            SIGN_OUT not in after.text,
            f"{path}: an anonymous visitor got the signed-in page (it was cached)",
        )
    bearer = Client(base).get(
        "/api/v1/me", headers={"Authorization": f"Bearer {data['committee']}"}
    )
    require(
        bearer.status == 200 and bearer.cache in ("BYPASS", ""),
        f"/api/v1/me with a token: {bearer.status} X-Cache-Status {bearer.cache!r}",
    )
    print(f"  signed in as {name}: BYPASS on every page, the anonymous copies untouched")


def check_preferences(base: str, data: dict) -> None:
    path = f"/proposals/{data['page']['id']}"
    zh = Client(base)
    _, page = cached_twice(zh, path)
    require('lang="zh-Hans"' in page.html_tag(), f"default page not Chinese: {page.html_tag()}")
    # The switch, as a browser uses it: a form POST answered with the cookie.
    english = Client(base)
    switched = english.request("POST", "/preferences/language", form={"lang": "en", "next": path})
    require(
        switched.status in (302, 303) and english.cookies.get("lang") == "en",
        f"the language switch did not set lang=en ({switched.status})",
    )
    variants = [
        ("English by cookie", english, {}, 'lang="en"', "display-standard"),
        (
            "English by Accept-Language",
            Client(base),
            {"Accept-Language": "en-GB,en;q=0.9"},
            'lang="en"',
            "display-standard",
        ),
        ("large text", Client(base, {"display": "large"}), {}, 'lang="zh-Hans"', "display-large"),
        (
            "English, large text",
            Client(base, {"lang": "en", "display": "large"}),
            {},
            'lang="en"',
            "display-large",
        ),
        # The other way round: Chinese and standard text while those copies are cached.
        (
            "Chinese by cookie over English Accept-Language",
            Client(base, {"lang": "zh_Hans"}),
            {"Accept-Language": "en"},
            'lang="zh-Hans"',
            "display-standard",
        ),
        (
            "standard text by cookie",
            Client(base, {"display": "standard"}),
            {"Accept-Language": "en"},
            'lang="en"',
            "display-standard",
        ),
        (
            "junk cookies",
            Client(base, {"lang": "xx" * 40, "display": "huge"}),
            {},
            'lang="zh-Hans"',
            "display-standard",
        ),
    ]
    for label, client, headers, lang, display in variants:
        first, hit = cached_twice(client, path, headers=headers)
        for got in (first, hit):
            tag = got.html_tag()
            require(
                lang in tag and display in tag,
                f"{label}: got <{tag[1:-1]}> ({got.cache}), expected {lang} {display}",
            )
    # Cookie headers nginx and the app could read differently, first on a URL nothing is
    # cached for: whichever key the copy went under, the visitors of each key must still get
    # their own page (the app is only ever told the key's values).
    for cookie in ('display="large"', 'a="x; display=large"', "display=large; display=standard"):
        fresh = f"{path}?check={secrets.token_hex(4)}"
        got = Client(base).get(fresh, headers={"Cookie": cookie})
        require(got.cache == "MISS", f"{fresh}: expected a first render, got {got.cache!r}")
        for display in ("standard", "large"):
            first, hit = cached_twice(Client(base, {"display": display}), fresh)
            for answer in (first, hit):
                require(
                    f"display-{display}" in answer.html_tag(),
                    f"after Cookie: {cookie} on {fresh}, a visitor who chose {display} text "
                    f"got {answer.html_tag()} ({answer.cache})",
                )
    print("  English/Chinese and large/standard text each get their own copy")


def check_hidden(base: str, data: dict, which: str = "hide", after_hiding=None) -> None:
    hidden = data[which]
    anon = Client(base)
    pages = (f"/proposals/{hidden['id']}", f"/communities/{data['code']}/proposals")
    for path in pages:
        # The list's copy may be from before the proposal opened: wait for one that has it.
        deadline = time.monotonic() + HIDE_WITHIN
        while True:
            _, hit = cached_twice(anon, path)
            if hidden["title"] in hit.text:
                break
            require(time.monotonic() < deadline, f"{path}: the new proposal never showed")
            time.sleep(0.5)
    status, answer = anon.api(
        "POST",
        "/moderation/actions",
        {
            "action": "hide",
            "target_type": "proposal",
            "target_id": hidden["id"],
            "reason_code": "personal-data",
        },
        data["committee"],
    )
    require(status == 201, f"hiding the proposal as the committee: {status} {answer}")
    hidden_at = time.monotonic()
    if after_hiding is not None:
        after_hiding()
    gone: dict[str, float] = {}
    answers: dict[str, int] = {}
    while len(gone) < len(pages):
        waited = time.monotonic() - hidden_at
        require(
            waited < HIDE_WITHIN,
            f"a hidden proposal's title was still served after {HIDE_WITHIN:.0f} s on "
            + ", ".join(p for p in pages if p not in gone),
        )
        for path in pages:
            if path in gone:
                continue
            page = anon.get(path)
            ok = (200, 404, 410) if after_hiding is None else (200, 404, 410, 502, 503, 504)
            require(page.status in ok, f"{path} after hiding: {page.status}")
            if hidden["title"] not in page.text:
                gone[path] = time.monotonic() - hidden_at
                answers[path] = page.status
        time.sleep(0.25)
    for path in pages:  # and it stays gone
        require(hidden["title"] not in anon.get(path).text, f"{path}: the title came back")
    print(
        "  hidden proposal gone: "
        + ", ".join(f"{p} after {t:.1f} s ({answers[p]})" for p, t in gone.items())
    )


def check_outage(base: str, data: dict) -> None:
    def stop_app() -> None:
        subprocess.run([*STACK, "stop-app"], check=True, capture_output=True)  # noqa: S603

    try:
        check_hidden(base, data, "outage", after_hiding=stop_app)
    finally:
        subprocess.run([*STACK, "start"], check=True, capture_output=True)  # noqa: S603


def check_forged(base: str, data: dict) -> None:
    anon = Client(base)
    cached_twice(anon, "/")
    forged = anon.get("/", headers={"X-Forwarded-Host": "evil.example"})
    require(
        forged.status == 200 and "evil.example" not in forged.text,
        f"forged X-Forwarded-Host: {forged.status}, evil.example in the page: "
        f"{'evil.example' in forged.text}",
    )
    host = anon.get("/", headers={"Host": "evil.example"})
    require(
        host.status == 400 and "evil.example" not in host.text,
        f"a forged Host got {host.status}, not the site's 400",
    )
    again = anon.get("/", headers={"Host": "evil.example"})
    require(again.status == 400, f"a forged Host, asked again: {again.status} (cached?)")
    for junk in ('"junk"', 'garbage,,, W/"x"', "*" * 200):
        answer = anon.get("/", headers={"If-None-Match": junk})
        require(
            answer.status == 200 and SIGN_OUT not in answer.text and "<html" in answer.text,
            f"If-None-Match {junk[:20]!r}: {answer.status}",
        )
    etag = anon.get("/").headers.get("etag")
    if etag:
        same = anon.get("/", headers={"If-None-Match": etag})
        require(same.status == 304, f"If-None-Match with the page's own ETag: {same.status}")
    print("  forged X-Forwarded-Host ignored, forged Host refused (400), junk If-None-Match: 200")


CHECKS = [
    ("1. public pages from the micro-cache", check_public),
    ("2. signed-in pages never cached", check_signed_in),
    ("3. language and display mode", check_preferences),
    ("4. hidden content gone within 60 s", check_hidden),
    ("5. forged headers", check_forged),
]
OUTAGE = ("6. hidden content gone within 60 s, the app stopped right after hiding", check_outage)


def main(base: str, outage: bool) -> int:
    base = base.rstrip("/")
    started = time.monotonic()
    try:
        data = seed(base)
        for label, check in CHECKS + ([OUTAGE] if outage else []):
            print(label)
            check(base, data)
    except CheckFailed as err:
        print(f"stack check FAILED: {err}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as err:
        print(
            f"stack check FAILED: {err.cmd} answered {err.returncode}: {err.stderr}",
            file=sys.stderr,
        )
        return 1
    except (OSError, http.client.HTTPException, json.JSONDecodeError) as err:
        print(f"stack check FAILED: cannot talk to {base}: {err!r}", file=sys.stderr)
        return 1
    print(f"stack check passed in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    args = sys.argv[1:]
    outage = "--outage" in args
    args = [a for a in args if a != "--outage"]
    if len(args) != 1 or not args[0].startswith("https://"):
        raise SystemExit(__doc__)
    sys.exit(main(args[0], outage))
