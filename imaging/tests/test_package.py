"""The imaging package stands alone: a plain Python script imports every module without Django."""

import subprocess
import sys
from pathlib import Path

import imaging

ROOT = Path(imaging.__file__).resolve().parent.parent
MODULES = sorted(path.stem for path in Path(imaging.__file__).parent.glob("*.py") if path.stem != "__init__")

SCRIPT = """
import builtins, sys
real = builtins.__import__
def refuse_django(name, *args, **kwargs):
    if name == "django" or name.startswith("django."):
        raise ImportError(f"imaging imported {name}")
    return real(name, *args, **kwargs)
builtins.__import__ = refuse_django
import importlib
for name in sys.argv[1:]:
    importlib.import_module(f"imaging.{name}")
print("imported", len(sys.argv) - 1)
"""


def test_every_imaging_module_imports_without_django_or_settings():
    environment = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT, *MODULES], capture_output=True, text=True, env=environment, cwd="/"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"imported {len(MODULES)}"
    assert {"read", "deidentify", "group", "render"} <= set(MODULES)
