"""Reading stored files as requests need them: on object storage one GET each, and a stack's files several at
a time. django-storages' own file asks HEAD before it downloads an object whole, and a stack read one file
after the other waits one round trip per slice (docs/storage.md)."""

from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import IO

from botocore.exceptions import ClientError
from django.core.files.storage import default_storage

# Reads in flight for a stack on object storage: enough to hide the round trips, few enough for one request.
READ_AHEAD = 8


def stored_on_disk() -> bool:
    """Whether media are files on this host's disk (else on object storage)."""
    return getattr(default_storage, "bucket", None) is None


def stored_open(name: str) -> tuple[IO[bytes], int]:
    """Return a stored file open for reading and its size; raise ``FileNotFoundError`` when it is not stored."""
    bucket = getattr(default_storage, "bucket", None)
    if bucket is None:
        handle = default_storage.open(name, "rb")
        return handle, handle.size
    return _object_open(bucket.meta.client, bucket.name, name)


def _object_open(client, bucket: str, name: str) -> tuple[IO[bytes], int]:
    try:
        stored = client.get_object(Bucket=bucket, Key=name)
    except ClientError as error:
        if error.response["Error"]["Code"] in ("NoSuchKey", "404"):
            raise FileNotFoundError(name) from error
        raise
    return stored["Body"], stored["ContentLength"]


def stored_read(name: str) -> bytes | None:
    """Return a stored file's bytes, or None when it is not stored."""
    return _read(stored_open, name)


def stored_reads(names: Iterable[str]) -> Iterator[bytes | None]:
    """Yield the bytes of each stored file in order (None for one not stored), reading ahead on object storage."""
    bucket = getattr(default_storage, "bucket", None)
    if bucket is None:
        yield from map(stored_read, names)
        return
    # One client for the threads (boto3's clients are thread-safe; the storage would make a session per thread).
    client = bucket.meta.client

    def opened(name: str) -> tuple[IO[bytes], int]:
        return _object_open(client, bucket.name, name)

    with ThreadPoolExecutor(READ_AHEAD) as pool:
        pending = deque()
        for name in names:
            pending.append(pool.submit(_read, opened, name))
            if len(pending) >= READ_AHEAD:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _read(opener, name: str) -> bytes | None:
    try:
        handle, _ = opener(name)
    except FileNotFoundError:
        return None
    with handle:
        return handle.read()
