"""The limits one upload is held to, and the error that refuses a file with its reason.

Limits come in as arguments, never from settings (``ingest.spool.ingest_limits`` builds them from the
settings), so the package stays usable from a plain script.
"""

from dataclasses import dataclass

__all__ = ["Limits", "UnreadableFile"]


class UnreadableFile(ValueError):
    """The file cannot be ingested; ``str(error)`` is the reason, in plain words for the author."""


@dataclass(frozen=True)
class Limits:
    """Upper bounds that keep one upload from exhausting memory or time.

    The defaults are sized for real studies and for a worker's memory (docs/decisions.md, "Junk refused
    early, uploads streamed"): one object may hold 128 MiB (a 250-slice enhanced CT, an angiography or
    ultrasound cine, a compressed breast tomosynthesis object), an archive may declare 2 GiB in 20,000
    files, one frame 32 million pixels (a 28-megapixel mammogram, a stitched long-leg radiograph).  The
    archive limits are checked against the sizes an archive declares before anything is
    decompressed; a member is never decompressed past its declared size, nor a deflated data set past
    ``max_file_bytes``.
    """

    max_file_bytes: int = 128 * 1024**2
    max_archive_members: int = 20_000
    max_archive_bytes: int = 2 * 1024**3
    max_pixels_per_frame: int = 32_000_000
    max_frames: int = 2_000
