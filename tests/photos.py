"""Photos made for the tests: a distinct picture per seed, with the EXIF a phone writes."""

from __future__ import annotations

import io
import random
from datetime import datetime

from PIL import Image, ImageDraw


def picture(seed: int, size: tuple[int, int] = (640, 480)) -> Image.Image:
    """Blocks of colour at places drawn from `seed`: two seeds give unrelated pictures."""
    rng = random.Random(seed)
    image = Image.new("RGB", size, tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(image)
    w, h = size
    for _ in range(12):
        x, y = rng.randrange(w), rng.randrange(h)
        draw.rectangle((x, y, x + rng.randrange(w // 8, w // 2), y + rng.randrange(h // 8, h // 2)),
                       fill=tuple(rng.randrange(256) for _ in range(3)))
    return image


def jpeg(seed: int, *, taken: datetime | None = None, at: tuple[float, float] | None = None,
         size: tuple[int, int] = (640, 480), quality: int = 90, image: Image.Image | None = None) -> bytes:
    """A JPEG of picture(seed) (or `image`); `taken` (local time) and `at` (lat, lon) as EXIF."""
    exif = Image.Exif()
    if taken is not None:
        exif.get_ifd(0x8769)[36867] = taken.strftime("%Y:%m:%d %H:%M:%S")
        if taken.utcoffset() is not None:
            offset = int(taken.utcoffset().total_seconds() // 60)
            exif.get_ifd(0x8769)[36881] = f"{'+' if offset >= 0 else '-'}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    if at is not None:
        exif.get_ifd(0x8825).update({1: "N" if at[0] >= 0 else "S", 2: _dms(abs(at[0])),
                                     3: "E" if at[1] >= 0 else "W", 4: _dms(abs(at[1]))})
    out = io.BytesIO()
    (image or picture(seed, size)).save(out, "JPEG", quality=quality, exif=exif)
    return out.getvalue()


def recompressed(data: bytes, *, scale: float = 0.5, quality: int = 45) -> bytes:
    """The same photo resized and saved again (what a chat app does to it), without its EXIF."""
    image = Image.open(io.BytesIO(data))
    smaller = image.resize((int(image.width * scale), int(image.height * scale)))
    out = io.BytesIO()
    smaller.save(out, "JPEG", quality=quality)
    return out.getvalue()


def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 2)
