"""Configuration: defaults, overridden by the environment.

COMMONS_ENV selects development (default), testing or production. Production needs
DATABASE_URL, SECRET_KEY and PUBLIC_URL (the address people reach the site at: every link sent
out of the site is built from it, never from the request's Host).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent


def _bool(value: str | None, default: bool) -> bool:
    if value is None or value == "":
        return default
    return value.strip().lower() not in {"0", "false", "no", "off"}


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


class ConfigError(RuntimeError):
    """Raised when the environment does not describe a runnable configuration."""


DEFAULT_PUBLIC_URL = {"development": "http://127.0.0.1:5000", "testing": "http://localhost"}


def _public_url(value: str | None) -> str:
    """The site's public base URL, without a trailing slash: scheme, host, optional path."""
    parts = urlsplit((value or "").strip())
    if parts.scheme not in {"http", "https"} or not parts.hostname or parts.query or parts.fragment:
        raise ConfigError(
            f"PUBLIC_URL must be an http(s) URL such as https://commons.example, not {value!r}"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def _hosts(value: str | None) -> list[str] | None:
    if value is None or not value.strip():
        return None
    return [h.strip().lower() for h in value.split(",") if h.strip()]


SIGN_IN_CHOICES = ("phone", "email")


def _methods(value: str | None, mode: str) -> tuple[str, ...]:
    """The ways of signing in, phone first: production defaults to phone, development and
    testing to both."""
    if not value or not value.strip():
        return ("phone",) if mode == "production" else SIGN_IN_CHOICES
    chosen = {m.strip().lower() for m in value.split(",") if m.strip()}
    if not chosen or chosen - set(SIGN_IN_CHOICES):
        raise ConfigError(f"SIGN_IN_METHODS must name phone, email or both, not {value!r}")
    return tuple(m for m in SIGN_IN_CHOICES if m in chosen)


SMS_SETTINGS = {
    "console": (),
    "aliyun": (
        "SMS_SIGN_NAME",
        "SMS_TEMPLATE_CODE",
        "SMS_ALIYUN_ACCESS_KEY_ID",
        "SMS_ALIYUN_ACCESS_KEY_SECRET",
    ),
    "tencent": (
        "SMS_SIGN_NAME",
        "SMS_TEMPLATE_CODE",
        "SMS_TENCENT_SECRET_ID",
        "SMS_TENCENT_SECRET_KEY",
        "SMS_TENCENT_SDK_APP_ID",
    ),
}


def _check_sms(cfg: dict) -> None:
    """A provider is chosen with every setting it needs, or the app does not start."""
    name = cfg["SMS_PROVIDER"]
    if name not in SMS_SETTINGS:
        raise ConfigError(f"SMS_PROVIDER must be console, aliyun or tencent, not {name!r}")
    missing = [key for key in SMS_SETTINGS[name] if not str(cfg.get(key) or "").strip()]
    if missing:
        raise ConfigError(f"SMS_PROVIDER={name} needs {', '.join(missing)}")
    endpoint = cfg.get("SMS_ENDPOINT") or ""
    parts = urlsplit(endpoint)
    if endpoint and (parts.scheme not in {"http", "https"} or not parts.hostname):
        raise ConfigError(f"SMS_ENDPOINT must be an http(s) URL, not {endpoint!r}")


def load_config(overrides: dict | None = None) -> dict:
    env = os.environ
    mode = (overrides or {}).get("COMMONS_ENV") or env.get("COMMONS_ENV", "development")
    if mode not in {"development", "testing", "production"}:
        raise ConfigError(f"COMMONS_ENV must be development, testing or production, not {mode!r}")
    instance = Path(env.get("COMMONS_INSTANCE_PATH", ROOT / "instance"))
    default_db = f"sqlite:///{instance / 'commons.sqlite3'}"
    secure = mode == "production"
    cfg: dict = {
        "COMMONS_ENV": mode,
        "SECRET_KEY": env.get("SECRET_KEY"),
        "SQLALCHEMY_DATABASE_URI": env.get("DATABASE_URL", default_db),
        # A ping before each checkout costs a round trip on every request; without it, the first
        # request on a connection that died (a database restart) fails once and the pool then
        # replaces all its connections. DATABASE_PRE_PING=1 trades the round trip for that.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": _bool(env.get("DATABASE_PRE_PING"), False)},
        "REDIS_URL": env.get("REDIS_URL") or None,
        # The app's own cache (Flask-Caching): on Redis, shared by every worker, when REDIS_URL
        # is set; otherwise none (NullCache), never a copy per process. CACHE_TYPE=NullCache
        # turns it off with Redis too (the benchmark's "app alone"). Entries expire on their
        # own (CACHE_DEFAULT_TIMEOUT, seconds) or are dropped by the change they describe.
        "CACHE_TYPE": env.get("CACHE_TYPE") or None,
        "CACHE_DEFAULT_TIMEOUT": _int(env.get("CACHE_DEFAULT_TIMEOUT"), 60),
        "CACHE_KEY_PREFIX": "commons:cache:",
        "CACHE_NO_NULL_WARNING": True,
        "RATELIMIT_ENABLED": _bool(env.get("RATELIMIT_ENABLED"), True),
        "RATELIMIT_HEADERS_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": False,
        "MAX_CONTENT_LENGTH": _int(env.get("MAX_CONTENT_LENGTH"), 1024 * 1024),
        "SESSION_COOKIE_NAME": "commons_session",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_SECURE": secure,
        "PREFERRED_URL_SCHEME": "https" if secure else "http",
        "PERMANENT_SESSION_LIFETIME": timedelta(days=14),
        "SESSION_IDLE_MINUTES": _int(env.get("SESSION_IDLE_MINUTES"), 120),
        "API_TOKEN_DAYS": _int(env.get("API_TOKEN_DAYS"), 30),
        "HSTS": secure,
        "WTF_CSRF_TIME_LIMIT": None,
        "WTF_CSRF_SSL_STRICT": False,  # behind a TLS-terminating proxy the Referer check misfires
        "BABEL_DEFAULT_LOCALE": "zh_Hans",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Shanghai",
        "LANGUAGES": ["zh_Hans", "en"],
        "DEFAULT_TIMEZONE": env.get("DEFAULT_TIMEZONE", "Asia/Shanghai"),
        "MAIL_SERVER": env.get("MAIL_SERVER") or None,
        "MAIL_PORT": _int(env.get("MAIL_PORT"), 587),
        "MAIL_USE_TLS": _bool(env.get("MAIL_USE_TLS"), True),
        "MAIL_USE_SSL": _bool(env.get("MAIL_USE_SSL"), False),
        "MAIL_USERNAME": env.get("MAIL_USERNAME") or None,
        "MAIL_PASSWORD": env.get("MAIL_PASSWORD") or None,
        "MAIL_FROM": env.get("MAIL_FROM", "Commons <no-reply@commons.invalid>"),
        "MAIL_ECHO": mode == "development",
        "SERVER_NAME": env.get("SERVER_NAME") or None,
        # Every link sent out (mails, QR codes) starts with PUBLIC_URL. Requests whose Host is
        # not in TRUSTED_HOSTS (Flask's setting; production default: PUBLIC_URL's host) get 400.
        "PUBLIC_URL": env.get("PUBLIC_URL") or DEFAULT_PUBLIC_URL.get(mode),
        "TRUSTED_HOSTS": _hosts(env.get("TRUSTED_HOSTS")),
        # Failed sign-ins per address, web form and API token together.
        "LOGIN_LIMIT": env.get("LOGIN_LIMIT", "10 per minute;50 per hour"),
        # Failed sign-ins per (account, address); past LOGIN_FAILURES_PER_ACCOUNT in all, an
        # address that has failed against the account waits, one that has not never does.
        "LOGIN_FAILURES_PER_ACCOUNT_IP": env.get(
            "LOGIN_FAILURES_PER_ACCOUNT_IP", "5 per minute;20 per hour"
        ),
        "LOGIN_FAILURES_PER_ACCOUNT": "100 per hour",
        # The owner hears of failed sign-ins after this many, at most as often as this.
        "LOGIN_FAILURE_ALERT_AFTER": _int(env.get("LOGIN_FAILURE_ALERT_AFTER"), 5),
        "LOGIN_FAILURE_ALERTS": "1 per hour",
        # Staff second step (TOTP or recovery code): wrong codes per account before it waits;
        # how long a sign-in that passed its first step waits for the code; how long a
        # re-authentication (before changing number, password or role grants) lasts.
        "SECOND_FACTOR_FAILURES": env.get("SECOND_FACTOR_FAILURES", "5 per 15 minutes"),
        "SECOND_STEP_MINUTES": 5,
        "REAUTH_MINUTES": _int(env.get("REAUTH_MINUTES"), 5),
        "REGISTER_LIMIT": env.get("REGISTER_LIMIT", "5 per minute;30 per hour"),
        # Registration mails (a link, or "you have an account") one address may receive.
        "REGISTER_MAILS_PER_ADDRESS": "3 per hour",
        "RESET_LIMIT": env.get("RESET_LIMIT", "5 per minute;20 per hour"),
        # Per person, and (more loosely: many households share one address) per IP.
        "SUPPORT_LIMIT": env.get("SUPPORT_LIMIT", "30 per minute;300 per hour"),
        "SUPPORT_IP_LIMIT": env.get("SUPPORT_IP_LIMIT", "300 per minute"),
        # Ballots (cast or changed), on the page and the API together: as supports.
        "BALLOT_LIMIT": env.get("BALLOT_LIMIT", "30 per minute;300 per hour"),
        "BALLOT_IP_LIMIT": env.get("BALLOT_IP_LIMIT", "300 per minute"),
        "PROPOSAL_CREATE_LIMIT": env.get("PROPOSAL_CREATE_LIMIT", "10 per hour"),
        "AUTO_HIDE_REPORTS": _int(env.get("AUTO_HIDE_REPORTS"), 3),
        "PROPOSAL_CREATE_IP_LIMIT": env.get("PROPOSAL_CREATE_IP_LIMIT", "60 per hour"),
        # Open311 POST requests, per API key (a hotline files for many residents).
        "OPEN311_POST_LIMIT": env.get("OPEN311_POST_LIMIT", "30 per minute;1000 per day"),
        # Discovery's contact (an address or URL); the site's home page when empty.
        "OPEN311_CONTACT": env.get("OPEN311_CONTACT", ""),
        # Comments, reports and residency requests (invitation codes included): per person,
        # and more loosely per address.
        "COMMENT_LIMIT": env.get("COMMENT_LIMIT", "5 per minute;60 per hour"),
        "COMMENT_IP_LIMIT": env.get("COMMENT_IP_LIMIT", "60 per minute;600 per hour"),
        "REPORT_LIMIT": env.get("REPORT_LIMIT", "10 per minute;60 per hour"),
        "REPORT_IP_LIMIT": env.get("REPORT_IP_LIMIT", "60 per minute;300 per hour"),
        "RESIDENCY_REQUEST_LIMIT": env.get("RESIDENCY_REQUEST_LIMIT", "5 per minute;20 per day"),
        "RESIDENCY_REQUEST_IP_LIMIT": env.get("RESIDENCY_REQUEST_IP_LIMIT", "60 per hour"),
        # How people sign in: "phone" (a mobile number and an SMS code), "email" (address and
        # password) or both ("phone,email"). With phone alone, an account must have verified a
        # number before it takes part (proposes, comments, supports).
        "SIGN_IN_METHODS": _methods(env.get("SIGN_IN_METHODS"), mode),
        # Where SMS codes go: "console" (printed and kept in the outbox: development, demo,
        # tests), "aliyun" or "tencent" (their official SDKs, the "sms" extra). A real
        # provider sends a registered template with the code as its one parameter, under the
        # registered signature; SMS_ENDPOINT (an http(s) URL) overrides the service's host.
        # The version of the privacy notice a new account accepts.
        "SMS_PROVIDER": env.get("SMS_PROVIDER", "console"),
        "SMS_ECHO": mode == "development",
        "SMS_SIGN_NAME": env.get("SMS_SIGN_NAME", ""),
        "SMS_TEMPLATE_CODE": env.get("SMS_TEMPLATE_CODE", ""),
        "SMS_ENDPOINT": env.get("SMS_ENDPOINT", ""),
        "SMS_TIMEOUT": _int(env.get("SMS_TIMEOUT"), 5),
        "SMS_ALIYUN_ACCESS_KEY_ID": env.get("SMS_ALIYUN_ACCESS_KEY_ID", ""),
        "SMS_ALIYUN_ACCESS_KEY_SECRET": env.get("SMS_ALIYUN_ACCESS_KEY_SECRET", ""),
        "SMS_TENCENT_SECRET_ID": env.get("SMS_TENCENT_SECRET_ID", ""),
        "SMS_TENCENT_SECRET_KEY": env.get("SMS_TENCENT_SECRET_KEY", ""),
        "SMS_TENCENT_SDK_APP_ID": env.get("SMS_TENCENT_SDK_APP_ID", ""),
        "SMS_TENCENT_REGION": env.get("SMS_TENCENT_REGION", "ap-guangzhou"),
        # WeChat mini-program sign-in (POST /api/v1/auth/wechat): off unless both are set.
        # WECHAT_API_BASE overrides https://api.weixin.qq.com (a test's fake server).
        "WECHAT_APP_ID": env.get("WECHAT_APP_ID", ""),
        "WECHAT_APP_SECRET": env.get("WECHAT_APP_SECRET", ""),
        "WECHAT_API_BASE": env.get("WECHAT_API_BASE", "https://api.weixin.qq.com"),
        "WECHAT_TIMEOUT": _int(env.get("WECHAT_TIMEOUT"), 5),
        "PRIVACY_NOTICE_VERSION": "2026-12",
        # Data rights. The key of the number's HMAC kept when an account is deleted (so the same
        # number, registered again, cannot support or vote twice on one item): empty means
        # SECRET_KEY; set it to keep the key when SECRET_KEY is rotated. How long staff views of
        # a resident's details stay listed to them (at least 183 days), and after how many
        # days closed residency requests, reports and feedback lose their personal data
        # (``flask privacy anonymise``).
        "PRIVACY_HMAC_KEY": env.get("PRIVACY_HMAC_KEY", ""),
        "ACCESS_LOG_DAYS": max(183, _int(env.get("ACCESS_LOG_DAYS"), 365)),
        "ANONYMISE_AFTER_DAYS": _int(env.get("ANONYMISE_AFTER_DAYS"), 365),
        # Domain caps on SMS codes, kept in the database (in force with RATELIMIT_ENABLED=0):
        # per (number, address) an hour and a day, per number a day; seconds between codes.
        "SMS_PER_NUMBER_IP_HOUR": _int(env.get("SMS_PER_NUMBER_IP_HOUR"), 5),
        "SMS_PER_NUMBER_IP_DAY": _int(env.get("SMS_PER_NUMBER_IP_DAY"), 10),
        "SMS_PER_NUMBER_DAY": _int(env.get("SMS_PER_NUMBER_DAY"), 20),
        "SMS_RESEND_SECONDS": 60,
        # Flask-Limiter, in front of the database's rules: per address.
        "SMS_SEND_LIMIT": env.get("SMS_SEND_LIMIT", "10 per minute;60 per hour"),
        "SMS_VERIFY_LIMIT": env.get("SMS_VERIFY_LIMIT", "20 per minute;200 per hour"),
        # The licence the open data (exports and feeds) is published under: an SPDX id and the
        # address of its text, shown on /open-data, in the JSON files and the feeds' rights.
        "OPEN_DATA_LICENSE": env.get("OPEN_DATA_LICENSE", "CC-BY-4.0"),
        "OPEN_DATA_LICENSE_URL": env.get(
            "OPEN_DATA_LICENSE_URL", "https://creativecommons.org/licenses/by/4.0/"
        ),
        "INSTANCE_PATH": str(instance),
        "MEDIA_ROOT": env.get("MEDIA_ROOT", str(instance / "media")),
        "MEDIA_MAX_PHOTOS": 4,
        # The prefix of an internal nginx location serving MEDIA_ROOT (e.g. "/_media/"): photos
        # are then sent by nginx after the app checked who may see them. Empty: the app sends.
        "MEDIA_ACCEL_REDIRECT": env.get("MEDIA_ACCEL_REDIRECT", ""),
    }
    if mode == "testing":
        cfg["WTF_CSRF_ENABLED"] = True
    cfg.update(overrides or {})
    if isinstance(cfg["SIGN_IN_METHODS"], str):
        cfg["SIGN_IN_METHODS"] = _methods(cfg["SIGN_IN_METHODS"], mode)
    _check_sms(cfg)
    if bool(cfg["WECHAT_APP_ID"]) != bool(cfg["WECHAT_APP_SECRET"]):
        raise ConfigError("WECHAT_APP_ID and WECHAT_APP_SECRET are set together, or neither")
    base = urlsplit(cfg["WECHAT_API_BASE"] or "")
    if base.scheme not in {"http", "https"} or not base.hostname:
        raise ConfigError(f"WECHAT_API_BASE must be an http(s) URL, not {cfg['WECHAT_API_BASE']!r}")
    if cfg.get("CACHE_TYPE") is None:
        cfg["CACHE_TYPE"] = "RedisCache" if cfg["REDIS_URL"] else "NullCache"
    if cfg["CACHE_TYPE"] == "RedisCache":
        cfg.setdefault("CACHE_REDIS_URL", cfg["REDIS_URL"])
    if cfg.get("RATELIMIT_STORAGE_URI") is None:
        cfg["RATELIMIT_STORAGE_URI"] = cfg["REDIS_URL"] or "memory://"
    if not cfg.get("SECRET_KEY"):
        if mode == "production":
            raise ConfigError("SECRET_KEY must be set when COMMONS_ENV=production")
        # Development and testing get a key that is stable for the process only.
        cfg["SECRET_KEY"] = "dev-only-" + os.urandom(16).hex()
    if not cfg.get("PUBLIC_URL"):
        raise ConfigError("PUBLIC_URL must be set when COMMONS_ENV=production")
    cfg["PUBLIC_URL"] = _public_url(cfg["PUBLIC_URL"])
    if isinstance(cfg.get("TRUSTED_HOSTS"), str):
        cfg["TRUSTED_HOSTS"] = _hosts(cfg["TRUSTED_HOSTS"])
    public_host = urlsplit(cfg["PUBLIC_URL"]).hostname
    if cfg.get("TRUSTED_HOSTS") is None and mode == "production":
        cfg["TRUSTED_HOSTS"] = [public_host]
    elif cfg.get("TRUSTED_HOSTS") is not None and public_host not in cfg["TRUSTED_HOSTS"]:
        cfg["TRUSTED_HOSTS"] = [*cfg["TRUSTED_HOSTS"], public_host]  # the site's own address
    return cfg
