"""Gunicorn for Commons behind nginx (deploy/nginx/commons.conf).

    gunicorn --config deploy/gunicorn.conf.py wsgi:app

Every setting below can be changed from the environment (systemd's EnvironmentFile, see
deploy/commons.env.example); command-line flags override both.

Workers and threads: the defaults fit a 2-core server: one process per core, each with 4
threads (gthread) so that a request waiting on PostgreSQL does not hold a core. More cores:
GUNICORN_WORKERS = cores; raise GUNICORN_THREADS only with the database pool (each thread
holds at most one connection).

preload_app stays off: with it, `systemctl reload` (HUP) would restart the workers on the code
loaded at start instead of the new one, and anything the app opens while it is built (database
and Redis pools) would be shared by every forked worker. What it would save, one copy of the
imported code per worker, is a few tens of MB for 2 to 4 workers.
"""

from __future__ import annotations

import os

from gunicorn.glogging import Logger


def _int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


# A unix socket that only nginx's group may open (umask below), or host:port.
bind = [os.environ.get("GUNICORN_BIND", "unix:/run/commons/gunicorn.sock")]
umask = 0o007
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", 2)
threads = _int("GUNICORN_THREADS", 4)
# A worker silent this long is killed and replaced; nginx waits 35 s (proxy_read_timeout).
timeout = _int("GUNICORN_TIMEOUT", 30)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
# Longer than nginx keeps an idle upstream connection (keepalive_timeout 60s), so nginx never
# sends a request on a connection gunicorn is closing.
keepalive = 75
# Workers are replaced after about this many requests (jitter: not all at once), which bounds
# what a slow leak can grow to.
max_requests = _int("GUNICORN_MAX_REQUESTS", 2000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 200)
preload_app = False
# The worker heartbeat in memory, not on a disk that may stall (gunicorn makes its files there
# with mkstemp, unlinked at once).
SHM = "/dev/shm"  # noqa: S108
worker_tmp_dir = SHM if os.path.isdir(SHM) else None

# Only the local nginx may say which scheme the request came with; the app reads the client's
# address from X-Forwarded-For itself (ProxyFix, one proxy). A unix socket's peer is always
# trusted by gunicorn: only nginx's group can open it.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}

# To stdout/stderr: the journal under systemd. The client's address as nginx saw it, method and
# path (no query string, no Referer: they can hold what someone searched for or another
# page's address; the token of an invitation or a reset link replaced by [token]), status,
# size, time in ms, user agent.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = os.environ.get("GUNICORN_ERROR_LOG", "-")
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
access_log_format = '%({x-forwarded-for}i)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms "%(a)s"'
proc_name = "commons"


class RedactingLogger(Logger):
    """gunicorn's logger, with the secret part of a path (``portal.core.urls.loggable_path``)
    left out of the path and the request line."""

    def atoms(self, resp, req, environ, request_time):
        from portal.core.urls import loggable_path

        atoms = super().atoms(resp, req, environ, request_time)
        atoms["U"] = loggable_path(atoms["U"] or "")
        atoms["r"] = f"{atoms['m']} {atoms['U']} {atoms['H']}"
        atoms.pop("{raw_uri}e", None)
        atoms.pop("{path_info}e", None)
        atoms.pop("{query_string}e", None)
        return atoms


logger_class = RedactingLogger
