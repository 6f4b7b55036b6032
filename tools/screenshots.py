"""Screenshots of each role's landing page, desktop and phone, for the README.

    .venv/bin/python tools/screenshots.py            # fresh demo instance, docs/screenshots/
    .venv/bin/python tools/screenshots.py --url http://127.0.0.1:5061 --lang en

Without ``--url`` it builds what a newcomer gets from ``make run`` in a temporary folder: a new
SQLite instance (``COMMONS_INSTANCE_PATH``), ``flask db upgrade``, ``flask demo`` (the lived-in
demo), and ``flask run --port 5061``; it stops that server when done. Then it signs in as each
demo account through the real sign-in form, lands where that person lands, and saves the
visible page at 1280×800 and at 360×740 as a palette PNG (small, and exact for flat UI colours).
Chromium is Debian's (/usr/bin/chromium), with the flags of the browser tests.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from PIL import Image
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM_ARGS, DEMO_PASSWORD, chromium_path  # noqa: E402
from tools.totp_code import fresh_code  # noqa: E402

PORT = 5061
SIZES = {"desktop": (1280, 800), "phone": (360, 740)}
# (file name, demo account or None for a visitor): each lands on its own page after sign-in.
PEOPLE = [
    ("visitor", None),
    ("resident", "resident1@example.org"),
    ("committee", "committee@example.org"),
    ("liaison", "liaison.public-security-bureau@example.org"),
    ("grid-worker", "gridworker@example.org"),
    ("supervisor", "supervisor@example.org"),
    ("admin", "admin@example.org"),
]
ACCEPT = {"zh_Hans": "zh-CN", "en": "en"}


def _flask(args: list[str], env: dict[str, str], **kwargs) -> subprocess.Popen | None:
    command = [str(ROOT / ".venv" / "bin" / "flask"), "--app", "wsgi", *args]
    if kwargs.pop("background", False):
        return subprocess.Popen(command, cwd=ROOT, env=env, **kwargs)  # noqa: S603 - fixed args
    subprocess.run(command, cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)  # noqa: S603
    return None


def _wait_for(url: str, seconds: float = 30) -> None:
    until = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 - local
                return
        except OSError:
            if time.monotonic() > until:
                raise
            time.sleep(0.3)


def serve_demo(instance: Path) -> subprocess.Popen:
    """A fresh instance with the lived-in demo, served on PORT."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL")}
    env |= {
        "COMMONS_INSTANCE_PATH": str(instance),
        "COMMONS_ENV": "development",
        "RATELIMIT_ENABLED": "0",  # seven sign-ins from one address in a few seconds
    }
    _flask(["db", "upgrade"], env)
    _flask(["demo"], env)
    server = _flask(
        ["run", "--port", str(PORT)],
        env,
        background=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert server is not None
    return server


def save_png(data: bytes, path: Path) -> int:
    """The screenshot as an optimised 256-colour PNG; returns its size in bytes."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        path, optimize=True
    )
    return path.stat().st_size


def capture(url: str, out: Path, lang: str) -> list[tuple[Path, int]]:
    out.mkdir(parents=True, exist_ok=True)
    saved = []
    path = chromium_path()
    if path is None:
        raise SystemExit("Chromium not installed: apt-get install chromium")
    with sync_playwright() as p:
        # Chromium refuses port 5061 (SIP over TLS) unless told otherwise.
        browser = p.chromium.launch(
            executable_path=path, args=[*CHROMIUM_ARGS, f"--explicitly-allowed-ports={PORT}"]
        )
        try:
            for name, email in PEOPLE:
                for size, (width, height) in SIZES.items():
                    context = browser.new_context(
                        base_url=url,
                        viewport={"width": width, "height": height},
                        locale=ACCEPT[lang],
                        extra_http_headers={"Accept-Language": ACCEPT[lang]},
                    )
                    page = context.new_page()
                    if email:
                        page.goto("/login")
                        page.locator("#email").fill(email)
                        page.locator("#password").fill(DEMO_PASSWORD)
                        with page.expect_navigation():
                            page.locator("main form:has(#password) button[type=submit]").click()
                        if "/login/two-factor" in page.url:  # staff: the second step
                            page.locator("#code").fill(fresh_code(email))
                            with page.expect_navigation():
                                page.locator("main form:has(#code) button[type=submit]").click()
                        if "/login" in page.url:
                            raise SystemExit(f"sign-in failed for {email}")
                    else:
                        page.goto("/")
                    # The language asked for, whatever the demo account prefers: the header's
                    # switch (folded away on a phone), posted as the browser posts it.
                    here = page.url
                    context.request.post(
                        f"{url}/preferences/language",
                        form={"lang": lang, "next": "/"},
                        headers={"Origin": url},
                        max_redirects=0,
                    )
                    page.goto(here)
                    target = out / f"{name}-{size}.png"
                    saved.append((target, save_png(page.screenshot(), target)))
                    context.close()
        finally:
            browser.close()
    return saved


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a server already running the demo (else one is started)")
    parser.add_argument("--out", default=str(ROOT / "docs" / "screenshots"), type=Path)
    parser.add_argument("--lang", default="zh_Hans", choices=sorted(ACCEPT))
    args = parser.parse_args()
    server = None
    with tempfile.TemporaryDirectory(prefix="commons-shots-") as tmp:
        url = args.url
        if url is None:
            server = serve_demo(Path(tmp))
            url = f"http://127.0.0.1:{PORT}"
        try:
            _wait_for(url)
            saved = capture(url.rstrip("/"), Path(args.out), args.lang)
        finally:
            if server is not None:
                server.terminate()
                server.wait(timeout=10)
    for target, size in saved:
        shown = target.relative_to(ROOT) if target.is_relative_to(ROOT) else target
        print(f"{shown}  {size // 1024} KB")
    print(f"total {sum(size for _t, size in saved) // 1024} KB")


if __name__ == "__main__":
    main()
