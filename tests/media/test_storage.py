"""Stored photos get generated names only, stay inside the media folder, and are served safely."""

from __future__ import annotations

import re
import stat
from io import BytesIO

import pytest
from flask import Flask
from PIL import Image
from werkzeug.exceptions import NotFound

from portal.config import load_config
from portal.media.images import process_image
from portal.media.storage import LocalStorage, send_image, storage_for

NAME = re.compile(r"([A-Za-z0-9_-]{2})/\1[A-Za-z0-9_-]{22}\.(jpg|png|webp)")
JPEG = b"\xff\xd8 pretend jpeg bytes \xff\xd9"


@pytest.fixture
def storage(tmp_path) -> LocalStorage:
    return LocalStorage(tmp_path / "media")


@pytest.fixture
def flask_app(tmp_path) -> Flask:
    app = Flask(__name__)
    app.config["MEDIA_ROOT"] = str(tmp_path / "served")
    return app


def served(response) -> bytes:
    response.direct_passthrough = False
    try:
        return response.get_data()
    finally:
        response.close()


def test_save_round_trip_under_a_sharded_generated_name(storage):
    name = storage.save(JPEG, ".jpg")

    assert NAME.fullmatch(name)
    path = storage.path(name)
    assert path == storage.root / name[:2] / name[3:]
    assert path.read_bytes() == JPEG
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert storage.exists(name)
    # Written through a temporary file that is renamed into place, and nothing else is left.
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_every_save_gets_a_new_name(storage):
    names = {storage.save(JPEG, ".png") for _ in range(20)}

    assert len(names) == 20
    assert all(name.endswith(".png") for name in names)


def test_delete_removes_and_tolerates_a_missing_file(storage):
    name = storage.save(JPEG, ".webp")

    storage.delete(name)
    storage.delete(name)

    assert not storage.exists(name)
    assert not storage.path(name).exists()


@pytest.mark.parametrize("extension", [".exe", ".html", "jpg", "", ".jpg/../x"])
def test_only_photo_extensions_can_be_saved(storage, extension):
    with pytest.raises(ValueError):
        storage.save(JPEG, extension)

    assert not storage.root.exists() or not any(storage.root.rglob("*"))


@pytest.mark.parametrize(
    "name",
    [
        "../x",
        "/etc/passwd",
        "ab/../../x.jpg",
        "ab/x.exe",
        "",
        ".",
        "ab/ab.jpg",
        "ab/" + "cd" + "x" * 22 + ".jpg",  # shard does not match the name
        "ab/" + "ab" + "x" * 22 + ".exe",
        "ab/" + "ab" + "x" * 22 + ".jpg\n",
        "ab\\" + "ab" + "x" * 22 + ".jpg",
        "../" + "ab" + "x" * 22 + ".jpg",
        "ab/" + "ab" + "x" * 20 + "/..jpg",
    ],
)
def test_names_not_of_our_making_never_become_paths(storage, name):
    with pytest.raises(FileNotFoundError):
        storage.path(name)
    assert storage.exists(name) is False
    storage.delete(name)  # a name we never made is as good as missing


def test_a_traversal_name_cannot_reach_a_real_file_outside(tmp_path, storage):
    secret = tmp_path / "secret.jpg"
    secret.write_bytes(b"secret")

    assert not storage.exists("../secret.jpg")
    with pytest.raises(FileNotFoundError):
        storage.path("media/../secret.jpg")
    storage.delete("../secret.jpg")
    storage.delete(str(secret))
    assert secret.read_bytes() == b"secret"


def test_storage_for_uses_the_configured_root(flask_app, tmp_path):
    storage = storage_for(flask_app)

    name = storage.save(JPEG, ".jpg")

    assert (tmp_path / "served" / name).read_bytes() == JPEG


def test_media_root_defaults_to_the_instance_folder_and_can_be_moved(monkeypatch, tmp_path):
    monkeypatch.delenv("MEDIA_ROOT", raising=False)
    monkeypatch.setenv("COMMONS_INSTANCE_PATH", str(tmp_path / "instance"))
    cfg = load_config({"COMMONS_ENV": "testing"})
    assert cfg["MEDIA_ROOT"] == str(tmp_path / "instance" / "media")
    assert cfg["MEDIA_MAX_PHOTOS"] == 4

    monkeypatch.setenv("MEDIA_ROOT", str(tmp_path / "elsewhere"))
    assert load_config({"COMMONS_ENV": "testing"})["MEDIA_ROOT"] == str(tmp_path / "elsewhere")


def test_send_image_serves_with_a_safe_content_type(flask_app, storage):
    name = storage.save(JPEG, ".jpg")

    with flask_app.test_request_context():
        response = send_image(storage, name, "image/jpeg")
        body = served(response)

    assert response.status_code == 200
    assert body == JPEG
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Disposition"] == 'inline; filename="photo.jpg"'
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response.cache_control.max_age == 30
    assert response.cache_control.private and not response.cache_control.public


def test_send_image_can_allow_shared_caches_for_public_photos(flask_app, storage):
    name = storage.save(JPEG, ".webp")

    with flask_app.test_request_context():
        response = send_image(storage, name, "image/webp", private=False)
        served(response)

    assert response.cache_control.public and not response.cache_control.private
    assert response.headers["Content-Disposition"] == 'inline; filename="photo.webp"'


def test_no_copy_of_a_photo_outlives_a_minute(flask_app, storage):
    """Who may see a photo is checked on every request: a proposal hidden now must not stay
    in a browser or a shared cache for a day."""
    name = storage.save(JPEG, ".jpg")
    for private in (True, False):
        with flask_app.test_request_context():
            response = send_image(storage, name, "image/jpeg", private=private)
            served(response)
        assert 0 < response.cache_control.max_age <= 60
        assert response.cache_control.s_maxage is None
        assert "stale" not in response.headers["Cache-Control"]


def test_send_image_lets_nginx_send_the_file_when_configured(flask_app, storage):
    flask_app.config["MEDIA_ACCEL_REDIRECT"] = "/_media/"
    name = storage.save(JPEG, ".jpg")
    with flask_app.test_request_context():
        response = send_image(storage, name, "image/jpeg", private=False)
        body = served(response)
        with pytest.raises(NotFound):
            send_image(storage, "ab/ab" + "x" * 22 + ".jpg", "image/jpeg")
    assert body == b"" and response.headers["X-Accel-Redirect"] == f"/_media/{name}"
    assert response.mimetype == "image/jpeg"
    assert response.cache_control.public and response.cache_control.max_age == 30
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Content-Security-Policy"] == "default-src 'none'; sandbox"


def test_send_image_answers_a_revalidation_with_not_modified(flask_app, storage):
    name = storage.save(JPEG, ".png")
    with flask_app.test_request_context():
        first = send_image(storage, name, "image/png")
        served(first)
    etag = first.headers["ETag"]

    with flask_app.test_request_context(headers={"If-None-Match": etag}):
        again = send_image(storage, name, "image/png")
        served(again)

    assert again.status_code == 304


@pytest.mark.parametrize(
    "content_type", ["text/html", "image/svg+xml", "image/gif", "application/octet-stream", ""]
)
def test_send_image_refuses_any_other_content_type(flask_app, storage, content_type):
    name = storage.save(JPEG, ".jpg")

    with flask_app.test_request_context(), pytest.raises(ValueError):
        send_image(storage, name, content_type)


@pytest.mark.parametrize("name", ["../x", "/etc/passwd", "ab/" + "ab" + "x" * 22 + ".jpg"])
def test_send_image_is_not_found_for_bad_or_missing_names(flask_app, storage, name):
    with flask_app.test_request_context(), pytest.raises(NotFound):
        send_image(storage, name, "image/jpeg")


def test_a_processed_upload_is_stored_and_served_back(flask_app, storage):
    buf = BytesIO()
    Image.new("RGB", (2400, 1200), (10, 120, 200)).save(buf, "PNG")
    photo = process_image(buf.getvalue())

    name = storage.save(photo.data, photo.extension)
    thumb = storage.save(photo.thumb, photo.extension)
    with flask_app.test_request_context():
        response = send_image(storage, name, photo.content_type)
        body = served(response)

    assert name.endswith(".png") and response.mimetype == "image/png"
    assert Image.open(BytesIO(body)).size == (1600, 800)
    with Image.open(storage.path(thumb)) as stored_thumb:
        assert stored_thumb.size == (400, 200)
