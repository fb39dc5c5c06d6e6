"""Package test helpers: export a case to bytes, import bytes, build zips by hand."""

import io
import json
import zipfile

from cases.models import Case, Image
from packages.document import case_document, case_for_export
from packages.export import package_write
from packages.importer import package_import


def export_bytes(*cases: Case) -> bytes:
    buffer = io.BytesIO()
    package_write(cases=cases, handle=buffer)
    return buffer.getvalue()


def import_bytes(data: bytes, *, by, **kwargs):
    return package_import(handle=io.BytesIO(data), by=by, **kwargs)


def case_json(case: Case) -> dict:
    return case_document(case_for_export(case.pk)).content


def members(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def zip_of(files: dict[str, bytes | str | dict], *, compression=zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        for name, content in files.items():
            if isinstance(content, dict):
                content = json.dumps(content)
            archive.writestr(name, content)
    return buffer.getvalue()


def stored_names() -> set[str]:
    """Every stored file an image names."""
    rows = Image.objects.values_list("file", "thumbnail", "dicom_file")
    return {name for row in rows for name in row if name}
