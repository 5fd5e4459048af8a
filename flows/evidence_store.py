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
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from rectify.models.db import rectify_home
from rectify.models.errors import InvalidInput
from rectify.models.issues import Evidence
from rectify.models.org import User
from rectify.models.photos import PhotoFacts, facts_of
from rectify.models.policy import Policy

CHUNK = 1 << 20
NAME_LIMIT = 120  # characters of a stored file name, its extension included
MAX_PIXELS = 60_000_000  # no phone takes more; a "photo" beyond it is a decompression bomb (or 180 MB to decode)
# Types whose content tells only the family: the old Office formats share one container
# (OLE), and HEIC is an ISO media file that puremagic also reads as MP4.
FAMILIES = [{"application/msword", "application/vnd.ms-excel", "application/vnd.ms-powerpoint"},
            {"image/heic", "image/heif", "video/mp4"}]
OOXML = "application/vnd.openxmlformats-officedocument."
OOXML_PARTS = {OOXML + "wordprocessingml.document": "word/document.xml",
               OOXML + "spreadsheetml.sheet": "xl/workbook.xml",
               OOXML + "presentationml.presentation": "ppt/presentation.xml"}
KIND = {"image": "图片", "application/pdf": "PDF 文件", "application/msword": "Word 文档",
        "application/vnd.ms-excel": "Excel 表格", "application/vnd.ms-powerpoint": "PowerPoint 演示文稿"}


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
    facts: PhotoFacts = PhotoFacts()  # a photo's own time, place and perceptual hash

    def row(self, *, uploader: User, now: datetime, taken_at: datetime | None = None,
            position: tuple[float, float] | None = None) -> Evidence:
        """The evidence record. `taken_at` and `position`: what the capture page recorded, used
        where the photo's EXIF says nothing."""
        facts = self.facts
        where = (facts.latitude, facts.longitude) if facts.latitude is not None else position
        return Evidence(sha256=self.sha256, name=self.name, size=self.size, media_type=self.media_type,
                        uploaded_by=uploader, uploaded_at=now, taken_at=facts.taken_at or taken_at,
                        latitude=where[0] if where else None, longitude=where[1] if where else None,
                        phash=facts.phash)


def clean_name(raw: str) -> str:
    """The name a file is stored and shown under: no folders, no control or reserved characters,
    Unicode NFC, at most NAME_LIMIT characters with the extension kept."""
    name = unicodedata.normalize("NFC", raw).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(" " if c.isspace() else c for c in name if c.isspace() or (c.isprintable() and c not in '<>:"|?*'))
    name = " ".join(name.split()).strip(". ")
    stem, dot, ext = name.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, dot, ext = name, "", ""
    stem = stem[:NAME_LIMIT - len(dot + ext)].rstrip(". ")
    return (stem + dot + ext) if stem else "未命名" + dot + ext


def media_type_of(name: str, policy: Policy) -> str:
    """The file's type by its name; refused unless the policy accepts it."""
    media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    if media_type not in policy.evidence_media_types:
        raise InvalidInput(f"佐证材料「{name}」类型 {media_type} 不被接受;可上传图片、PDF、Office 文档",
                           field="evidence")
    return media_type


def too_large(name: str, size: int, policy: Policy) -> InvalidInput:
    return InvalidInput(f"佐证材料「{name}」大小 {size / 1048576:.1f} MB,超过上限 "
                        f"{policy.evidence_max_bytes / 1048576:.0f} MB", field="evidence")


def check_batch(count: int, total: int, policy: Policy) -> None:
    """One step's files together: at most `evidence_max_files`, `evidence_max_request_bytes`."""
    if count > policy.evidence_max_files:
        raise InvalidInput(f"一次最多上传 {policy.evidence_max_files} 份佐证材料,本次有 {count} 份", field="evidence")
    if total > policy.evidence_max_request_bytes:
        raise InvalidInput(f"本次上传的佐证材料合计超过 {policy.evidence_max_request_bytes / 1048576:.0f} MB,"
                           "请分次上传或压缩照片", field="evidence")


def kind_of(media_type: str) -> str:
    office = "Office 文档" if media_type.startswith(OOXML) else None
    return KIND.get(media_type) or KIND.get(media_type.split("/")[0]) or office or media_type


def content_type(path: Path, name: str, declared: str, policy: Policy) -> tuple[str, PhotoFacts]:
    """The content decides the type. The signature at the file's start is read by puremagic from
    the bytes alone (told the name, it trusts the extension); an Office document must have the
    parts of its kind; an image must open and decode (Pillow). A photo whose name says the wrong
    image type is stored as what it is; a web page named .jpg, a program named .pdf or a plain
    zip named .docx is refused."""
    import puremagic

    try:
        with path.open("rb") as stream:
            found = [m.mime_type for m in puremagic.magic_stream(stream) if m.mime_type]
    except (puremagic.PureError, OSError, ValueError):
        found = []
    family = next((f for f in FAMILIES if declared in f), {declared})
    if set(found) & family:
        if not office_parts_present(path, declared):
            raise InvalidInput(f"佐证材料「{name}」不是完整的{kind_of(declared)}(只是压缩包或已损坏);请上传原始文件",
                               field="evidence")
        actual = declared
    else:
        # Only a type the bytes tell on their own: not the Office ones, which share containers.
        actual = next((t for t in found if t in policy.evidence_media_types and t not in OOXML_PARTS
                       and not any(t in f for f in FAMILIES)), "")
        if not actual:
            seen = f"看内容是 {found[0]}" if found else "内容无法识别"
            raise InvalidInput(f"佐证材料「{name}」的名称表明是{kind_of(declared)},但{seen};请上传原始文件",
                               field="evidence")
    if actual.startswith("image/"):
        return actual, decode_image(path, name)
    return actual, PhotoFacts()


def office_parts_present(path: Path, media_type: str) -> bool:
    """An Office Open XML file is a zip with its content types and the main part of its kind."""
    main = OOXML_PARTS.get(media_type)
    if main is None:
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False
    return "[Content_Types].xml" in names and main in names


def decode_image(path: Path, name: str) -> PhotoFacts:
    from PIL import Image
    from pillow_heif import register_heif_opener

    register_heif_opener()
    too_big = InvalidInput(f"佐证材料「{name}」超过 {MAX_PIXELS // 10_000} 万像素,不像一张照片", field="evidence")
    try:
        with Image.open(path) as image:
            if image.width * image.height > MAX_PIXELS:
                raise too_big
            size = image.size
            # JPEG: decode at 1/8, never below 64 pixels a side (the perceptual hash reads those)
            image.draft("RGB", (max(64, image.width // 8), max(64, image.height // 8)))
            image.load()
            return facts_of(image, size)
    except Image.DecompressionBombError:
        raise too_big from None
    except (OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput(f"佐证材料「{name}」不是能打开的图片(文件已损坏或不完整:{exc})",
                           field="evidence") from None


def check_upload(path: Path, policy: Policy, *, name: str | None = None) -> Upload:
    """Refuse a missing, empty, too large, disallowed or mislabelled file; hash an accepted one."""
    name = clean_name(name or path.name)
    if not path.is_file():
        raise InvalidInput(f"佐证材料「{path}」不存在或不是文件")
    size = path.stat().st_size
    if size == 0:
        raise InvalidInput(f"佐证材料「{name}」是空文件")
    if size > policy.evidence_max_bytes:
        raise too_large(name, size, policy)
    media_type, facts = content_type(path, name, media_type_of(name, policy), policy)
    digest = hashlib.sha256()
    with path.open("rb") as source:
        for chunk in iter(lambda: source.read(CHUNK), b""):
            digest.update(chunk)
    return Upload(path=path, name=name, size=size, media_type=media_type, sha256=digest.hexdigest(), facts=facts)


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
