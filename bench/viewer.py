"""Benchmark: the image viewer in headless Chromium over loopback, beside Cornerstone3D (not a test).

Builds a throw-away database and media folder holding one published case with
a synthetic CT stack (default 300 slices of 512×512, imported through the real
DICOM pipeline), starts Django's development server on 127.0.0.1, and drives
Debian's Chromium with Playwright, cache empty, ``--repeat`` times:

- first image: navigation start to the case page's first stage image painted;
- viewer first slice: click on that image to the first slice drawn on the canvas;
- full stack: the same click to every slice's values loaded;
- bytes per slice: what the browser received for the slices' values, beside
  the raw int16 size and the web PNG's;
- scrolling: slices drawn per second while a wheel event arrives on every
  animation frame, beside the animation-frame rate itself, and the main
  thread's busy time per drawn slice (windowing and drawing a 512×512 slice).

The viewer values are prepared first, as the import's second task does (a
request never computes them), and the median of the runs is printed.

In the same run, in turn with ours (ours, peer, ours, peer, …), the peer: a minimal Cornerstone3D 5.14 stack page
(``bench/viewer_peer``, pinned in its package-lock; ``npm ci`` and a vite
build the first time) reading the same de-identified DICOM files from a static
server on loopback, against our viewer's own page ("open separately"): first
slice and whole stack from navigation start, slices drawn per second, and the
JavaScript each page loads; the ratio is peer ÷ ours. ``--no-peer`` skips it. The temporary folder (the
case's database and media, the peer's copy of the files: ~250 MB) is removed at the end, whatever happens.

Targets (issue 4): first image under 500 ms, full stack under 3 s, 60 frames a
second. Run: ``.venv/bin/python bench/viewer.py [--slices 300] [--repeat 3]``.
"""

import argparse
import functools
import gzip
import http.server
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CASE_NUMBER = "bench300"
USER = "bench-resident"

# Times are taken in the page, on its own clock, when the viewer's attributes change.
WATCH_VIEWER = """() => {
  const pane = document.querySelector('.viewer-pane');
  const canvas = pane.querySelector('canvas');
  window.benchTimes = {};
  new MutationObserver(() => {
    if (canvas.dataset.slice && !window.benchTimes.firstSlice) window.benchTimes.firstSlice = performance.now();
  }).observe(canvas, { attributes: true });
  new MutationObserver(() => {
    if (pane.dataset.total && pane.dataset.loaded === pane.dataset.total && !window.benchTimes.loaded) {
      window.benchTimes.loaded = performance.now();
    }
  }).observe(pane, { attributes: true });
  performance.setResourceTimingBufferSize(10000);
  window.benchTimes.click = performance.now();
}"""

# When the stage image was painted (its largest-contentful-paint entry), else when it arrived.
FIRST_PAINT = """img => new Promise(done => {
  new PerformanceObserver(list => {
    const paint = list.getEntries().filter(entry => entry.element === img).pop();
    const arrival = performance.getEntriesByName(img.currentSrc)[0];
    done(paint ? paint.startTime : arrival.responseEnd);
  }).observe({ type: 'largest-contentful-paint', buffered: true });
})"""

SCROLL = """async (seconds) => {
  const canvas = document.querySelector('.viewer-pane canvas');
  const total = Number(document.querySelector('.viewer-pane').dataset.total);
  let direction = 1, animationFrames = 0;
  const firstFrame = Number(canvas.dataset.frames);
  const start = performance.now();
  await new Promise(done => {
    function step() {
      animationFrames++;
      const slice = Number(canvas.dataset.slice);
      if (slice >= total) direction = -1;
      if (slice <= 1) direction = 1;
      canvas.dispatchEvent(new WheelEvent('wheel', { deltaY: 100 * direction, bubbles: true, cancelable: true }));
      if (performance.now() - start < seconds * 1000) requestAnimationFrame(step); else done();
    }
    requestAnimationFrame(step);
  });
  const elapsed = (performance.now() - start) / 1000;
  return { drawn: (Number(canvas.dataset.frames) - firstFrame) / elapsed, animationFrames: animationFrames / elapsed };
}"""


def prepare_values(series_id: int) -> None:
    """Prepare the stack's viewer values as the import's second task does."""
    from cases.models import Series
    from cases.values import series_prepare_values

    started = time.perf_counter()
    prepared = series_prepare_values(series=Series.objects.get(pk=series_id))
    print(f"prepared the values of {prepared} slices in {time.perf_counter() - started:.1f} s")  # noqa: T201


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def build_site(slices: int) -> dict:
    """Import a synthetic CT stack into a published case; return the web PNG and DICOM sizes."""
    import django

    django.setup()
    from django.core.management import call_command

    from cases.models import Case, Image, Series
    from cases.tests.factories import make_case, make_user
    from demo import synthetic
    from imaging.sources import Source
    from ingest.clean import ingest_stage
    from ingest.models import IngestJob
    from ingest.run import ingest_run

    call_command("migrate", verbosity=0)
    resident = make_user(USER, "resident")
    resident.set_password(USER)
    resident.save()
    case = make_case(number=CASE_NUMBER, status=Case.Status.PUBLISHED)
    datasets = synthetic.ct_pelvis(patient=synthetic.Patient(), slices=slices, seed=7)
    files = synthetic.planted_study_files(datasets)
    job = IngestJob.objects.create(case=case)
    sources = [Source(name=name, data=data) for name, data in files.items()]
    ingest_stage(job=job, sources=enumerate(sources, start=1))
    ingest_run(job=job)
    Series.objects.filter(case=case).update(label_confirmed=True)
    images = Image.objects.filter(series__case=case)
    assert images.count() == slices, job.report
    return {
        "png": statistics.mean(image.file.size for image in images),
        "width": images[0].width,
        "height": images[0].height,
        "series": images[0].series_id,
        "dicom": [image.dicom_file.path for image in images],
    }


def run_once(browser, base: str, case_url: str, slices: int) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, base)
    page.goto(f"{base}{case_url}")
    image = page.locator(".stage-images img").first
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    first_image = page.evaluate(FIRST_PAINT, image.element_handle())
    page.evaluate(WATCH_VIEWER)
    image.click()
    page.wait_for_function("() => window.benchTimes.loaded", timeout=120_000)
    times = page.evaluate("() => window.benchTimes")
    transfers = page.evaluate(
        """() => performance.getEntriesByType('resource')
          .filter(entry => entry.name.includes('/values/'))
          .map(entry => entry.encodedBodySize)"""
    )
    devtools = context.new_cdp_session(page)
    devtools.send("Performance.enable")
    before = busy_seconds(devtools)
    scroll = page.evaluate(SCROLL, 3)
    busy = busy_seconds(devtools) - before
    context.close()
    return {
        "first_image": first_image,
        "first_slice": times["firstSlice"] - times["click"],
        "full_stack": times["loaded"] - times["click"],
        "bytes": sum(transfers) / slices,
        "requests": len(transfers),
        "drawn": scroll["drawn"],
        "animation_frames": scroll["animationFrames"],
        "busy_ms": 1000 * busy / (scroll["drawn"] * 3),
    }


def busy_seconds(devtools) -> float:
    """Return the page's main-thread task time so far, as Chromium's performance metrics count it."""
    metrics = {metric["name"]: metric["value"] for metric in devtools.send("Performance.getMetrics")["metrics"]}
    return metrics["TaskDuration"]


# On our own viewer page: when the first slice is drawn and when every slice is loaded, from navigation start.
WATCH_PAGE = """() => {
  window.benchTimes = {};
  (function poll() {
    const pane = document.querySelector('.viewer-pane');
    const canvas = pane && pane.querySelector('canvas');
    const times = window.benchTimes;
    if (canvas && canvas.dataset.slice && !times.firstSlice) times.firstSlice = performance.now();
    if (pane && pane.dataset.total && pane.dataset.loaded === pane.dataset.total) {
      window.benchTimes.loaded = performance.now();
      return;
    }
    requestAnimationFrame(poll);
  })();
}"""


def run_own_page(browser, base: str, url: str) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    log_in(page, base)
    page.add_init_script(f"({WATCH_PAGE})()")
    page.goto(f"{base}{url}")
    page.wait_for_function("() => window.benchTimes && window.benchTimes.loaded", timeout=120_000)
    times = page.evaluate("() => window.benchTimes")
    scroll = page.evaluate(SCROLL, 3)
    context.close()
    return {"first": times["firstSlice"], "loaded": times["loaded"], "drawn": scroll["drawn"]}


def run_peer(browser, base: str, slices: int) -> dict:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{base}/index.html?n={slices}")
    page.wait_for_function("() => window.peerResult && window.peerResult.done", timeout=300_000)
    result = page.evaluate("() => window.peerResult")
    context.close()
    if result["errors"]:
        raise RuntimeError(f"the Cornerstone3D page failed: {result['errors']}")
    return {"first": result["firstImage"], "loaded": result["loaded"], "drawn": result["drawn"]}


def log_in(page, base: str) -> None:
    page.goto(f"{base}/accounts/login/?next=/topics/")  # a page without images: none cached before the case
    page.get_by_label("Username").fill(USER)
    page.get_by_label("Password").fill(USER)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/topics/")


def build_peer() -> Path:
    """Install the peer's pinned packages and build its page, once; return the built folder."""
    folder = ROOT / "bench" / "viewer_peer"
    if not (folder / "node_modules").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, check=True)
    if not (folder / "dist" / "index.html").exists():
        subprocess.run(["npm", "run", "build"], cwd=folder, check=True, stdout=subprocess.DEVNULL)
    return folder / "dist"


def serve_peer(built: Path, dicom_files: list[str], folder: Path) -> tuple[http.server.HTTPServer, str]:
    """Serve the peer's page and the stack's DICOM files (as /data/1.dcm …) from a static server."""
    site = folder / "peer"
    shutil.copytree(built, site)
    (site / "data").mkdir()
    for number, path in enumerate(dicom_files, start=1):
        os.link(path, site / "data" / f"{number}.dcm")
    quiet = type("Quiet", (http.server.SimpleHTTPRequestHandler,), {"log_message": lambda *args: None})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(quiet, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def script_bytes(paths: list[Path]) -> tuple[int, int]:
    """Return the raw and gzip-compressed size of the scripts a page loads."""
    raw = sum(path.stat().st_size for path in paths)
    packed = sum(len(gzip.compress(path.read_bytes(), 9)) for path in paths)
    return raw, packed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slices", type=int, default=300)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-peer", action="store_true", help="skip the Cornerstone3D comparison")
    options = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="bench-viewer-"))
    try:
        print("\n".join(measure(folder, options)))  # noqa: T201
    finally:
        shutil.rmtree(folder, ignore_errors=True)  # the case's database, media and the peer's copy: ~250 MB


def measure(folder: Path, options) -> list[str]:
    """Build the case in ``folder``, run the browser passes (ours and the peer's in turn), return the lines."""
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "teachingfile.settings.dev",
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "TEACHINGFILE_MEDIA_ROOT": str(folder / "media"),
    }
    os.environ.update(environment)
    # Playwright's sync API keeps an event loop in this thread; the ORM calls between runs are synchronous.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    started = time.perf_counter()
    sizes = build_site(options.slices)
    print(f"built a {options.slices}-slice CT case in {time.perf_counter() - started:.1f} s")  # noqa: T201
    peer_site = None if options.no_peer else serve_peer(build_peer(), sizes["dicom"], folder)

    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for_port(port)
        runs, own, peer = browser_passes(base, sizes, options, peer_site)
    finally:
        server.terminate()
        server.wait()
        if peer_site:
            peer_site[0].shutdown()
    return summary(runs, own, peer, sizes, options)


def wait_for_port(port: int) -> None:
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)


def browser_passes(base: str, sizes: dict, options, peer_site) -> tuple[list[dict], list[dict], list[dict]]:
    """Run the case page, our viewer page and the peer's in turn (a, b, c, a, b, c, …) for ``--repeat`` rounds."""
    from playwright.sync_api import sync_playwright

    case_url = f"/cases/{CASE_NUMBER}/"
    own_page = f"/cases/{CASE_NUMBER}/viewer/?series={sizes['series']}"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        # A request never computes the values (cases/values.py): the import's second task prepares them first.
        prepare_values(sizes["series"])
        runs, own, peer = [], [], []
        for _ in range(options.repeat):
            runs.append(run_once(browser, base, case_url, options.slices))
            own.append(run_own_page(browser, base, own_page))
            if peer_site:
                peer.append(run_peer(browser, peer_site[1], options.slices))
        browser.close()
    return runs, own, peer


def summary(runs: list[dict], own: list[dict], peer: list[dict], sizes: dict, options) -> list[str]:
    median = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
    raw = sizes["width"] * sizes["height"] * 2
    lines = [
        f"data: {options.slices} CT slices, {sizes['width']}×{sizes['height']} int16, the viewer values prepared; "
        f"median of {len(runs)} rounds",
        f"first image of the case page:   {median['first_image']:7.0f} ms   (target < 500)",
        f"viewer, first slice drawn:      {median['first_slice']:7.0f} ms",
        f"viewer, whole stack loaded:     {median['full_stack']:7.0f} ms   (target < 3000)",
        f"bytes per slice (values, zlib): {median['bytes'] / 1024:7.1f} KiB  (raw int16 {raw / 1024:.0f} KiB, "
        f"web PNG {sizes['png'] / 1024:.1f} KiB; {median['requests']:.0f} requests)",
        f"scrolling: slices drawn/s:      {median['drawn']:7.1f}      (animation frames/s "
        f"{median['animation_frames']:.1f})",
        f"main-thread time per drawn slice: {median['busy_ms']:5.2f} ms (a frame at 60/s lasts 16.7)",
    ]
    own_median = {key: statistics.median(run[key] for run in own) for key in own[0]}
    lines += [
        f"viewer page alone, from navigation start (scripts fetched, median of {options.repeat}, in turn with "
        f"the peer's): first slice {own_median['first']:.0f} ms, whole stack {own_median['loaded']:.0f} ms",
    ]
    if peer:
        lines += peer_lines(own_median, median, peer, sizes, options)
    return lines


def peer_lines(own_median: dict, median: dict, peer: list[dict], sizes: dict, options) -> list[str]:
    ours_js = script_bytes(
        [ROOT / "static" / "js" / name for name in ("viewer-inflate.js", "case.js", "annotation-geometry.js")]
        + sorted((ROOT / "static" / "js" / "viewer").glob("*.js"))
    )
    peer_js = script_bytes(sorted((ROOT / "bench" / "viewer_peer" / "dist").rglob("*.js")))
    peer_median = {key: statistics.median(run[key] for run in peer) for key in peer[0]}
    dicom_size = statistics.mean(Path(path).stat().st_size for path in sizes["dicom"])
    lines = [
        "",
        f"beside Cornerstone3D 5.14 (its own page each, from navigation start; ours and the peer in turn, "
        f"median of {options.repeat} rounds):",
        f"{'':34}{'ours':>10}{'Cornerstone3D':>15}{'ratio':>8}",
    ]
    rows = [
        ("first slice drawn (ms)", own_median["first"], peer_median["first"]),
        ("whole stack loaded (ms)", own_median["loaded"], peer_median["loaded"]),
        ("slices drawn per second", own_median["drawn"], peer_median["drawn"]),
        ("bytes per slice received (KiB)", median["bytes"] / 1024, dicom_size / 1024),
        ("scripts, raw (KiB)", ours_js[0] / 1024, peer_js[0] / 1024),
        ("scripts, gzip (KiB)", ours_js[1] / 1024, peer_js[1] / 1024),
    ]
    return lines + [f"{label:34}{ours:10.1f}{theirs:15.1f}{theirs / ours:8.2f}" for label, ours, theirs in rows]


if __name__ == "__main__":
    main()
