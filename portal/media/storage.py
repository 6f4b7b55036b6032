"""Keeping photo files: generated names in a local folder outside the code tree, and serving them.

A stored name is the only handle a caller gets and the only one it may give back, so names are
generated here and checked against that exact shape before any path is built: a name from a
URL or the database can never reach outside the media folder.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import secrets
import tempfile
from pathlib import Path

from flask import Flask, Response, current_app, send_file
from werkzeug.exceptions import NotFound

from portal.core.database import after_rollback
from portal.media.images import ALLOWED

FILE_MODE = 0o640
DIR_MODE = 0o750
# How long a browser or a shared cache may keep a photo without asking again. Photos are served
# by views that check who may see them on every request (a proposal the committee hides, or
# rejects, stops showing its photos), so a copy must not outlive that check by more than a
# minute; revalidating after that costs a 304 (ETag), not the photo. No stale-while-revalidate:
# 60 s is the whole window, and the proxy's micro-cache (up to 30 s) comes on top of a
# browser's copy: half of it for each.
CACHE_SECONDS = 30

_EXTENSIONS = {ext for _type, ext in ALLOWED.values()}
_CONTENT_TYPES = dict(ALLOWED.values())  # content type → extension
# "ab/ab" + 22 more token characters + an allowed extension; secrets.token_urlsafe(18) gives
# exactly 24 characters of the URL-safe alphabet.
_TOKEN_BYTES = 18
_NAME = re.compile(
    r"(?P<shard>[A-Za-z0-9_-]{2})/(?P=shard)[A-Za-z0-9_-]{22}(?P<ext>"
    + "|".join(re.escape(ext) for ext in sorted(_EXTENSIONS))
    + r")"
)


class LocalStorage:
    """Photo files under ``root``, sharded by the first two characters of their name.

    Sharding keeps any one folder to a few thousand entries even with millions of photos."""

    def __init__(self, root: Path) -> None:
        # Absolute, so that saving (relative to the working directory) and send_file (relative
        # to the app package) agree on where a relative MEDIA_ROOT is.
        self.root = Path(root).absolute()

    def save(self, data: bytes, extension: str) -> str:
        """Write ``data`` under a new name and return that name (e.g. ``"ab/abX…Yz.jpg"``).

        The file appears whole or not at all: it is written to a temporary file in the same
        folder and renamed into place, so a crash or a concurrent reader never sees half a
        photo. In a request, the file is removed again if the request's changes are not kept
        (``after_rollback``): the row naming it is gone, and nothing else would find it."""
        if extension not in _EXTENSIONS:
            raise ValueError(f"extension must be one of {sorted(_EXTENSIONS)}, not {extension!r}")
        token = secrets.token_urlsafe(_TOKEN_BYTES)
        name = f"{token[:2]}/{token}{extension}"
        target = self.path(name)
        target.parent.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                os.fchmod(fh.fileno(), FILE_MODE)
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, target)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise
        after_rollback(functools.partial(self.delete, name))
        return name

    def path(self, name: str) -> Path:
        """The file's path for a stored name; anything not shaped like one we generated raises
        FileNotFoundError (so ``..``, absolute paths and other extensions never get this far).
        Whether the file exists is not checked."""
        if not isinstance(name, str) or not _NAME.fullmatch(name):
            raise FileNotFoundError(name)
        return self.root / name

    def delete(self, name: str) -> None:
        """Remove a stored file. One that is already gone is not an error, and neither is a name
        we could never have made (it cannot exist): cleanup after a failed request must not fail."""
        with contextlib.suppress(FileNotFoundError):
            self.path(name).unlink()

    def exists(self, name: str) -> bool:
        """Whether ``name`` is a valid stored name whose file is present."""
        try:
            return self.path(name).is_file()
        except FileNotFoundError:
            return False


def storage_for(app: Flask) -> LocalStorage:
    """The storage configured for ``app`` (``MEDIA_ROOT``, by default ``instance/media``)."""
    return LocalStorage(Path(app.config["MEDIA_ROOT"]))


def send_image(
    storage: LocalStorage, name: str, content_type: str, *, private: bool = True
) -> Response:
    """A response serving a stored photo, hardened against being read as anything else.

    ``content_type`` is the one recorded when the photo was processed, never a guess from the
    request. ``nosniff`` stops browsers second-guessing it, and the sandboxing CSP means that
    even a file opened directly as a page can run nothing and load nothing. ``private`` (the
    default) keeps the photo out of shared caches, for photos that not everyone may see; pass
    ``private=False`` for public ones. Either way a copy is kept at most ``CACHE_SECONDS``.
    A name that is invalid or missing is a 404.

    With ``MEDIA_ACCEL_REDIRECT`` set (the prefix of an ``internal`` nginx location whose
    ``alias`` is MEDIA_ROOT, e.g. ``/_media/``), the view still decides who may see the photo
    but nginx sends the file (``X-Accel-Redirect``), with the headers set here.
    """
    extension = _CONTENT_TYPES.get(content_type)
    if extension is None:
        raise ValueError(f"content_type must be one of {sorted(_CONTENT_TYPES)}")
    try:
        path = storage.path(name)
    except FileNotFoundError:
        raise NotFound() from None
    if not path.is_file():
        raise NotFound()
    accel = current_app.config.get("MEDIA_ACCEL_REDIRECT")
    if accel:
        response = Response(mimetype=content_type)
        response.headers["X-Accel-Redirect"] = accel.rstrip("/") + "/" + name
    else:
        response = send_file(path, mimetype=content_type, max_age=CACHE_SECONDS, conditional=True)
    response.cache_control.max_age = CACHE_SECONDS
    response.cache_control.public = not private
    response.cache_control.private = True if private else None
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Disposition"] = f'inline; filename="photo{extension}"'
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
