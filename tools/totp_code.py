"""Codes for the demo's two-step sign-in, for scripts (browser journeys, scanners, the stack
check, the benchmark). Standard library only, so it runs under any Python.

    python tools/totp_code.py [ACCOUNT]    # print a code not used yet for ACCOUNT

The server accepts the code of the current 30-second step and of one step either side, and
each step once per account, never one older than the last it accepted
(``portal.accounts.mfa``). So a script that signs in as an account uses the current step's
code, the next sign-in uses the next step's code at once, and a third one waits for the
clock to reach the following step. Which step each account used last is kept in a small file
shared by every script on this machine (under a lock), so that parallel scripts never offer
the server the same code twice.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import hmac
import json
import struct
import sys
import tempfile
import time
from pathlib import Path

DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXP"  # noqa: S105  # nosec B105 - the demo secret
STEP_SECONDS = 30
STATE = Path(tempfile.gettempdir()) / "commons-totp-steps.json"


def code_at(secret: str, step: int) -> str:
    """RFC 6238 (SHA-1, 6 digits) for the step."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


@contextlib.contextmanager
def _locked():
    with open(str(STATE) + ".lock", "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


# The steps used on an in-process server (``at`` given: a test's own server and clock), per
# process: two test runs side by side (SQLite and PostgreSQL in CI) each have their own server
# and database, and must not spend each other's codes through the shared file.
_IN_PROCESS: dict[str, int] = {}


def _next_step(last: object, now: int) -> int:
    # A last step beyond the window is one of another clock (a frozen test clock): the server
    # forgets it too (portal.accounts.mfa.accept_totp).
    stale = not isinstance(last, int) or last < now or last > now + 1
    return now if stale else int(last) + 1  # type: ignore[call-overload]


def fresh_code(account: str, secret: str = DEMO_TOTP_SECRET, at: float | None = None) -> str:
    """A code for ``account`` that no script here has offered yet; waits (up to a step) when
    the current and the next step's codes are both spent. ``at``: the time of a server in this
    process (a test's live server, whose clock may be frozen); its steps are remembered in
    this process only, and a frozen clock is never waited for."""
    if at is not None:
        now = int(at) // STEP_SECONDS
        step = _next_step(_IN_PROCESS.get(account), now)
        if step > now + 1:
            if abs(at - time.time()) > 5:  # a frozen clock: waiting would not move it
                raise RuntimeError(f"both codes of this step are spent for {account}")
            time.sleep(max(0.0, (step - 1) * STEP_SECONDS - time.time()) + 0.5)
        _IN_PROCESS[account] = step
        return code_at(secret, step)
    with _locked():
        try:
            state = json.loads(STATE.read_text())
        except (OSError, ValueError):
            state = {}
        now = int(time.time()) // STEP_SECONDS
        step = _next_step(state.get(account), now)
        if step > now + 1:
            # Accepted once the server's clock reaches step - 1: a little after that boundary.
            time.sleep(max(0.0, (step - 1) * STEP_SECONDS - time.time()) + 0.5)
        state[account] = step
        STATE.write_text(json.dumps(state))
    return code_at(secret, step)


if __name__ == "__main__":
    print(fresh_code(sys.argv[1] if len(sys.argv) > 1 else "-"))
