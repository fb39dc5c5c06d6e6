"""Benchmark: the project's pages against a plain Django page, both under gunicorn (not a test; prints figures).

Starts, on PostgreSQL with the demo content loaded, the project (production settings, DEBUG off) and the
baseline of bench/plain_django (one view rendering 40 rows of a table, no caching) under the same gunicorn
settings (2 sync workers), nginx serving the media folder as the static file server an image is held against,
and nginx in front of the project with the media locations of deploy/nginx/teachingfile.conf (X-Accel-Redirect
after Django's check, and signed URLs nginx checks itself), as an operator's production serves images: the two
image rows go through it, the pages straight to gunicorn as the baseline's do. Each page is loaded by ``wrk`` at
16 connections, the project and its peer taking turns for ``--rounds`` rounds; it prints per page the medians of
requests per second, the ratio, p50 and p99 latency and the CPU the two gunicorn workers spent per request (not
nginx's). Resident pages carry what a logged-in reader's browser sends: the session and CSRF cookies.

Run: ``.venv/bin/python bench/serve.py`` (about 7 minutes; ``--seconds 2`` about 2); ``make bench-serve``
installs wrk and nginx first. ``BENCH_DATABASE_PREFIX`` and ``BENCH_REDIS`` keep runs of several people apart.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
POSTGRES = os.environ.get("BENCH_POSTGRES", "postgres://postgres@127.0.0.1:5432")
REDIS = os.environ.get("BENCH_REDIS", "redis://127.0.0.1:6379/1")
# Helpers sharing one PostgreSQL name their databases apart (e.g. BENCH_DATABASE_PREFIX=speed_serve).
PREFIX = os.environ.get("BENCH_DATABASE_PREFIX", "serve_bench")
PROJECT_DB, BASELINE_DB = f"{PREFIX}_project", f"{PREFIX}_plain"
GUNICORN = [sys.executable, "-m", "gunicorn", "--workers", "2", "--worker-class", "sync", "--log-level", "warning"]
GUNICORN += ["--no-control-socket"]  # two servers at once: the default socket path would be shared
TICKS = os.sysconf("SC_CLK_TCK")
KEPT_MEDIA = Path(tempfile.gettempdir()) / f"{PREFIX}-media"


@dataclass(frozen=True)
class Page:
    label: str
    path: str
    resident: bool  # sends the resident's session cookie
    peer: str = "plain Django"
    front: bool = False  # through nginx with the deploy site's media locations, as production serves it
    signed: bool = False  # the image's signed URL, as the case page hands it out at the time of the round


@dataclass(frozen=True)
class Round:
    rate: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_ms: float  # CPU of the server's workers per request


def facts() -> None:
    """Print, as JSON, what the pages need: the resident's session, an unknown case, a topic, a quiz attempt."""
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.test import Client
    from django.urls import reverse

    from cases.models import Case, Image, Reveal, Topic
    from quizzes.models import Quiz
    from quizzes.services import attempt_start

    resident = get_user_model().objects.get(username="resident")
    client = Client()
    client.force_login(resident)
    revealed = Reveal.objects.filter(user=resident).values("case")
    case = Case.objects.published().visible_to(resident).exclude(pk__in=revealed).first()
    public = Case.objects.published().filter(access=Case.Access.PUBLIC).first()
    image = Image.objects.shown().filter(series__case=case, series__after_reveal=False, series__label_confirmed=True)
    name = image.order_by("series__order", "order").first().file.name
    attempt = attempt_start(quiz=Quiz.objects.open_to(resident).get(mode=Quiz.Mode.PRACTICE), user=resident)
    client.get(
        "/", HTTP_HOST="127.0.0.1"
    )  # a browser holds the CSRF cookie its first page set, and sends it with every later one
    cookies = (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME)
    data = {
        "cookie": "; ".join(f"{name}={client.cookies[name].value}" for name in cookies),
        "case": case.get_absolute_url(),
        "public_case": public.get_absolute_url(),
        "topic": Topic.objects.filter(cases__in=Case.objects.published()).first().get_absolute_url(),
        "attempt": attempt.get_absolute_url(),
        "image": reverse("cases:media-file", args=[name]),
        "image_name": name,
        "size": {
            "cases": Case.objects.published().count(),
            "images": Image.objects.count(),
            "topics": Topic.objects.count(),
        },
    }
    print(json.dumps(data))  # noqa: T201


def recreate_database(name: str) -> str:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"{POSTGRES}/{name}"


def drop_database(name: str) -> None:
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(command: list[str], env: dict, cwd: Path = ROOT) -> str:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"{' '.join(command)} failed:\n{done.stderr[-3000:]}")
    return done.stdout


SIGNING_KEY = "bench-serve-signing-key-" + "k" * 20
# The deploy site's locations that send media, taken as they are (only their folder changes).
MEDIA_LOCATIONS = re.compile(r"^    location (?:/protected-media/|/signed-media/images/) \{$.*?^    \}$", re.M | re.S)


def environments(media: Path) -> tuple[dict, dict]:
    """Return the project's production environment and the baseline's."""
    base = {**os.environ, "DJANGO_SECRET_KEY": "bench-serve-" + "x" * 40, "PYTHONDONTWRITEBYTECODE": "1"}
    project = {
        **base,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.prod",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",  # plain HTTP on the loopback; TLS is the front server's
        "DATABASE_URL": f"{POSTGRES}/{PROJECT_DB}",
        "REDIS_URL": REDIS,
        "TEACHINGFILE_MEDIA_ROOT": str(media),
        "TEACHINGFILE_ANONYMOUS_BROWSING": "1",
        # What deploy/ sets up: nginx sends an image after Django's check, or on a signed URL by itself.
        "TEACHINGFILE_MEDIA_ACCEL_REDIRECT": "/protected-media/",
        "TEACHINGFILE_MEDIA_SIGNING_KEY": SIGNING_KEY,
    }
    baseline = {**base, "DJANGO_SETTINGS_MODULE": "plain_django.settings", "DATABASE_URL": f"{POSTGRES}/{BASELINE_DB}"}
    return project, baseline


def prepare(project: dict, baseline: dict) -> dict:
    """Make both databases, load the demo, collect static files; return the facts."""
    recreate_database(PROJECT_DB)
    recreate_database(BASELINE_DB)
    manage = [sys.executable, "manage.py"]
    loading = {**project, "DJANGO_SETTINGS_MODULE": "teachingfile.settings.dev"}  # prod leaves the demo out
    for command in (["migrate"], ["demo_files"], ["load_demo", "--accounts"], ["load_demo_quizzes"]):
        run([*manage, *command], loading)
    run([*manage, "collectstatic", "--noinput"], project)
    run([sys.executable, "-m", "django", "migrate"], {**baseline, "PYTHONPATH": str(BENCH)}, cwd=BENCH)
    return known_facts(project)


def known_facts(project: dict) -> dict:
    subprocess.run(["redis-cli", "-u", REDIS, "flushdb"], capture_output=True)  # no cached page of a former run
    loading = {**project, "DJANGO_SETTINGS_MODULE": "teachingfile.settings.dev"}
    return json.loads(run([sys.executable, __file__, "--facts"], loading).splitlines()[-1])


def nginx_config(folder: Path, media: Path, port: int) -> Path:
    config = folder / "nginx.conf"
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = " ".join(f"{kind}_temp_path {folder}/{kind};" for kind in kinds)
    user = "user root;" if os.getuid() == 0 else ""
    config.write_text(
        f"{user} worker_processes 2; pid {folder}/nginx.pid; error_log {folder}/nginx.log;"
        "events { worker_connections 512; }"
        f"http {{ include /etc/nginx/mime.types; access_log off; sendfile on; {temp}"
        f"server {{ listen 127.0.0.1:{port}; root {media}; }} }}"
    )
    return config


def front_config(folder: Path, media: Path, port: int, upstream: int) -> Path:
    """Write nginx in front of the project as deploy/nginx/teachingfile.conf has it, on plain HTTP."""
    site = (ROOT / "deploy" / "nginx" / "teachingfile.conf").read_text()
    locations = "\n".join(MEDIA_LOCATIONS.findall(site)).replace("/srv/teachingfile/media/", f"{media}/")
    key_file = folder / "nginx-media-key.conf"
    key_file.write_text(f'set $teachingfile_media_key "{SIGNING_KEY}";\n')
    locations = locations.replace("/etc/teachingfile/", f"{folder}/")
    if locations.count("location ") != 2:
        sys.exit("deploy/nginx/teachingfile.conf: the two media locations were not found")
    config = folder / "front.conf"
    kinds = ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    temp = " ".join(f"{kind}_temp_path {folder}/front-{kind};" for kind in kinds)
    user = "user root;" if os.getuid() == 0 else ""
    config.write_text(
        f"{user} worker_processes 2; pid {folder}/front.pid; error_log {folder}/front.log;\n"
        "events { worker_connections 512; }\n"
        f"http {{ include /etc/nginx/mime.types; access_log off; sendfile on; {temp}\n"
        f"upstream teachingfile {{ server 127.0.0.1:{upstream}; keepalive 16; }}\n"
        f"server {{ listen 127.0.0.1:{port};\n"
        'proxy_set_header Host $host; proxy_http_version 1.1; proxy_set_header Connection "";\n'
        f"{locations}\n"
        "location / { proxy_pass http://teachingfile; } } }\n"
    )
    return config


def start_servers(project: dict, baseline: dict, ports: dict, folder: Path, media: Path) -> dict:
    """Start the project, the baseline and nginx; return their processes by name."""
    servers = {
        "project": subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{ports['project']}", "teachingfile.wsgi:application"],
            env=project,
            cwd=ROOT,
        ),
        "baseline": subprocess.Popen(
            [*GUNICORN, "--bind", f"127.0.0.1:{ports['baseline']}", "plain_django.wsgi:application"],
            env=baseline,
            cwd=BENCH,
        ),
    }
    if shutil.which("nginx"):
        config = nginx_config(folder, media, ports["static"])
        servers["static"] = subprocess.Popen(["nginx", "-c", str(config), "-p", str(folder), "-g", "daemon off;"])
        config = front_config(folder, media, ports["front"], ports["project"])
        servers["front"] = subprocess.Popen(["nginx", "-c", str(config), "-p", str(folder), "-g", "daemon off;"])
    for name in servers:
        wait_for(f"http://127.0.0.1:{ports[name]}/")
    return servers


def wait_for(url: str) -> None:
    for _ in range(100):
        try:
            urllib.request.urlopen(url, timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{url} did not answer")


def fetch(url: str, cookie: str) -> bytes:
    """GET a page as the benchmark will, refusing redirects and errors."""
    request = urllib.request.Request(url, headers={"Cookie": cookie} if cookie else {})
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request, timeout=10) as response:
            return response.read()
    except urllib.error.HTTPError as error:
        sys.exit(f"{url} answered {error.code}")


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        sys.exit(f"{req.full_url} redirected to {newurl}")


def worker_cpu(process: subprocess.Popen | None) -> float:
    """Return the CPU seconds (user + system) the server's processes have spent so far."""
    if process is None:
        return 0.0
    pids = [process.pid]
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    if children.exists():
        pids += [int(pid) for pid in children.read_text().split()]
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICKS


def milliseconds(text: str) -> float:
    number, unit = re.fullmatch(r"([0-9.]+)(us|ms|s|m)", text).groups()
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def load(url: str, *, cookie: str, seconds: int, connections: int, server: subprocess.Popen | None) -> Round:
    """Load one URL with wrk and return its figures."""
    command = ["wrk", "--latency", "-t", "2", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "10s"]
    if cookie:
        command += ["-H", f"Cookie: {cookie}"]
    before = worker_cpu(server)
    output = subprocess.run([*command, url], capture_output=True, text=True, check=True).stdout
    cpu = worker_cpu(server) - before
    if "Latency Distribution" not in output:
        sys.exit(f"wrk {url}:\n{output}")
    requests = int(re.search(r"(\d+) requests in", output).group(1))
    errors = sum(int(n) for n in re.findall(r"(?:Non-2xx or 3xx responses|connect|read|write|timeout):? (\d+)", output))
    return Round(
        rate=float(re.search(r"Requests/sec:\s+([0-9.]+)", output).group(1)),
        p50_ms=milliseconds(re.search(r"^\s+50%\s+(\S+)", output, re.M).group(1)),
        p99_ms=milliseconds(re.search(r"^\s+99%\s+(\S+)", output, re.M).group(1)),
        errors=errors,
        cpu_ms=1000 * cpu / requests if requests and server else 0.0,
    )


def pages(facts: dict) -> list[Page]:
    return [
        Page("home", "/", True),
        Page("case list", "/cases/", True),
        Page("case page, unknown", facts["case"], True),
        Page("topic page", facts["topic"], True),
        Page("quiz question", facts["attempt"], True),
        Page("home, anonymous", "/", False),
        Page("case list, anonymous", "/cases/", False),
        Page("public case, anonymous", facts["public_case"], False),
        Page("login page", "/accounts/login/", False),
        Page("image file, checked", facts["image"], True, peer="nginx", front=True),
        Page("image file, signed URL", facts["case"], True, peer="nginx", front=True, signed=True),
    ]


def measure(page: Page, facts: dict, servers: dict, ports: dict, options) -> tuple[list[Round], list[Round], int]:
    """Load the page and its peer in turns; return the rounds of each and the page's size."""
    cookie = facts["cookie"] if page.resident else ""
    ours = f"http://127.0.0.1:{ports['front' if page.front else 'project']}{page.path}"
    if page.signed:
        ours = signed_url(ours, facts, cookie)
    if page.peer == "nginx":
        peer, peer_server = f"http://127.0.0.1:{ports['static']}/{facts['image_name']}", servers["static"]
    else:
        peer, peer_server = f"http://127.0.0.1:{ports['baseline']}/", servers["baseline"]
    size = len(fetch(ours, cookie))
    fetch(peer, "")
    figures: tuple[list[Round], list[Round]] = ([], [])
    for _ in range(options.rounds):
        common = {"seconds": options.seconds, "connections": options.connections}
        figures[0].append(load(ours, cookie=cookie, server=servers["project"], **common))
        figures[1].append(load(peer, cookie="", server=None if page.peer == "nginx" else peer_server, **common))
    return figures[0], figures[1], size


def signed_url(case_page: str, facts: dict, cookie: str) -> str:
    """Return the signed URL of the bench's image as the case page hands it to the resident now."""
    html = fetch(case_page, cookie).decode()
    name = re.escape(facts["image_name"])
    found = re.search(rf"(/signed-media/{name}\?e=\d+&amp;s=[A-Za-z0-9_-]+)", html)
    if not found:
        sys.exit(f"{case_page} holds no signed URL of {facts['image_name']}")
    return case_page.split("/cases/")[0] + found.group(1).replace("&amp;", "&")


def median(rounds: list[Round], field: str) -> float:
    return statistics.median(getattr(item, field) for item in rounds)


def report_header(facts: dict, options) -> None:
    size = facts["size"]
    print(  # noqa: T201
        f"\nData: {size['cases']} published cases, {size['images']} images, {size['topics']} topics (the demo); "
        f"wrk -c {options.connections}, {options.seconds:g} s per round, {options.rounds} rounds interleaved\n"
    )
    header = "page                      ours req/s  peer req/s  ratio  ours p50  ours p99  peer p99  CPU/req ours  peer"
    print(header + "  CPU ratio    bytes  errors  peer", flush=True)  # noqa: T201


def report_row(page: Page, ours: list[Round], peer: list[Round], length: int) -> None:
    """Print one page's figures as soon as it is measured (a later failure keeps them)."""
    ratio = median(ours, "rate") / median(peer, "rate")
    # The peer's CPU per request over ours: the figure a busy machine moves least (– when either is not measured).
    ours_cpu, peer_cpu = median(ours, "cpu_ms"), median(peer, "cpu_ms")
    cpu_ratio = f"{peer_cpu / ours_cpu:10.2f}" if ours_cpu and peer_cpu else f"{'–':>10}"
    errors = sum(item.errors for item in ours)
    print(  # noqa: T201
        f"{page.label:<24} {median(ours, 'rate'):11.0f} {median(peer, 'rate'):11.0f} {ratio:6.2f}"
        f" {median(ours, 'p50_ms'):6.1f}ms {median(ours, 'p99_ms'):6.1f}ms {median(peer, 'p99_ms'):6.1f}ms"
        f" {median(ours, 'cpu_ms'):10.1f}ms {median(peer, 'cpu_ms'):5.1f}ms {cpu_ratio} {length:7d} {errors:6d}"
        f"  {page.peer}"
    )
    rounds = ", ".join(f"{a.rate:.0f}/{b.rate:.0f}" for a, b in zip(ours, peer, strict=True))
    print(f"{'':<24} rounds (ours/peer req/s): {rounds}", flush=True)  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=int, default=5, help="length of one wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, each page and its peer in turn (≥ 3)")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--port", type=int, default=8101, help="first of four ports: project, baseline, nginx, front")
    parser.add_argument("--only", default="", help="measure only the pages whose label contains this")
    parser.add_argument("--keep", action="store_true", help="keep the databases and media for a later --reuse")
    parser.add_argument("--reuse", action="store_true", help="use the databases and media a --keep run left")
    parser.add_argument("--facts", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    if options.facts:
        return facts()
    if options.rounds < 3:
        parser.error("at least 3 rounds")
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk (make bench-serve does)")
    ports = dict(zip(("project", "baseline", "static", "front"), range(options.port, options.port + 4), strict=True))
    folder = Path(tempfile.mkdtemp(prefix="bench-serve-"))
    folder.chmod(0o755)  # nginx's workers read the media below it
    media = KEPT_MEDIA if options.keep or options.reuse else folder / "media"
    media.mkdir(exist_ok=True)
    project, baseline = environments(media)
    servers = {}
    try:
        known = known_facts(project) if options.reuse else prepare(project, baseline)
        servers = start_servers(project, baseline, ports, folder, media)
        chosen = [page for page in pages(known) if options.only in page.label]
        report_header(known, options)
        for page in chosen:
            report_row(page, *measure(page, known, servers, ports, options))
    finally:
        for process in servers.values():
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(folder, ignore_errors=True)
        if not (options.keep or options.reuse):
            drop_database(PROJECT_DB)
            drop_database(BASELINE_DB)


if __name__ == "__main__":
    main()
