"""The per-person rate-limit key."""

from portal.core.limits import user_key


def test_an_anonymous_request_without_an_address_still_has_a_text_key(app):
    # A WSGI server on a Unix socket may pass no REMOTE_ADDR: the key is then the limiter's
    # own stand-in address (as for every other limit), never None.
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": None}):
        key = user_key()
    assert isinstance(key, str) and key


def test_an_anonymous_request_is_keyed_by_its_address(app):
    with app.test_request_context("/", environ_base={"REMOTE_ADDR": "203.0.113.7"}):
        assert user_key() == "203.0.113.7"
