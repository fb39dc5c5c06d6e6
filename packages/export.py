"""Write a case, or a collection of cases, as a package zip."""

import json
import logging
import zipfile
from collections.abc import Iterable
from typing import IO

from django.core.files.storage import default_storage

from cases.models import Case

from .document import case_document, case_for_export
from .schema import CASE_FILE, COLLECTION_FILE, COLLECTION_FORMAT, VERSION

logger = logging.getLogger(__name__)

STORED_ALREADY = (".png", ".jpg", ".jpeg")  # compressed images gain nothing from deflate


def package_write(*, cases: Iterable[Case], handle: IO[bytes]) -> int:
    """Write the package of one case (``case.json`` at the top), or of several (``collection.json`` and a
    folder per case), to ``handle``; return how many cases it holds."""
    cases = list(cases)
    with zipfile.ZipFile(handle, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        if len(cases) == 1:
            _write_case(archive, cases[0], folder="")
        else:
            folders = [f"case-{number}" for number in range(1, len(cases) + 1)]
            for case, folder in zip(cases, folders, strict=True):
                _write_case(archive, case, folder=f"{folder}/")
            collection = {"format": COLLECTION_FORMAT, "version": VERSION, "cases": folders}
            archive.writestr(COLLECTION_FILE, json.dumps(collection, indent=2))
    logger.info("Exported a package of %d case(s)", len(cases))
    return len(cases)


def _write_case(archive: zipfile.ZipFile, case: Case, *, folder: str) -> None:
    document = case_document(case_for_export(case.pk))
    archive.writestr(folder + CASE_FILE, json.dumps(document.content, indent=2, ensure_ascii=False))
    for member, stored in sorted(document.files.items()):
        info = zipfile.ZipInfo(folder + member, date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED if member.endswith(STORED_ALREADY) else zipfile.ZIP_DEFLATED
        with default_storage.open(stored, "rb") as source, archive.open(info, "w", force_zip64=True) as target:
            _copy(source, target)


def _copy(source: IO[bytes], target: IO[bytes]) -> None:
    while chunk := source.read(1024 * 1024):
        target.write(chunk)


def package_name(cases: list[Case]) -> str:
    """Name the download: the case number for one case, a count for a collection."""
    if len(cases) == 1:
        return f"{cases[0].number}-package.zip"
    return f"{len(cases)}-cases-package.zip"
