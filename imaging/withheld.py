"""Keep values read from uploaded files out of logs: pydicom's warnings and log lines quote them.

pydicom reports an invalid value by quoting it ("Invalid value for VR IS:
'MRN8675309'"), both to its ``pydicom`` logger and as a Python warning, and
its character-set and decoder notes quote header text too.  Two layers keep
those words from any log handler:

- ``quiet_pydicom`` wraps the code that parses uploads: pydicom's value
  validation is switched off (we check the attributes we use ourselves, and
  name them) and its warnings are dropped;
- ``WithheldMessage`` is a logging filter the settings put on the handler
  that receives the ``pydicom``, ``pylibjpeg``, ``openjpeg``, ``libjpeg``, ``pynetdicom`` and
  ``py.warnings`` loggers: whatever gets past the first layer (a warning
  raised in another thread, a decoder's log line) reaches the log as its
  logger, level and a fixed text, never its message.
"""

import logging
import re
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

from pydicom import config

__all__ = ["WithheldMessage", "quiet_pydicom"]

_lock = threading.Lock()
_depth = 0
_saved = config.WARN


@contextmanager
def quiet_pydicom() -> Iterator[None]:
    """Parse without pydicom validating values or warning: both would quote the value, which may be PHI.

    ``reading_validation_mode`` is global, so nested and concurrent callers
    share one switch and the last one out restores it.  ``warnings`` filters
    are process-wide too and not thread-safe, which is why the logging filter
    stands behind this.
    """
    global _depth, _saved
    with _lock:
        if _depth == 0:
            _saved = config.settings.reading_validation_mode
            config.settings.reading_validation_mode = config.IGNORE
        _depth += 1
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0:
                config.settings.reading_validation_mode = _saved


# "path:line: Category: message" as logging.captureWarnings formats a warning
_WARNING = re.compile(r"^(?P<where>.*?:\d+): (?P<category>\w+): ", re.DOTALL)


class WithheldMessage(logging.Filter):
    """Replace a record's message, arguments and traceback with a fixed text; keep its logger and level.

    A captured warning keeps its category and the code location that raised
    it (both from the code, not the data), so the operator still knows where
    to look.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name == "py.warnings":
            match = _WARNING.match(str(record.args[0] if record.args else record.msg))
            what = f"A {match['category']} at {match['where']}" if match else "A warning"
        else:
            error = record.exc_info[0] if record.exc_info else None
            what = f"{record.name} reported a problem" + (f" ({error.__name__})" if error else "")
        record.msg = f"{what} (message withheld: it may quote values from an uploaded file)"
        record.args = ()
        record.exc_info = None
        record.exc_text = None
        record.stack_info = None
        return True
