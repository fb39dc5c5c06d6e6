"""The pages' JavaScript modules in a release: each imports the others by their hashed names."""

import re
import shutil
from pathlib import PurePosixPath

from django.conf import settings

from teachingfile.storage import StaticFilesStorage

IMPORT = re.compile(r"""^import .* from "(?P<url>[^"]+)";$""", re.MULTILINE)


def test_modules_import_each_other_by_hashed_name(tmp_path):
    shutil.copytree(settings.BASE_DIR / "static" / "js", tmp_path / "js")
    storage = StaticFilesStorage(location=tmp_path, base_url="/static/")
    names = [str(path.relative_to(tmp_path)) for path in (tmp_path / "js").rglob("*.js")]
    for name, _hashed, processed in storage.post_process({name: (storage, name) for name in names}):
        assert not isinstance(processed, Exception), f"{name}: {processed}"

    imports = 0
    for name in names:
        hashed = PurePosixPath(storage.stored_name(name))
        for url in IMPORT.findall((tmp_path / hashed).read_text()):
            imports += 1
            assert re.search(r"\.[0-9a-f]{12}\.js$", url), f"{name} imports {url}, not a hashed name"
            assert (tmp_path / hashed.parent / url).resolve().is_file(), f"{name} imports {url}, which is missing"
    assert imports >= 10
