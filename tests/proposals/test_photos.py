"""Proposal photos: cleaned on upload, limited in number, served safely, hidden when rejected."""

from __future__ import annotations

import io
import re

import sqlalchemy as sa
from PIL import Image

from portal.proposals.models import Proposal, ProposalPhoto
from tests.proposals.test_proposals import FORM


def _jpeg_with_gps(size=(2400, 1800)) -> bytes:
    img = Image.new("RGB", size, (200, 80, 40))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 30.0), 3: "E", 4: (116.0, 23.0, 50.0)}  # GPS
    out = io.BytesIO()
    img.save(out, "JPEG", exif=exif)
    return out.getvalue()


def _post(client, files, extra=None, action="draft"):
    url = "/communities/110101001001/proposals/new"
    data = {
        **FORM,
        **(extra or {}),
        "action": action,
        "csrf_token": client.csrf_token(url),
        "photos": [(io.BytesIO(b), f"p{i}.jpg") for i, b in enumerate(files)],
    }
    return client.post(url, data=data, content_type="multipart/form-data")


def test_upload_strips_location_and_resizes(app, login_as, db, tmp_path):
    app.config["MEDIA_ROOT"] = str(tmp_path)
    client = app.test_client()
    login_as("resident", client)
    raw = _jpeg_with_gps()
    assert b"PhoneMaker" in raw
    r = _post(client, [raw, raw])
    assert r.status_code == 302, r.get_data(as_text=True)[:500]
    p = db.session.scalar(sa.select(Proposal).order_by(Proposal.id.desc()))
    rows = db.session.scalars(
        sa.select(ProposalPhoto).where(ProposalPhoto.proposal_id == p.id)
    ).all()
    assert len(rows) == 2 and max(rows[0].width, rows[0].height) <= 1600
    page = client.get(f"/proposals/{p.id}/edit").get_data(as_text=True)
    src = re.search(r'<img src="([^"]+)"', page).group(1)
    served = client.get(src.replace("/thumb", ""))
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert b"PhoneMaker" not in served.data and b"GPS" not in served.data
    assert not Image.open(io.BytesIO(served.data)).getexif()
    served.close()
    # Only the author sees a draft's photos.
    assert app.test_client().get(src).status_code == 404


def test_at_most_four_photos_and_bad_files(app, login_as, tmp_path):
    app.config["MEDIA_ROOT"] = str(tmp_path)
    client = app.test_client()
    login_as("resident", client)
    small = _jpeg_with_gps((40, 30))
    r = _post(client, [small] * 5)
    assert r.status_code == 400 and 'id="photos-error"' in r.get_data(as_text=True)
    r = _post(client, [b"%PDF-1.4 not a photo"])
    html = r.get_data(as_text=True)
    assert r.status_code == 400 and 'id="photos-error"' in html
    assert 'value="社区卫生站太远了"' in html  # the text is kept


def test_photos_of_rejected_proposals_are_not_public(app, login_as, db, tmp_path, make_proposal):
    app.config["MEDIA_ROOT"] = str(tmp_path)
    p = make_proposal("submitted")
    from portal.proposals import services
    from tests.conftest import user_by_email

    with app.test_request_context("/"):
        services.add_photos(user_by_email("resident1@example.org"), p, [_jpeg_with_gps((50, 50))])
        services.review(
            user_by_email("committee@example.org"), p, "reject", reason_code="personal-data"
        )
    db.session.commit()
    photo = db.session.scalar(sa.select(ProposalPhoto).where(ProposalPhoto.proposal_id == p.id))
    url = f"/proposals/{p.id}/photos/{photo.id}"
    assert app.test_client().get(url).status_code == 404
    author = app.test_client()
    login_as("resident", author)
    with author.get(url) as served:
        assert served.status_code == 200


def test_uploads_above_the_limit_are_413(app, login_as):
    client = app.test_client()
    login_as("resident", client)
    huge = b"-" * (4 * 5 * 1024 * 1024 + 2 * 1024 * 1024)
    r = client.post(
        "/communities/110101001001/proposals/new",
        data=huge,
        content_type="multipart/form-data; boundary=xyz",
    )
    assert r.status_code == 413
    # Elsewhere the small default limit holds.
    r = client.post(
        "/account", data=b"-" * (2 * 1024 * 1024), content_type="multipart/form-data; boundary=xyz"
    )
    assert r.status_code == 413


def test_a_decompression_bomb_is_refused_at_the_field_keeping_the_text(app, login_as, db):
    """A 6300 × 6300 PNG of zeros (115 KB) is refused from its header, and several large
    photos are refused together: the usual field error, and what was typed stays."""
    from portal.core.i18n import force_locale
    from portal.media.images import ImageError
    from tests.media.test_images import png_declaring

    client = app.test_client()
    login_as("resident", client)
    before = db.session.scalar(sa.select(sa.func.count(Proposal.id)))
    for files, code in (
        ([png_declaring(6300, 6300, rgb=True)], "too_many_pixels"),
        ([png_declaring(4000, 3000)] * 4, "too_many_pixels_together"),
    ):
        r = _post(client, files)
        html = r.get_data(as_text=True)
        assert r.status_code == 400 and 'id="photos-error"' in html
        with force_locale("zh_Hans"):
            assert str(ImageError(code).message) in html
        assert 'value="社区卫生站太远了"' in html and "老人看病要走两公里" in html
    assert db.session.scalar(sa.select(sa.func.count(Proposal.id))) == before


def test_a_page_asks_for_photos_only_when_the_proposal_has_some(
    app, login_as, db, tmp_path, make_proposal
):
    """The page's statement says whether the proposal has photos: one with photos shows
    them, one without reads no photo rows."""
    app.config["MEDIA_ROOT"] = str(tmp_path)
    client = app.test_client()
    login_as("resident", client)
    assert _post(client, [_jpeg_with_gps((800, 600))]).status_code == 302
    with_photo = db.session.scalar(sa.select(Proposal).order_by(Proposal.id.desc()))
    without = make_proposal("open")

    def statements(url: str) -> tuple[list[str], str]:
        seen: list[str] = []

        def before(_conn, _cursor, statement, *_args, **_kwargs):
            seen.append(" ".join(statement.split()))

        sa.event.listen(db.engine, "before_cursor_execute", before)
        try:
            r = client.get(url)
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", before)
        assert r.status_code == 200
        return seen, r.get_data(as_text=True)

    seen, page = statements(f"/proposals/{with_photo.id}")
    assert 'id="photos-h"' in page and f"/proposals/{with_photo.id}/photos/" in page
    assert any(s.startswith("SELECT proposal_photos.") for s in seen)
    seen, page = statements(f"/proposals/{without.id}")
    assert 'id="photos-h"' not in page
    assert not any(s.startswith("SELECT proposal_photos.") for s in seen), seen
