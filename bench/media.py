"""Benchmark: CPU per image request after the permission check, by how the file leaves (not a test).

One process, Django's test client, a throw-away SQLite database: a resident asks for one web image of a
published case (a PNG of ``--size`` pixels, noise so it does not compress) ``--requests`` times per round, the
contenders in turns round after round (a, b, c, d, …):

- streamed: Django opens the stored file and streams it (no front server configured);
- X-Accel-Redirect: Django answers the header and nginx would send the file (``TEACHINGFILE_MEDIA_ACCEL_REDIRECT``);
- X-Sendfile: the same for Apache (``TEACHINGFILE_MEDIA_X_SENDFILE``);
- 304: the browser revalidates with the ETag it has (``If-None-Match``): answered from the stored name alone.

Printed: each one's median CPU milliseconds per request (``time.process_time``, so a neighbour's load counts
less than in wall time) and the ratio to streamed. What the front server then spends sending the bytes is not
in these figures: ``bench/serve.py`` measures whole servers.
Run: ``.venv/bin/python bench/media.py [--size PIXELS] [--requests N] [--rounds N]``.
"""

import argparse
import io
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy
import PIL.Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "teachingfile.settings.test"

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402

from bench.interleave import interleaved, report  # noqa: E402


def noise_png(size: int) -> io.BytesIO:
    """A greyscale PNG of random pixels: about as large as a radiograph's web image of that size."""
    pixels = numpy.random.default_rng(16).integers(0, 256, (size, size), dtype=numpy.uint8)
    buffer = io.BytesIO()
    PIL.Image.fromarray(pixels).save(buffer, format="PNG")
    buffer.seek(0)
    return buffer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256, help="image side in pixels (256: about 66 kB)")
    parser.add_argument("--requests", type=int, default=300, help="requests per contender per round")
    parser.add_argument("--rounds", type=int, default=3)
    options = parser.parse_args()
    settings.MEDIA_ROOT = Path(tempfile.mkdtemp(prefix="bench-media-"))
    connection.creation.create_test_db(verbosity=0)
    from cases import services
    from cases.tests.factories import make_case, make_series, make_user

    case = make_case()
    image = services.image_create(
        series=make_series(case=case), prepared=services.image_prepare(noise_png(options.size)), order=1
    )
    client = Client()
    client.force_login(make_user("bench-resident", "resident"))
    url = reverse("cases:media-file", args=[image.file.name])
    first = client.get(url)
    size, etag = sum(len(chunk) for chunk in first.streaming_content), first["ETag"]

    def contender(*, accel: str = "", sendfile: bool = False, headers: dict | None = None, status: int = 200):
        def run() -> float:
            settings.TEACHINGFILE_MEDIA_ACCEL_REDIRECT, settings.TEACHINGFILE_MEDIA_X_SENDFILE = accel, sendfile
            start = time.process_time()
            for _ in range(options.requests):
                response = client.get(url, headers=headers or {})
                if response.streaming:
                    b"".join(response.streaming_content)
                assert response.status_code == status, response.status_code
            return (time.process_time() - start) / options.requests

        return run

    figures = interleaved(
        {
            "streamed by Django": contender(),
            "X-Accel-Redirect": contender(accel="/protected-media/"),
            "X-Sendfile": contender(sendfile=True),
            "304 (If-None-Match)": contender(headers={"If-None-Match": etag}, status=304),
        },
        options.rounds,
    )
    print(  # noqa: T201
        f"one {options.size}×{options.size} PNG of {size / 1000:.0f} kB, a resident's request with the permission "
        f"check, {options.requests} requests per round, {options.rounds} interleaved rounds; CPU per request"
    )
    for line in report(figures, unit="ms", scale=1000):
        print(line)  # noqa: T201


if __name__ == "__main__":
    main()
