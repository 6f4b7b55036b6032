"""Access logs never keep a secret from a URL: the token of an invitation or a password reset
link, or a query string (what someone searched for). One list of such paths
(``SECRET_PATH_PREFIXES``) serves gunicorn's logger and is checked against the URL map and the
nginx map."""

from __future__ import annotations

import re
import runpy
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

from portal.core.urls import SECRET_PATH_PREFIXES, loggable_path

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "s3cr3t-T0ken_abcdef"


def test_every_route_with_a_token_in_its_path_is_listed(app):
    def secret(argument: str) -> bool:  # a token, not the id of one (token_id)
        return argument == "token" or argument.endswith("_token")

    with_token = [
        rule.rule for rule in app.url_map.iter_rules() if any(map(secret, rule.arguments))
    ]
    assert with_token, "the invitation and reset routes exist"
    for path in with_token:
        assert path.startswith(SECRET_PATH_PREFIXES), f"{path}: add it to SECRET_PATH_PREFIXES"


def test_loggable_path():
    assert loggable_path(f"/reset/{TOKEN}") == "/reset/[token]"
    assert loggable_path(f"/register/{TOKEN}") == "/register/[token]"
    assert loggable_path("/register/") == "/register/"
    assert loggable_path("/proposals/12") == "/proposals/12"


def test_gunicorn_logs_the_path_without_the_token():
    from gunicorn.config import Config

    conf = runpy.run_path(str(ROOT / "deploy" / "gunicorn.conf.py"))
    cfg = Config()
    cfg.set("access_log_format", conf["access_log_format"])
    logger = conf["logger_class"](cfg)
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/reset/{TOKEN}?next=/x",
        "PATH_INFO": f"/reset/{TOKEN}",
        "QUERY_STRING": "next=/x",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "HTTP_USER_AGENT": "test",
    }
    req = SimpleNamespace(headers=[("X-FORWARDED-FOR", "203.0.113.9")])
    resp = SimpleNamespace(status="200 OK", sent=10, headers=[])
    atoms = logger.atoms(resp, req, environ, timedelta(milliseconds=12))
    line = conf["access_log_format"] % atoms
    assert "/reset/[token]" in line and "203.0.113.9" in line
    assert all(TOKEN not in str(v) for v in atoms.values()), "no atom keeps the token"


def test_nginx_logs_the_path_without_the_token_or_the_query():
    conf = (ROOT / "deploy" / "nginx" / "commons.conf").read_text(encoding="utf-8")
    block = re.search(r"map \$uri \$commons_log_path \{(.*?)\}", conf, re.S)
    assert block, "the nginx log path map"
    rules = []
    for line in block.group(1).strip().splitlines():
        key, value = line.split()[0], line.split()[1].rstrip(";")
        if key.startswith("~"):
            pattern = key[1:].replace("(?<", "(?P<")
            rules.append((re.compile(pattern), value))

    def logged(uri: str) -> str:
        for pattern, value in rules:
            m = pattern.search(uri)
            if m:
                return re.sub(r"\$(\w+)", lambda v, m=m: m.group(v.group(1)), value)
        return uri

    for prefix in SECRET_PATH_PREFIXES:
        assert logged(prefix + TOKEN) == prefix + "[token]"
    assert logged("/proposals/12") == "/proposals/12"
    fmt = re.search(r"log_format commons (.*?);", conf, re.S).group(1)
    assert "$commons_log_path" in fmt
    assert not re.search(r"\$request\b|\$request_uri|\$args|\$query_string|\$http_referer", fmt)
    # Both servers log with this format (the plain-HTTP one redirects, path included).
    assert conf.count("access_log @ACCESS_LOG@ commons;") == 2
