"""The files an operator installs (deploy/): nginx accepts the site, they agree with each other and the settings."""

import os
import re
import runpy
import socket
import subprocess
import sys
import time
from pathlib import Path
from urllib.error import HTTPError
from urllib.request import urlopen

import pytest
from django.conf import settings
from django.core.management import get_commands
from django.test import override_settings

from cases import signed_media
from tests.test_concurrency import _free_port

ROOT = Path(settings.BASE_DIR)
DEPLOY = ROOT / "deploy"
SITE = DEPLOY / "nginx" / "teachingfile.conf"
NGINX = "/usr/sbin/nginx"  # the Makefile's test-setup installs Debian's nginx
# Settings modules production does not load.
NOT_PRODUCTION = {"dev", "test", "processes"}
# An environment variable's name as the settings read it: os.environ.get("X"), os.environ["X"], env_bool("X"), …
READ_VARIABLE = re.compile(r"""(?:environ\.get\(|environ\[|env_bool\(|env_list\(|getenv\()\s*["']([A-Z][A-Z0-9_]+)""")


def template_variables() -> set[str]:
    """The variables deploy/teachingfile.env.example lists, set or commented out with their default."""
    text = (DEPLOY / "teachingfile.env.example").read_text(encoding="utf-8")
    return set(re.findall(r"^#?([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))


def variables_read() -> set[str]:
    """The variables the settings production loads and gunicorn's config read (dj-database-url reads DATABASE_URL)."""
    settings_modules = sorted((ROOT / "teachingfile" / "settings").glob("*.py"))
    sources = [path for path in settings_modules if path.stem not in NOT_PRODUCTION] + [DEPLOY / "gunicorn.conf.py"]
    found = {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}
    for source in sources:
        text = source.read_text(encoding="utf-8")
        found |= set(READ_VARIABLE.findall(text))
        found |= set(re.findall(r'"([A-Z][A-Z0-9_]+)"', text.split("for required in", 1)[-1].split(":", 1)[0]))
    return found


def test_the_environment_template_lists_every_variable_the_settings_read():
    assert "TEACHINGFILE_MEDIA_ROOT" in variables_read() and len(variables_read()) > 40
    assert variables_read() - template_variables() == set(), "add these to deploy/teachingfile.env.example"
    assert template_variables() - variables_read() <= {"TESSDATA_PREFIX"}, "read nowhere: strike them"


def gunicorn_config() -> dict:
    return runpy.run_path(str(DEPLOY / "gunicorn.conf.py"))


def test_gunicorn_runs_the_site_on_every_core_with_time_for_uploads():
    config = gunicorn_config()
    assert config["wsgi_app"] == settings.WSGI_APPLICATION.replace(".application", ":application")
    assert config["workers"] >= 2 and config["timeout"] >= 300
    nginx_read = re.search(r"proxy_read_timeout (\d+)s;", SITE.read_text()).group(1)
    assert int(nginx_read) == config["timeout"], "nginx waits as long as gunicorn lets a request run"


def test_the_access_logs_leave_out_query_strings_and_referrers():
    """A search or a filter may carry what a person typed (a name, a record number)."""
    gunicorn_format = gunicorn_config()["access_log_format"]
    assert "%(U)s" in gunicorn_format
    assert not re.search(r"%\((r|q|f|a|h)\)s", gunicorn_format), "request line, query, referrer, agent, address"
    nginx_format = re.search(r"log_format teachingfile (.*?);", SITE.read_text(), flags=re.DOTALL).group(1)
    assert "$teachingfile_path" in nginx_format
    assert not re.search(r"\$(request|request_uri|args|query_string|http_referer)\b", nginx_format)


def test_the_site_sends_images_only_after_django_and_takes_the_largest_upload():
    site = SITE.read_text()
    template = (DEPLOY / "teachingfile.env.example").read_text()
    prefix = re.search(r"^#?TEACHINGFILE_MEDIA_ACCEL_REDIRECT=(\S+)$", template, flags=re.MULTILINE).group(1)
    media_root = re.search(r"^TEACHINGFILE_MEDIA_ROOT=(\S+)$", template, flags=re.MULTILINE).group(1)
    internal = re.search(rf"location {re.escape(prefix)} {{(.*?)}}", site, flags=re.DOTALL).group(1)
    assert "internal;" in internal and f"alias {media_root}/;" in internal
    assert "location /media/" not in site, "every image passes Django's permission check"
    size = re.search(r"client_max_body_size (\d+)g;", site).group(1)
    assert int(size) * 1024**3 >= settings.TEACHINGFILE_MAX_ARCHIVE_BYTES


def test_the_units_share_the_environment_and_run_what_exists():
    commands = get_commands()
    units = sorted(DEPLOY.glob("*.service"))
    assert {unit.name for unit in units} >= {"teachingfile-web.service", "teachingfile-worker.service"}
    for unit in units:
        text = unit.read_text()
        assert "EnvironmentFile=/etc/teachingfile/environment" in text, unit.name
        assert "WorkingDirectory=/srv/teachingfile" in text, unit.name
        start = re.search(r"^ExecStart=(.*)$", text, flags=re.MULTILINE).group(1)
        if "manage.py" in start:
            assert start.split("manage.py ")[1].split()[0] in commands, unit.name
        else:
            assert "--config deploy/gunicorn.conf.py" in start and (DEPLOY / "gunicorn.conf.py").exists()


@pytest.fixture
def site_under_test(tmp_path) -> Path:
    """The site inside a minimal nginx.conf, its certificate, logs and paths under ``tmp_path``."""
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        + ["-keyout", tmp_path / "privkey.pem", "-out", tmp_path / "fullchain.pem", "-days", "1"]
        + ["-subj", "/CN=teaching.example.org"],
        check=True,
        capture_output=True,
    )
    site = SITE.read_text().replace("/etc/ssl/teachingfile/", f"{tmp_path}/").replace("/var/log/nginx/", f"{tmp_path}/")
    site = site.replace("/etc/teachingfile/", f"{tmp_path}/")
    (tmp_path / "site.conf").write_text(site)
    temporary = " ".join(f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy"))
    http = f"http {{ include /etc/nginx/mime.types; {temporary} include site.conf; }}"
    main = f"pid {tmp_path}/nginx.pid;\nevents {{}}\n{http}\n"
    (tmp_path / "nginx.conf").write_text(main)
    return tmp_path / "nginx.conf"


def test_nginx_accepts_the_site(site_under_test):
    folder = site_under_test.parent
    result = subprocess.run(
        [NGINX, "-t", "-p", folder, "-e", folder / "error.log", "-c", site_under_test],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "test is successful" in result.stderr


SIGNING_KEY = "deploy-test-signing-key-" + "k" * 16


@pytest.fixture
def signed_location(tmp_path):
    """Start nginx with the site's signed-media location on a free local port, over a media folder holding one
    image and one DICOM object, with the key file or without it; return its address and the image's name."""
    location = re.search(r"^    location /signed-media/images/ \{$.*?^    \}$", SITE.read_text(), re.M | re.S).group(0)
    assert "include /etc/teachingfile/nginx-media-key*.conf;" in location
    location = location.replace("/etc/teachingfile/", f"{tmp_path}/")
    location = location.replace("/srv/teachingfile/media/", f"{tmp_path}/media/")
    name = "images/ab/" + "c" * 32 + ".png"
    (tmp_path / "media" / name).parent.mkdir(parents=True)
    (tmp_path / "media" / name).write_bytes(b"\x89PNG picture")
    (tmp_path / "media" / "dicom").mkdir()
    (tmp_path / "media" / "dicom" / "object.dcm").write_bytes(b"DICM")
    temporary = " ".join(f"{kind}_temp_path {tmp_path}/{kind};" for kind in ("client_body", "proxy"))
    started = []

    def start(*, key: str) -> str:
        if key:
            (tmp_path / "nginx-media-key.conf").write_text(f'set $teachingfile_media_key "{key}";\n')
        port = _free_port()
        server = f"server {{ listen 127.0.0.1:{port}; {location} }}"
        http = f"http {{ include /etc/nginx/mime.types; access_log off; {temporary} {server} }}"
        user = "user root;\n" if os.getuid() == 0 else ""  # its workers read pytest's folder, private to us
        (tmp_path / "nginx.conf").write_text(f"{user}pid {tmp_path}/nginx.pid;\nevents {{}}\n{http}\n")
        command = [NGINX, "-p", tmp_path, "-e", tmp_path / "error.log", "-c", tmp_path / "nginx.conf"]
        started.append(subprocess.Popen([*command, "-g", "daemon off;"]))
        for _ in range(100):  # nginx answers 404 at "/": wait for the port instead
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    try:
        yield start, name
    finally:
        for nginx in started:
            nginx.terminate()
            nginx.wait(timeout=10)


def _status(url: str) -> tuple[int, bytes, str]:
    try:
        with urlopen(url, timeout=5) as response:
            return response.status, response.read(), response.headers["Cache-Control"]
    except HTTPError as error:
        return error.code, b"", ""


@override_settings(TEACHINGFILE_MEDIA_SIGNING_KEY=SIGNING_KEY)
def test_nginx_sends_an_image_on_the_url_django_signed_and_refuses_any_other(signed_location):
    """Django's signature is the one nginx's secure_link computes (nginx itself is the oracle); a changed path,
    signature or expiry, an expired URL and any file outside images/ are refused."""
    start, name = signed_location
    base = start(key=SIGNING_KEY)
    url = signed_media.media_url(name)
    assert url.startswith(f"/signed-media/{name}?e=")
    assert _status(base + url) == (200, b"\x89PNG picture", "private, max-age=120")
    other = "images/ab/" + "d" * 32 + ".png"
    assert _status(base + url.replace(name, other))[0] == 404
    assert _status(base + url[:-2] + ("AA" if url[-2:] != "AA" else "BB"))[0] == 404
    expires = int(url.split("e=")[1].split("&")[0])
    assert _status(base + url.replace(f"e={expires}", f"e={expires + 1}"))[0] == 404
    path, past = f"/signed-media/{name}", int(time.time()) - 1
    assert _status(f"{base}{path}?e={past}&s={signed_media.signature(path=path, expires=past)}")[0] == 410
    dicom = "/signed-media/dicom/object.dcm"
    assert _status(f"{base}{dicom}?e={expires}&s={signed_media.signature(path=dicom, expires=expires)}")[0] == 404
    assert _status(f"{base}/signed-media/{name}")[0] == 404


def test_without_its_key_file_nginx_refuses_every_signed_url(signed_location):
    """A site that signs nothing still loads the location; a URL signed with an empty key is no key at all."""
    start, name = signed_location
    base = start(key="")
    path = f"/signed-media/{name}"
    expires = int(time.time()) + 60
    with override_settings(TEACHINGFILE_MEDIA_SIGNING_KEY=""):
        unkeyed = signed_media.signature(path=path, expires=expires)
    assert _status(f"{base}{path}?e={expires}&s={unkeyed}")[0] == 404


def test_the_server_process_keeps_what_it_loaded_out_of_the_collectors_reach():
    """A full collection in a web server process scans only what requests made, not the 137,000 objects loaded."""
    script = "import gc, teachingfile.wsgi; print(gc.get_freeze_count(), len(gc.get_objects(generation=2)))"
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "teachingfile.settings.test"}
    frozen, left = map(int, subprocess.check_output([sys.executable, "-c", script], cwd=ROOT, env=environment).split())
    assert frozen > 50_000
    assert left < frozen / 100
