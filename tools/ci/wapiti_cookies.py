"""Sign in to the site as a browser would and write the session as a wapiti cookie file.

    python tools/ci/wapiti_cookies.py BASE_URL EMAIL PASSWORD OUT.json
    python tools/ci/wapiti_cookies.py --still-signed-in BASE_URL FILE.json

The second form fails when the session in FILE no longer signs in (after a scan: the scan
was not signed in all along). Staff answer the second step with the demo's authenticator
code (tools/totp_code.py).

The file has the layout wapiti's ``--cookie`` reads (wapitiCore.net.jsoncookie):
``{domain: {path: {name: {value, expires, secure, port, version}}}}``. Standard library only,
so it runs under any Python; the certificate is not checked (prod-local's is self-signed).
"""

from __future__ import annotations

import http.cookiejar
import json
import re
import ssl
import sys
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from totp_code import fresh_code


def _opener(jar: http.cookiejar.CookieJar) -> urllib.request.OpenerDirector:
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    return urllib.request.build_opener(
        urllib.request.HTTPSHandler(context=context), urllib.request.HTTPCookieProcessor(jar)
    )


def signed_in(opener: urllib.request.OpenerDirector, base: str) -> bool:
    """/account answers a signed-in person; anyone else is sent to the sign-in page."""
    me = opener.open(f"{base}/account", timeout=15)
    return urllib.parse.urlsplit(me.geturl()).path == "/account"


def sign_in(base: str, email: str, password: str) -> http.cookiejar.CookieJar:
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    page = opener.open(f"{base}/login", timeout=15).read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    if token is None:
        raise SystemExit("no CSRF token on the sign-in page")
    data = urllib.parse.urlencode(
        {"csrf_token": token.group(1), "email": email, "password": password}
    ).encode()
    request = urllib.request.Request(f"{base}/login", data=data)  # noqa: S310 - see main
    request.add_header("Origin", base)  # what a browser sends with a form POST
    answer = opener.open(request, timeout=15)
    page = answer.read().decode()
    if urllib.parse.urlsplit(answer.geturl()).path == "/login/two-factor":
        # Staff: the second step, with the demo's authenticator code (tools/totp_code.py).
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
        if token is None:
            raise SystemExit("no CSRF token on the second step's page")
        data = urllib.parse.urlencode(
            {"csrf_token": token.group(1), "code": fresh_code(email)}
        ).encode()
        request = urllib.request.Request(f"{base}/login/two-factor", data=data)  # noqa: S310
        request.add_header("Origin", base)
        opener.open(request, timeout=15).read()
    if not signed_in(opener, base):
        raise SystemExit(f"signing in as {email} failed")
    return jar


def still_signed_in(base: str, path: str) -> None:
    with open(path, encoding="utf-8") as f:
        cookies = json.load(f)
    host = urllib.parse.urlsplit(base).hostname
    value = cookies[host]["/"]["commons_session"]["value"]
    jar = http.cookiejar.CookieJar()
    opener = _opener(jar)
    opener.addheaders.append(("Cookie", f"commons_session={value}"))
    if not signed_in(opener, base):
        raise SystemExit(f"the session in {path} was signed out during the scan")


def wapiti_cookies(jar: http.cookiejar.CookieJar) -> dict:
    out: dict = {}
    for cookie in jar:
        domain = cookie.domain
        if not re.fullmatch(r"[\d.]+", domain) and not domain.startswith("."):
            domain = "." + domain
        out.setdefault(domain, {}).setdefault(cookie.path, {})[cookie.name] = {
            "value": cookie.value,
            "expires": cookie.expires,
            "secure": cookie.secure,
            "port": None,
            "version": cookie.version or 0,
        }
    return out


def main(argv: list[str]) -> None:
    if not any(arg.startswith(("https://", "http://")) for arg in argv[:2]):
        raise SystemExit(__doc__)  # only http(s) URLs are ever opened
    if len(argv) == 3 and argv[0] == "--still-signed-in":
        still_signed_in(argv[1].rstrip("/"), argv[2])
        return
    if len(argv) != 4:
        raise SystemExit(__doc__)
    base, email, password, out = argv
    cookies = wapiti_cookies(sign_in(base.rstrip("/"), email, password))
    if not any("commons_session" in paths.get("/", {}) for paths in cookies.values()):
        raise SystemExit("no session cookie after signing in")
    with open(out, "w", encoding="utf-8") as f:
        json.dump(cookies, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1:])
