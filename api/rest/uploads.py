"""Resumable, chunked uploads: the file grows in the private file store until complete.

State lives beside the data in the file store (``uploads/<id>/``), so any
worker of a scaled deployment can take the next chunk.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import secrets
from dataclasses import asdict, dataclass, field
from typing import Any, BinaryIO

from werkzeug.utils import secure_filename

from indexer.storage import FileStore
from schema.errors import CGDError, Conflict, InvalidInput, NotFound, Problem

UPLOAD_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
CONTENT_RANGE = re.compile(r"^bytes (\d+)-(\d+)/(\d+)$")


class TooLarge(CGDError):
    def __init__(self, limit: int) -> None:
        super().__init__(
            message=f"The file is larger than the limit of {limit} bytes.",
            code="file_too_large",
            status=413,
            problems=[Problem("file_too_large", f"Limit: {limit} bytes.", field="file")],
        )


@dataclass
class Upload:
    id: str
    dataset_id: str
    organisation_id: int
    actor: str
    filename: str
    size: int
    columns: dict[str, Any] = field(default_factory=dict)
    received: int = 0
    complete: bool = False

    @property
    def prefix(self) -> str:
        return f"uploads/{self.id}"


def _state_path(files: FileStore, upload_id: str):
    return files.path(f"uploads/{upload_id}/state.json")


def _save(files: FileStore, upload: Upload) -> None:
    path = _state_path(files, upload.id)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(asdict(upload)))
    os.replace(tmp, path)


def start(
    files: FileStore,
    *,
    dataset_id: str,
    organisation_id: int,
    actor: str,
    filename: str,
    size: int,
    columns: dict[str, Any] | None,
    max_bytes: int,
) -> Upload:
    if size > max_bytes:
        raise TooLarge(max_bytes)
    upload = Upload(
        id=secrets.token_urlsafe(18),
        dataset_id=dataset_id,
        organisation_id=organisation_id,
        actor=actor,
        filename=filename,
        size=size,
        columns=dict(columns or {}),
    )
    data = files.path(f"{upload.prefix}/data")
    data.parent.mkdir(parents=True, exist_ok=True)
    data.touch()
    _save(files, upload)
    return upload


def load(files: FileStore, upload_id: str, actor: str) -> Upload:
    """An upload, only for whoever started it (another token or person gets 'not found')."""
    if not UPLOAD_ID.match(upload_id or ""):
        raise NotFound("No such upload.", code="upload_not_found")
    path = _state_path(files, upload_id)
    if not path.exists():
        raise NotFound("No such upload.", code="upload_not_found")
    upload = Upload(**json.loads(path.read_text()))
    if upload.actor != actor:
        raise NotFound("No such upload.", code="upload_not_found")
    return upload


def parse_content_range(header: str | None, length: int, upload: Upload) -> int:
    """Where this chunk starts; the chunk must continue exactly where the file ends."""
    if not header:
        return upload.received
    match = CONTENT_RANGE.match(header.strip())
    if not match:
        raise InvalidInput(
            "Bad Content-Range.",
            [
                Problem(
                    "invalid_content_range", "Use 'bytes START-END/TOTAL'.", field="Content-Range"
                )
            ],
        )
    start_, end, total = (int(g) for g in match.groups())
    if total != upload.size or end < start_ or end - start_ + 1 != length:
        raise InvalidInput(
            "Content-Range does not match the chunk or the announced size.",
            [
                Problem(
                    "invalid_content_range",
                    f"Expected total {upload.size} and a range the size of the body.",
                    field="Content-Range",
                )
            ],
        )
    return start_


def append(
    files: FileStore, upload: Upload, stream: BinaryIO, *, start_at: int, chunk_limit: int
) -> Upload:
    """Append one chunk; refuses a chunk that does not start at the current end."""
    if upload.complete:
        raise Conflict("This upload is complete.", code="upload_complete")
    data = files.path(f"{upload.prefix}/data")
    with open(data, "r+b") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        received = os.fstat(fh.fileno()).st_size
        if start_at != received:
            raise Conflict(
                f"The next chunk must start at byte {received}.", code="upload_offset_mismatch"
            )
        fh.seek(received)
        written = 0
        while chunk := stream.read(1 << 20):
            written += len(chunk)
            if written > chunk_limit:
                fh.truncate(received)
                raise TooLarge(chunk_limit)
            if received + written > upload.size:
                fh.truncate(received)
                raise InvalidInput(
                    "More bytes than announced.",
                    [
                        Problem(
                            "size_exceeded",
                            f"The upload was announced as {upload.size} bytes.",
                            field="size",
                        )
                    ],
                )
            fh.write(chunk)
        fh.flush()
        upload.received = received + written
        _save(files, upload)
    return upload


def finish(files: FileStore, upload: Upload, target_key: str) -> None:
    """Move the finished file to its place; the upload cannot be used again."""
    if upload.received != upload.size:
        raise Conflict(
            f"Only {upload.received} of {upload.size} bytes have arrived.", code="upload_incomplete"
        )
    if upload.complete:
        raise Conflict("This upload is complete.", code="upload_complete")
    target = files.path(target_key)
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(files.path(f"{upload.prefix}/data"), target)
    upload.complete = True
    _save(files, upload)


_EXTENSION = re.compile(r"\.([A-Za-z0-9]{1,10})$")


DEFAULT_CHUNK_BYTES = 8 * 1024 * 1024


def chunk_bytes(config) -> int:
    """The chunk size resumable uploads announce (CGD_UPLOAD_CHUNK_BYTES), both interfaces."""
    return int(config.get("UPLOAD_CHUNK_BYTES") or DEFAULT_CHUNK_BYTES)


def store_filename(name: str | None, *, field: str = "file") -> str:
    """An ASCII name for the store; a name in another script (``सर्वेक्षण.csv``) keeps its extension."""
    raw = (name or "").strip()
    safe = secure_filename(raw)
    ext = _EXTENSION.search(raw)
    if ext and "." not in safe:
        # secure_filename drops every non-ASCII letter, leaving "csv" of "सर्वेक्षण.csv".
        safe = f"upload.{ext.group(1)}"
    if not safe or "." not in safe:
        raise InvalidInput(
            "The file needs a name with an extension (.csv, .xlsx, .json, ...).",
            [Problem("invalid_filename", "Name the file with its extension.", field=field)],
        )
    return safe[:200]
