"""The deployed stack for the benchmark: nginx with the site of deploy/nginx/commons.conf
(TLS, the micro-cache, the proxy headers) in front of the app's gunicorn, and the floor's
gunicorn behind the same nginx on a port of its own, proxied the same way but never cached."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

FLOOR_SITE = """
upstream bench_floor {{
    server 127.0.0.1:{floor};
    keepalive 16;
    keepalive_timeout 60s;
}}
server {{
    listen 127.0.0.1:{port} ssl http2;
    server_name 127.0.0.1;
    ssl_certificate     {cert};
    ssl_certificate_key {key};
    ssl_protocols       TLSv1.2 TLSv1.3;
    ssl_session_cache   shared:bench_floor_tls:10m;
    access_log off;
    location / {{
        proxy_http_version 1.1;
        proxy_set_header Connection "";
        proxy_set_header Host $http_host;
        proxy_pass http://bench_floor;
    }}
}}
"""

NGINX_CONF = """
{user}
worker_processes 2;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    default_type application/octet-stream;
    client_body_temp_path {dir}/tmp/body;
    proxy_temp_path {dir}/tmp/proxy;
    fastcgi_temp_path {dir}/tmp/fastcgi;
    uwsgi_temp_path {dir}/tmp/uwsgi;
    scgi_temp_path {dir}/tmp/scgi;
    include {dir}/commons.conf;
    include {dir}/floor.conf;
}}
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def behind_nginx(app_port: int, floor_port: int):
    """Yield the base URLs (site, floor) of nginx in front of the two gunicorns."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not os.path.exists(nginx):
        raise RuntimeError("nginx is not installed: apt-get install nginx")
    d = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    for sub in ("cache", "tmp", "media", "logs"):
        (d / sub).mkdir()
    cert, key = d / "cert.pem", d / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
         "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )  # fmt: skip
    site_port, http_port, floor_site = _free_port(), _free_port(), _free_port()
    env = dict(
        os.environ,
        SERVER_NAME="127.0.0.1",
        PUBLIC_URL=f"https://127.0.0.1:{site_port}",
        HTTPS_PORT=str(site_port),
        HTTP_PORT=str(http_port),
        TLS_CERT=str(cert),
        TLS_KEY=str(key),
        STATIC_ROOT=str(ROOT / "portal" / "static"),
        MEDIA_ROOT=str(d / "media"),
        UPSTREAM=f"127.0.0.1:{app_port}",
        CACHE_DIR=str(d / "cache"),
        ACCESS_LOG=str(d / "logs" / "access.log"),
    )
    site = subprocess.run(
        ["bash", str(ROOT / "deploy" / "render.sh")],
        env=env, check=True, capture_output=True, text=True,
    ).stdout  # fmt: skip
    (d / "commons.conf").write_text(site)
    (d / "floor.conf").write_text(
        FLOOR_SITE.format(floor=floor_port, port=floor_site, cert=cert, key=key)
    )
    user = "user root root;" if os.getuid() == 0 else ""
    (d / "nginx.conf").write_text(NGINX_CONF.format(user=user, dir=d))
    cmd = [nginx, "-p", str(d), "-c", str(d / "nginx.conf"), "-e", str(d / "error.log")]
    subprocess.run([*cmd, "-t", "-q"], check=True)
    subprocess.run(cmd, check=True)
    try:
        for _ in range(50):
            with (
                contextlib.suppress(OSError),
                socket.create_connection(("127.0.0.1", site_port), 1),
            ):
                break
            time.sleep(0.1)
        yield f"https://127.0.0.1:{site_port}", f"https://127.0.0.1:{floor_site}"
    finally:
        subprocess.run([*cmd, "-s", "quit"], check=False, capture_output=True)
        pid = d / "nginx.pid"
        for _ in range(50):
            if not pid.exists():
                break
            time.sleep(0.1)
        shutil.rmtree(d, ignore_errors=True)
