"""Real files for the evidence checks: images that Pillow made and can open again."""

from __future__ import annotations

import hashlib
import io

from PIL import Image

FORMATS = {"png": "PNG", "jpg": "JPEG", "jpeg": "JPEG", "gif": "GIF", "webp": "WEBP", "heic": "HEIF"}


def image(seed: bytes = b"", kind: str = "png", size: tuple[int, int] = (16, 16)) -> bytes:
    """A small picture whose pixels come from `seed`: the same seed gives the same bytes, another
    seed another file (the duplicate-evidence rules tell files apart by their hash)."""
    if kind == "heic":
        from pillow_heif import register_heif_opener

        register_heif_opener()
    colour = tuple(hashlib.sha256(seed).digest()[:3])
    picture = Image.new("RGB", size, colour)
    picture.putpixel((0, 0), tuple(255 - c for c in colour))
    out = io.BytesIO()
    picture.save(out, FORMATS[kind])
    return out.getvalue()


def for_name(name: str, seed: bytes) -> bytes:
    """`seed` turned into a real file of the type the name says, where it names an image."""
    kind = name.rsplit(".", 1)[-1].lower()
    return image(seed, kind) if kind in FORMATS else seed


# What a submission says beyond its measures (原因分析, 举一反三, 建章立制): the seeds' policy asks
# for the cause on every problem and for all three on a grave one.
ANALYSIS = {"cause": "日常巡查不到位,隐患未及时发现",
            "spread": "已对全乡同类住房逐户排查,未发现同类问题",
            "rules": "建立住房安全季度排查制度,见附件"}
