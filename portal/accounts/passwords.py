"""Password policy: at least 12 characters, not a common password (zxcvbn's shipped lists)."""

from __future__ import annotations

from functools import cache

from werkzeug.security import check_password_hash, generate_password_hash
from zxcvbn import zxcvbn
from zxcvbn.frequency_lists import FREQUENCY_LISTS

from portal.core.i18n import gettext as _

MIN_LENGTH = 12
MAX_LENGTH = 200


@cache
def _common() -> frozenset[str]:
    return frozenset(FREQUENCY_LISTS["passwords"])


def password_problem(password: str, *, email: str = "", display_name: str = "") -> str | None:
    """The first thing wrong with a new password, as a translated sentence, or None."""
    if len(password) < MIN_LENGTH:
        return _("Use at least %(n)d characters.", n=MIN_LENGTH)
    if len(password) > MAX_LENGTH:
        return _("Use at most %(n)d characters.", n=MAX_LENGTH)
    lowered = password.lower()
    if lowered in _common() or lowered.rstrip("0123456789!") in _common():
        return _("This password is on a list of commonly used passwords. Choose another.")
    inputs = [s for s in (email, email.split("@")[0], display_name) if s]
    # zxcvbn refuses (ValueError) anything past 72 characters; the first 72 say enough.
    if zxcvbn(password[:72], user_inputs=inputs)["score"] < 3:
        return _("This password is too easy to guess. Try a longer phrase of unrelated words.")
    return None


def hash_password(password: str) -> str:
    return generate_password_hash(password, method="scrypt")


def verify_password(password_hash: str, password: str) -> bool:
    return check_password_hash(password_hash, password)


# A real hash to compare against when the email is unknown, so timing does not reveal it.
@cache
def dummy_hash() -> str:
    return hash_password("not-a-real-password-for-timing")
