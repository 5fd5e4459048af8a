"""Evidence files, stored once by content (sha256) under $RECTIFY_HOME/evidence/."""

from __future__ import annotations

import hashlib
import mimetypes
import os
import shutil
import tempfile
from datetime import datetime
from pathlib import Path

from models.db import rectify_home
from models.errors import InvalidInput
from models.issues import Evidence
from models.org import User
from models.policy import Policy


def evidence_root() -> Path:
    return Path(os.environ.get("RECTIFY_EVIDENCE_DIR") or rectify_home() / "evidence")


def blob_path(sha256: str) -> Path:
    return evidence_root() / sha256[:2] / sha256


def store_file(path: Path, *, uploader: User, now: datetime, policy: Policy) -> Evidence:
    """Check the file against the policy, copy it in by hash; the row is attached by the caller."""
    if not path.is_file():
        raise InvalidInput(f"佐证材料「{path}」不存在或不是文件")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"佐证材料「{path.name}」是空文件")
    if size > policy.evidence_max_bytes:
        raise InvalidInput(
            f"佐证材料「{path.name}」大小 {size / 1048576:.1f} MB,超过上限 "
            f"{policy.evidence_max_bytes / 1048576:.0f} MB"
        )
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if media_type not in policy.evidence_media_types:
        raise InvalidInput(
            f"佐证材料「{path.name}」类型 {media_type} 不被接受;可上传图片、PDF、Office 文档"
        )
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(1 << 20), b""):
            digest.update(chunk)
    sha = digest.hexdigest()
    target = blob_path(sha)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        # Write beside the target, then rename: a crash never leaves half a blob under its hash.
        with tempfile.NamedTemporaryFile(dir=target.parent, delete=False) as tmp:
            with path.open("rb") as source:
                shutil.copyfileobj(source, tmp)
        os.replace(tmp.name, target)
    return Evidence(
        sha256=sha,
        name=path.name,
        size=size,
        media_type=media_type,
        uploaded_by=uploader,
        uploaded_at=now,
    )
