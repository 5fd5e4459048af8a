"""Photos made for the tests: a distinct picture per seed with the EXIF a phone writes
(flows.demo_findings.site_photo), and the copy a chat app makes of one."""

from __future__ import annotations

import io

from PIL import Image

from rectify.flows.demo_findings import site_photo


def jpeg(seed: int, **exif) -> bytes:
    return site_photo(seed, **exif)


def recompressed(data: bytes, *, scale: float = 0.5, quality: int = 45) -> bytes:
    """The same photo resized and saved again (what a chat app does to it), without its EXIF."""
    image = Image.open(io.BytesIO(data))
    smaller = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    smaller.save(out, "JPEG", quality=quality)
    return out.getvalue()
