"""The demo's generated files, kept on disk: its synthetic DICOM studies and its phantom pictures.

Generating them is most of a demo load (about two thirds of its CPU), and the same arguments give
byte-identical files, so each is generated once and read back afterwards from ``.cache/demo/``. A file's key
is a hash of its arguments, of the generators' source and of the versions of the libraries that write it:
change a generator and its files are generated again. ``manage.py demo_files`` fills the cache ahead of a
test run, on every core.
"""

import functools
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from importlib.metadata import version
from pathlib import Path

from django.conf import settings

from . import phantoms, synthetic

SYNTHETIC_STUDIES = {
    "ct_pelvis": synthetic.ct_pelvis,
    "mr_pelvis": synthetic.mr_pelvis,
    "pelvis_radiograph": synthetic.pelvis_radiograph,
    "bone_scan": synthetic.bone_scan,
}
HERE = Path(__file__).parent
GENERATORS = [HERE / "synthetic", HERE / "phantoms"]
LIBRARIES = ("numpy", "pydicom", "pillow")
MANIFEST = "files.json"


def cache_folder() -> Path:
    return Path(getattr(settings, "TEACHINGFILE_DEMO_CACHE", Path(settings.BASE_DIR) / ".cache" / "demo"))


def study_files(study: str, options: dict) -> dict[str, bytes]:
    """The files of one synthetic study, as an upload of it would bring them (one series for all its objects)."""
    return _cached("study", {"study": study, "options": options}, lambda: _study_generate(study, options))


def phantom_png(name: str, options: dict) -> bytes:
    """A phantom picture as PNG bytes, as an author's upload of it would be."""
    arguments = {"name": name, "options": options}
    return _cached("phantom", arguments, lambda: {"picture.png": _phantom_generate(name, options)})["picture.png"]


def demo_files(content: dict) -> Iterator[tuple[str, dict]]:
    """What a demo file generates: each synthetic study and each phantom picture, with its arguments."""
    for case in content["cases"]:
        for series in case["series"]:
            if "dicom" in series:
                yield "study", {"study": series["dicom"]["study"], "options": series["dicom"]["options"]}
            for image in series.get("images", []):
                yield "phantom", {"name": image["phantom"], "options": image.get("options", {})}


def demo_files_generate(content: dict, *, workers: int) -> int:
    """Fill the cache with every file of a demo file, on ``workers`` processes; return how many were missing."""
    missing = [item for item in demo_files(content) if not (cache_folder() / _key(*item)).is_dir()]
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(_generate_one, missing))
    return len(missing)


def _generate_one(item: tuple[str, dict]) -> None:
    kind, arguments = item
    if kind == "study":
        study_files(arguments["study"], arguments["options"])
    else:
        phantom_png(arguments["name"], arguments["options"])


def _study_generate(study: str, options: dict) -> dict[str, bytes]:
    datasets = SYNTHETIC_STUDIES[study](patient=synthetic.Patient(), **options)
    for dataset in datasets:  # one demo stage each, e.g. the whole-body views and the spot view of the delayed phase
        dataset.SeriesInstanceUID = datasets[0].SeriesInstanceUID
    return synthetic.planted_study_files(datasets)


def _phantom_generate(name: str, options: dict) -> bytes:
    buffer = io.BytesIO()
    phantoms.render(name, **options).save(buffer, format="PNG")
    return buffer.getvalue()


def _cached(kind: str, arguments: dict, generate: Callable[[], dict[str, bytes]]) -> dict[str, bytes]:
    folder = cache_folder() / _key(kind, arguments)
    try:
        names = json.loads((folder / MANIFEST).read_text())
        return {name: (folder / name).read_bytes() for name in names}
    except (OSError, ValueError):
        files = generate()
    _store(folder, files)
    return files


def _store(folder: Path, files: dict[str, bytes]) -> None:
    """Write the files beside the cache and rename the folder into place: a reader sees all of them or none."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=".partial-", dir=folder.parent))
    for name, data in files.items():
        (partial / name).write_bytes(data)
    (partial / MANIFEST).write_text(json.dumps(list(files)))
    try:
        os.rename(partial, folder)
    except OSError:  # another process stored the same files first
        shutil.rmtree(partial, ignore_errors=True)


def _key(kind: str, arguments: dict) -> str:
    digest = hashlib.sha256(json.dumps([kind, arguments], sort_keys=True).encode())
    digest.update(_generators_digest())
    return digest.hexdigest()[:32]


@functools.cache
def _generators_digest() -> bytes:
    """A hash of the generators' source and of the libraries' versions: what else decides the bytes."""
    digest = hashlib.sha256(",".join(version(name) for name in LIBRARIES).encode())
    for path in sorted(path for folder in GENERATORS for path in folder.rglob("*.py")):
        digest.update(path.relative_to(HERE).as_posix().encode() + path.read_bytes())
    return digest.digest()
