"""Concurrency check against a running site (not a test; prints counts).

Drives a server started with ``make run`` (or any deployment) over HTTP, as people would: the editor
invites N residents; the faculty author uploads a synthetic CT to a case of their own and, while the task
worker imports it, N invited sign-ups (each then reveals a published case) and M saves of cases in the
authoring screen run from several threads at once. Afterwards it reads back every write it
was answered for, waits for the import and prints the answers by status and what it found. Exits 1 on any
5xx answer or missing write.

Run (``make run`` in another terminal first): ``.venv/bin/python bench/concurrency.py --url
http://127.0.0.1:8000 --signups 10 --saves 50``. The demo accounts (editor, faculty) and the demo case
tf101 are the defaults; ``--json`` prints the report as JSON (tests/test_concurrency.py reads it).
"""

import argparse
import io
import json
import re
import secrets
import sys
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from html.parser import HTMLParser
from http.cookiejar import CookieJar
from pathlib import Path
from typing import TypeVar
from urllib.error import HTTPError
from urllib.parse import urlencode
from urllib.request import HTTPCookieProcessor, HTTPRedirectHandler, Request, build_opener

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from demo import synthetic  # noqa: E402 - framework-free: numpy and pydicom only

REQUEST_TIMEOUT = 120  # seconds; a request waiting this long counts as failed
SETUP_ATTEMPTS = 3
T = TypeVar("T")


@dataclass
class Report:
    """Answers by action and status, writes found afterwards, and the import's course."""

    statuses: dict[str, Counter] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    signups_requested: int = 0
    signups_answered: int = 0
    signups_present: int = 0
    reveals_answered: int = 0
    reveals_present: int = 0
    saves_requested: int = 0
    saves_answered: int = 0
    cases_saved: int = 0
    cases_with_last_save: int = 0
    import_status_at_start: str = ""
    import_status_at_end: str = ""
    load_started: float = 0.0  # seconds since the epoch, to compare with the worker's times
    load_finished: float = 0.0
    import_status: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def record(self, action: str, status: int, detail: str = "") -> None:
        with self.lock:
            self.statuses.setdefault(action, Counter())[status] += 1
            if status >= 500 or status == 0:
                self.failures.append(f"{action}: {status} {detail}"[:300])

    @property
    def server_errors(self) -> int:
        return sum(
            count
            for counter in self.statuses.values()
            for status, count in counter.items()
            if status >= 500 or not status
        )

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.signups_present == self.signups_requested
            and self.reveals_present == self.signups_requested
            and self.saves_answered == self.saves_requested
            and self.cases_with_last_save == self.cases_saved
            and self.import_status == "done"
        )

    def as_dict(self) -> dict:
        return {
            "statuses": {action: dict(counter) for action, counter in self.statuses.items()},
            "failures": self.failures,
            "server_errors": self.server_errors,
            "signups": {
                "requested": self.signups_requested,
                "answered": self.signups_answered,
                "present": self.signups_present,
            },
            "reveals": {"answered": self.reveals_answered, "present": self.reveals_present},
            "saves": {
                "requested": self.saves_requested,
                "answered": self.saves_answered,
                "cases": self.cases_saved,
                "cases_with_last_save": self.cases_with_last_save,
            },
            "import": {
                "status_at_start": self.import_status_at_start,
                "status_at_end": self.import_status_at_end,
                "status": self.import_status,
            },
            "load": {"started": self.load_started, "finished": self.load_finished},
            "ok": self.ok,
        }


@dataclass(frozen=True)
class Answer:
    status: int
    text: str
    location: str


class SetupFailed(Exception):
    """A step that prepares the load (log in, invite, create a case, upload) did not succeed."""


def with_retries(step: Callable[[], T], attempts: int = SETUP_ATTEMPTS) -> T:
    """Run a set-up step again when it fails (its server errors are still counted), up to ``attempts`` times."""
    for attempt in range(1, attempts + 1):
        try:
            return step()
        except SetupFailed:
            if attempt == attempts:
                raise
    raise AssertionError("unreachable")


class _NoRedirect(HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class FormFields(HTMLParser):
    """Collect the fields a browser would submit from the form containing ``marker`` (a field name)."""

    def __init__(self, marker: str):
        super().__init__(convert_charrefs=True)
        self.marker = marker
        self.forms: list[list[tuple[str, str]]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        name = attributes.get("name")
        if tag == "form":
            self.forms.append([])
        elif not self.forms or "disabled" in attributes:
            return
        elif tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in {"submit", "button", "file", "image", "reset"}:
                return
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            self.forms[-1].append((name, attributes.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in attributes:
            self.forms[-1].append((self._select, attributes.get("value", "")))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, []

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.forms[-1].append((self._textarea, "".join(self._text).removeprefix("\n")))
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self._text.append(data)

    def fields(self) -> list[tuple[str, str]]:
        for form in self.forms:
            if any(name == self.marker for name, _ in form):
                return form
        raise LookupError(f"No form with a field named {self.marker!r}")


def form_fields(html: str, marker: str, **changes: str) -> list[tuple[str, str]]:
    """Return the fields of the form holding ``marker``, with ``changes`` set (added when absent)."""
    parser = FormFields(marker)
    parser.feed(html)
    fields = [(name, value) for name, value in parser.fields() if name not in changes]
    return fields + list(changes.items())


class Browser:
    """One person's cookies; answers are recorded in the report under the action's name."""

    def __init__(self, base_url: str, report: Report):
        self.base_url = base_url.rstrip("/")
        self.report = report
        self.opener = build_opener(HTTPCookieProcessor(CookieJar()), _NoRedirect)

    def request(self, action: str, path: str, data: bytes | None = None, headers: dict | None = None) -> Answer:
        request = Request(self.base_url + path, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=REQUEST_TIMEOUT) as response:
                answer = Answer(response.status, response.read().decode("utf-8", "replace"), "")
        except HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            answer = Answer(error.code, text, error.headers.get("Location", ""))
        except OSError as error:  # refused, reset or timed out: no answer at all
            answer = Answer(0, str(error), "")
        self.report.record(action, answer.status, f"{path} {_summary(answer.text)}")
        return answer

    def get(self, action: str, path: str, headers: dict | None = None) -> Answer:
        return self.request(action, path, headers=headers)

    def post(self, action: str, path: str, fields: list[tuple[str, str]]) -> Answer:
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        return self.request(action, path, urlencode(fields).encode(), headers)

    def post_files(self, action: str, path: str, fields: list[tuple[str, str]], files: dict[str, bytes]) -> Answer:
        boundary = uuid.uuid4().hex
        body = io.BytesIO()
        for name, value in fields:
            body.write(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode())
        for file_name, content in files.items():
            body.write(
                f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{file_name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n".encode()
            )
            body.write(content + b"\r\n")
        body.write(f"--{boundary}--\r\n".encode())
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        return self.request(action, path, body.getvalue(), headers)

    def log_in(self, username: str, password: str) -> None:
        page = self.get("log in", "/accounts/login/")
        answer = self.post(
            "log in", "/accounts/login/", form_fields(page.text, "username", username=username, password=password)
        )
        if answer.status != 302:
            raise SetupFailed(f"Could not log in as {username!r} (HTTP {answer.status}).")


def _summary(text: str) -> str:
    """Name what a failed page says: its title, or its first line."""
    title = re.search(r"<title>(.*?)</title>", text, re.S)
    return " ".join((title.group(1) if title else text[:120]).split())


def invite(editor: Browser, email: str) -> str:
    """Invite an address as the editor; return the sign-up path."""
    page = editor.get("invite", "/admin/accounts/invitation/add/")
    answer = editor.post(
        "invite", "/admin/accounts/invitation/add/", form_fields(page.text, "email", email=email, _continue="1")
    )
    if answer.status != 302:
        raise SetupFailed(f"Could not invite {email} (HTTP {answer.status}).")
    link = re.search(r"<code>(/accounts/signup/[^<]+/)</code>", editor.get("invite", answer.location).text)
    if link is None:
        raise SetupFailed("The invitation page shows no sign-up link.")
    return link.group(1)


def case_create(author: Browser, number: str) -> int:
    """Create a draft case in the authoring screen; return its id."""
    page = author.get("create case", "/admin/cases/case/add/")
    fields = form_fields(
        page.text,
        "number",
        number=number,
        title=f"Concurrency check {number}",
        region="chest",
        diagnosis="Concurrency check",
        brief_history="first",
        _continue="1",
    )
    answer = author.post("create case", "/admin/cases/case/add/", fields)
    found = re.search(r"/admin/cases/case/(\d+)/change/", answer.location)
    if answer.status != 302 or found is None:
        raise SetupFailed(f"Could not create case {number} (HTTP {answer.status}): {_summary(answer.text)}")
    return int(found.group(1))


def case_text(author: Browser, case_id: int) -> str | None:
    page = author.get("read back", f"/admin/cases/case/{case_id}/change/")
    if page.status != 200:
        return None
    return dict(form_fields(page.text, "brief_history")).get("brief_history")


def case_save(author: Browser, case_id: int, text: str) -> bool:
    """Save the case's change form as an author would, with a new brief history; True when it was saved."""
    path = f"/admin/cases/case/{case_id}/change/"
    page = author.get("open case", path)
    if page.status != 200:
        return False
    return author.post("save case", path, form_fields(page.text, "brief_history", brief_history=text)).status == 302


def import_start(author: Browser, case_id: int, slices: int) -> str:
    """Upload a synthetic CT of ``slices`` slices to the case; return the import's progress path."""
    datasets = synthetic.ct_pelvis(patient=synthetic.Patient(seed=secrets.randbelow(1000)), slices=slices, size=256)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in synthetic.planted_study_files(datasets).items():
            archive.writestr(name, content)
    path = f"/admin/cases/case/{case_id}/dicom/"
    page = author.get("import", path)
    answer = author.post_files(
        "import", path, form_fields(page.text, "csrfmiddlewaretoken"), {"study.zip": buffer.getvalue()}
    )
    found = re.search(r'data-status-url="([^"]+)"', answer.text)
    if answer.status != 200 or found is None:
        raise SetupFailed(f"The upload was not accepted (HTTP {answer.status}).")
    return found.group(1)


def import_status(author: Browser, progress_path: str) -> str:
    answer = author.get("import progress", progress_path, headers={"Accept": "application/json"})
    return json.loads(answer.text)["status"] if answer.status == 200 else f"HTTP {answer.status}"


def sign_up_and_reveal(base_url: str, report: Report, path: str, reveal_case: str) -> None:
    """Sign up from an invitation, reveal a case with a committed answer, then check both were kept."""
    resident = Browser(base_url, report)
    page = resident.get("sign up", path)
    username = f"r{secrets.token_hex(4)}"
    fields = form_fields(
        page.text,
        "username",
        username=username,
        display_name=f"Dr {username}",
        training_level=re.findall(r'<option value="([^"]+)"', page.text.split('name="training_level"', 1)[-1])[0],
        password1="concurrency-check-pw-7731",
        password2="concurrency-check-pw-7731",
    )
    if resident.post("sign up", path, fields).status != 302:
        return
    with report.lock:
        report.signups_answered += 1
    case_path = f"/cases/{reveal_case}/"
    page = resident.get("case page", case_path)
    answer_text = f"answer of {username}"
    revealed = resident.post(
        "reveal", f"{case_path}reveal/", form_fields(page.text, "committed_answer", committed_answer=answer_text)
    )
    # Read back as the person: the home page knows them, the case page shows their committed answer.
    present = username in resident.get("read back", "/accounts/profile/").text
    shown = answer_text in resident.get("read back", case_path).text
    with report.lock:
        report.signups_present += present
        report.reveals_answered += revealed.status == 302
        report.reveals_present += shown


def save_case_repeatedly(author: Browser, report: Report, case_id: int, saves: int, tag: str) -> None:
    last = None
    for number in range(1, saves + 1):
        text = f"{tag} save {number} of {saves}"
        if case_save(author, case_id, text):
            last = text
            with report.lock:
                report.saves_answered += 1
    kept = last is not None and case_text(author, case_id) == last
    with report.lock:
        report.cases_saved += 1
        report.cases_with_last_save += kept


def run(
    *,
    url: str,
    signups: int,
    saves: int,
    authors: int,
    slices: int,
    reveal_case: str,
    editor: tuple[str, str],
    faculty: tuple[str, str],
    import_timeout: float,
) -> Report:
    """Set up invitations, cases and an import, then run sign-ups and saves at once while it is imported."""
    report = Report(signups_requested=signups, saves_requested=saves)
    tag = secrets.token_hex(3)
    inviter = Browser(url, report)
    with_retries(lambda: inviter.log_in(*editor))
    links = [
        with_retries(lambda number=number: invite(inviter, f"resident-{tag}-{number}@example.org"))
        for number in range(signups)
    ]
    writers = []
    for number in range(authors):
        author = Browser(url, report)
        with_retries(lambda author=author: author.log_in(*faculty))
        writers.append(
            (author, with_retries(lambda author=author, number=number: case_create(author, f"cc{tag}{number}")))
        )
    importer, import_case = writers[0]
    progress = with_retries(lambda: import_start(importer, import_case, slices))
    # The load starts as soon as the import is queued; the worker takes it up within its polling interval.
    report.import_status_at_start = import_status(importer, progress)
    report.load_started = time.time()
    shares = [saves // authors + (index < saves % authors) for index in range(authors)]
    with ThreadPoolExecutor(max_workers=signups + authors) as pool:
        jobs = [pool.submit(sign_up_and_reveal, url, report, link, reveal_case) for link in links]
        jobs += [
            pool.submit(save_case_repeatedly, author, report, case_id, share, tag)
            for (author, case_id), share in zip(writers, shares, strict=True)
        ]
        for job in jobs:
            job.result()
    report.load_finished = time.time()
    status = report.import_status_at_end = import_status(importer, progress)
    deadline = time.monotonic() + import_timeout
    while status in {"queued", "running"} and time.monotonic() < deadline:
        time.sleep(0.5)
        status = import_status(importer, progress)
    report.import_status = status
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--signups", type=int, default=10, help="invited sign-ups, each then revealing a case")
    parser.add_argument("--saves", type=int, default=50, help="case saves in the authoring screen, in all")
    parser.add_argument("--authors", type=int, default=5, help="author threads sharing the saves, a case each")
    parser.add_argument("--slices", type=int, default=60, help="slices of the synthetic CT imported meanwhile")
    parser.add_argument("--reveal-case", default="tf101", help="a published case to reveal")
    parser.add_argument("--editor", default="editor:editor", help="username:password of an editor")
    parser.add_argument("--faculty", default="faculty:faculty", help="username:password of a faculty author")
    parser.add_argument("--import-timeout", type=float, default=300)
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    options = parser.parse_args()
    started = time.monotonic()
    try:
        report = run(
            url=options.url,
            signups=options.signups,
            saves=options.saves,
            authors=options.authors,
            slices=options.slices,
            reveal_case=options.reveal_case,
            editor=tuple(options.editor.split(":", 1)),
            faculty=tuple(options.faculty.split(":", 1)),
            import_timeout=options.import_timeout,
        )
    except SetupFailed as failure:
        sys.exit(f"{failure} The load was not run.")
    if options.json:
        print(json.dumps(report.as_dict()))  # noqa: T201
    else:
        print(_table(report, time.monotonic() - started))  # noqa: T201
    sys.exit(0 if report.ok else 1)


def _table(report: Report, seconds: float) -> str:
    lines = [f"{'action':<16} answers by HTTP status"]
    for action, counter in sorted(report.statuses.items()):
        lines.append(f"{action:<16} " + ", ".join(f"{status}: {count}" for status, count in sorted(counter.items())))
    lines += [
        "",
        f"server errors (5xx or no answer): {report.server_errors}",
        f"sign-ups: {report.signups_answered} of {report.signups_requested} answered, "
        f"{report.signups_present} present afterwards",
        f"reveals: {report.reveals_answered} answered, {report.reveals_present} present afterwards",
        f"case saves: {report.saves_answered} of {report.saves_requested} answered; last save present on "
        f"{report.cases_with_last_save} of {report.cases_saved} cases",
        f"import: {report.import_status_at_start} when the load started, {report.import_status_at_end} when it "
        f"ended, {report.import_status} at last",
        f"{seconds:.0f} s; {'OK' if report.ok else 'FAILED'}",
    ]
    lines += [f"  {failure}" for failure in report.failures[:20]]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
