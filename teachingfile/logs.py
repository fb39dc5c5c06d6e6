"""The logging set-up: Django's dictConfig of ``LOGGING``, with Python warnings routed into logging."""

import logging
import logging.config


def configure(config: dict) -> None:
    """Apply ``LOGGING`` and send warnings to the "py.warnings" logger, where ``LOGGING`` decides their fate.

    Django no longer captures warnings itself; left alone, a warning is
    printed to stderr whole, and pydicom's quote header values.
    """
    logging.config.dictConfig(config)
    logging.captureWarnings(True)
