"""Uploaded files from a form or an API call, checked before anything is stored: how many and
the type by name first, then each file's size and the step's total while reading (stopping at
the limit), then the content (flows/evidence_store.check_upload)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi import UploadFile

from rectify.flows.evidence_store import CHUNK, Upload, check_batch, check_upload, clean_name, media_type_of, too_large
from rectify.models.policy import Policy


@contextmanager
def received(files: list[UploadFile] | None, policy: Policy) -> Iterator[list[Upload]]:
    """The accepted uploads, in temporary files removed when the block ends."""
    folder = Path(tempfile.mkdtemp(prefix="rectify-upload-"))
    try:
        uploads = []
        parts = [f for f in files or () if f.filename]
        check_batch(len(parts), 0, policy)
        total = 0
        for index, part in enumerate(parts):
            name = clean_name(part.filename or "")
            media_type_of(name, policy)
            path = folder / str(index)
            size = 0
            with path.open("wb") as out:
                while chunk := part.file.read(CHUNK):
                    size += len(chunk)
                    total += len(chunk)
                    if size > policy.evidence_max_bytes:
                        raise too_large(name, size, policy)
                    check_batch(len(parts), total, policy)
                    out.write(chunk)
            uploads.append(check_upload(path, policy, name=name))
        yield uploads
    finally:
        shutil.rmtree(folder, ignore_errors=True)
