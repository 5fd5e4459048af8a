"""Evidence files, stored once by content (sha256) under $RECTIFY_HOME/evidence/.

Two steps, so that a refusal stores nothing and a record never points at a missing file:
check_upload() checks size and type and hashes the file (nothing is written); keep() copies
it in under its hash (atomically) once the use case has accepted the step, before the commit.
A crash between keep() and the commit leaves at most an unreferenced blob, never a record
without its file.
"""

from __future__ import annotations

import hashlib
import mimetypes
import os
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rectify.models.db import rectify_home
from rectify.models.errors import InvalidInput
from rectify.models.issues import Evidence
from rectify.models.org import User
from rectify.models.policy import Policy

CHUNK = 1 << 20


def evidence_root() -> Path:
    return Path(os.environ.get("RECTIFY_EVIDENCE_DIR") or rectify_home() / "evidence")


def blob_path(sha256: str) -> Path:
    return evidence_root() / sha256[:2] / sha256


@dataclass(frozen=True)
class Upload:
    path: Path
    name: str
    size: int
    media_type: str
    sha256: str

    def row(self, *, uploader: User, now: datetime) -> Evidence:
        return Evidence(sha256=self.sha256, name=self.name, size=self.size, media_type=self.media_type,
                        uploaded_by=uploader, uploaded_at=now)


def media_type_of(name: str, policy: Policy) -> str:
    """The file's type by its name; refused unless the policy accepts it."""
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type not in policy.evidence_media_types:
        raise InvalidInput(f"佐证材料「{name}」类型 {media_type} 不被接受;可上传图片、PDF、Office 文档")
    return media_type


def too_large(name: str, size: int, policy: Policy) -> InvalidInput:
    return InvalidInput(f"佐证材料「{name}」大小 {size / 1048576:.1f} MB,超过上限 "
                        f"{policy.evidence_max_bytes / 1048576:.0f} MB")


def check_upload(path: Path, policy: Policy, *, name: str | None = None) -> Upload:
    """Refuse a missing, empty, too large or disallowed file; hash an accepted one."""
    name = name or path.name
    if not path.is_file():
        raise InvalidInput(f"佐证材料「{path}」不存在或不是文件")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"佐证材料「{name}」是空文件")
    if size > policy.evidence_max_bytes:
        raise too_large(name, size, policy)
    media_type = media_type_of(name, policy)
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
    return Upload(path=path, name=name, size=size, media_type=media_type, sha256=digest.hexdigest())


def keep(upload: Upload) -> Path:
    """Copy the file in under its hash, once: written beside the target, checked, then renamed."""
    target = blob_path(upload.sha256)
    if target.exists():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256()
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as out, upload.path.open("rb") as source:
            for chunk in iter(lambda: source.read(CHUNK), b""):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != upload.sha256:
            raise InvalidInput(f"佐证材料「{upload.name}」在上传过程中被改动,请重新上传")
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
