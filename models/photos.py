"""What a photo says about itself: when and where it was taken (EXIF), and a perceptual hash.

The facts are read once, when the file is accepted, and kept on its evidence row, so the
纸面销号 checks (models.suspicion) compare numbers, never reopen images:
- `taken_at`: EXIF DateTimeOriginal (its offset if written, else the deployment's zone);
- `latitude`, `longitude`: the EXIF GPS position;
- `phash`: a 64-bit difference hash (dHash) of the picture, as 16 hex digits. A resized or
  recompressed copy keeps its hash within a few bits; another picture differs in about half.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone, tzinfo

from rectify.models.calendar import SHANGHAI

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
DATETIME_ORIGINAL, OFFSET_ORIGINAL, DATETIME = 36867, 36881, 306
HASH_SIDE = 8
# A picture too small or too plain to tell apart from another gets no hash: below this many
# pixels on a side, or with fewer than this many bits set (or unset) of its 64.
HASH_MIN_SIDE, HASH_MIN_BITS = 32, 8
EARTH_KM = 6371.0088


@dataclass(frozen=True)
class PhotoFacts:
    taken_at: datetime | None = None
    latitude: float | None = None
    longitude: float | None = None
    phash: str | None = None


def facts_of(image, original_size: tuple[int, int] | None = None) -> PhotoFacts:
    """The facts of an opened PIL image. `original_size`: its size before a reduced decode
    (PIL's draft), which is what "too small to hash" is judged on."""
    try:
        exif = image.getexif()
    except (OSError, ValueError, SyntaxError):
        exif = None
    taken = position = None
    if exif:
        taken = _exif_time(exif)
        position = _exif_position(exif)
    return PhotoFacts(taken_at=taken, latitude=position[0] if position else None,
                      longitude=position[1] if position else None,
                      phash=_telling_hash(image, original_size or image.size))


def _telling_hash(image, size: tuple[int, int]) -> str | None:
    if min(size) < HASH_MIN_SIDE:
        return None
    phash = difference_hash(image)
    ones = int(phash, 16).bit_count()
    return phash if HASH_MIN_BITS <= ones <= HASH_SIDE * HASH_SIDE - HASH_MIN_BITS else None


def difference_hash(image) -> str:
    """dHash: the picture in grey at 9×8, one bit per pair of horizontal neighbours."""
    small = image.convert("L").resize((HASH_SIDE + 1, HASH_SIDE), resample=_lanczos())
    pixels = small.tobytes()
    bits = 0
    for row in range(HASH_SIDE):
        for col in range(HASH_SIDE):
            left = pixels[row * (HASH_SIDE + 1) + col]
            bits = (bits << 1) | (left > pixels[row * (HASH_SIDE + 1) + col + 1])
    return f"{bits:016x}"


def hash_distance(a: str, b: str) -> int:
    return (int(a, 16) ^ int(b, 16)).bit_count()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(a)))


def valid_position(latitude: object, longitude: object) -> tuple[float, float] | None:
    """A latitude and longitude as floats, or None for anything that is not a place on Earth."""
    try:
        lat, lon = float(latitude), float(longitude)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    if lat == 0 and lon == 0:  # "no fix" as some cameras write it
        return None
    return lat, lon


def _lanczos():
    from PIL import Image

    return Image.Resampling.LANCZOS


def _exif_time(exif) -> datetime | None:
    sub = exif.get_ifd(EXIF_IFD)
    raw = sub.get(DATETIME_ORIGINAL) or exif.get(DATETIME)
    if not isinstance(raw, str):
        return None
    try:
        local = datetime.strptime(raw.strip().rstrip("\x00")[:19], "%Y:%m:%d %H:%M:%S")
    except ValueError:
        return None
    offset = sub.get(OFFSET_ORIGINAL)
    zone: tzinfo = SHANGHAI
    if isinstance(offset, str) and len(offset) >= 6 and offset[0] in "+-":
        try:
            sign = 1 if offset[0] == "+" else -1
            zone = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[4:6])))
        except ValueError:
            pass
    return local.replace(tzinfo=zone).astimezone(timezone.utc)


def _exif_position(exif) -> tuple[float, float] | None:
    gps = exif.get_ifd(GPS_IFD)
    if not gps or 2 not in gps or 4 not in gps:
        return None
    try:
        lat = _degrees(gps[2]) * (-1 if str(gps.get(1, "N")).upper().startswith("S") else 1)
        lon = _degrees(gps[4]) * (-1 if str(gps.get(3, "E")).upper().startswith("W") else 1)
    except (TypeError, ValueError, ZeroDivisionError, IndexError):
        return None
    return valid_position(lat, lon)


def _degrees(value) -> float:
    d, m, s = (float(part) for part in value)
    return d + m / 60 + s / 3600
