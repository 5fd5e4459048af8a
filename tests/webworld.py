"""What the web tests share: users with passwords and tokens, problems in a known state."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work
from rectify.models.accounts import new_token, set_password
from rectify.models.calendar import SHANGHAI
from rectify.models.lookup import get_user
from rectify.models.places import County, Township, Village

DAY0 = datetime(2016, 8, 22, 10, 0, tzinfo=SHANGHAI)
PASSWORD = "rectify-2016"


def _png() -> bytes:
    """A valid 8×8 PNG (browsers draw it), made here rather than shipped."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([200, 60, 40]) * 8 for _ in range(8))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 8, 8, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


PNG = _png()


@dataclass
class WebWorld:
    url: str
    county: str
    unit: str
    handler: str
    other_unit: str
    other_handler: str
    coordinator: str = "色达县督查办"
    verifier: str = "核验员01"
    leader: str = "州领导13"
    tokens: dict[str, str] = field(default_factory=dict)
    codes: dict[str, str] = field(default_factory=dict)  # state -> a problem code in it


def build(url: str) -> WebWorld:
    """Two 色达县 villages with their units; passwords and API tokens for every role used;
    problems assigned to the first unit, one to the second."""
    with unit_of_work(DAY0, url=url) as ctx:
        s = ctx.session
        county = s.scalars(select(County).where(County.name == "色达县")).one()
        villages = s.scalars(select(Village).join(Township).where(Township.county_id == county.id)
                             .order_by(Village.id)).all()
        first = villages[0]
        second = next(v for v in villages if v.assisting_unit_id != first.assisting_unit_id)
        world = WebWorld(url=url, county=county.name, unit=first.assisting_unit.name,
                         handler=f"{first.assisting_unit.name}经办人", other_unit=second.assisting_unit.name,
                         other_handler=f"{second.assisting_unit.name}经办人")
        for name in (world.handler, world.other_handler, world.coordinator, world.verifier, world.leader):
            user = get_user(s, name)
            set_password(user, PASSWORD)
            s.flush()
            world.tokens[name] = new_token(s, user, label="tests")
        for key, village in (("assigned", first), ("assigned2", first), ("other", second)):
            issue = act.record(ctx, actor="督导员13", county=county.name, township=village.township.name,
                               village=village.name, item="V10", description=f"作战图未上墙({key})", severity="较重",
                               unit=village.assisting_unit.name)
            world.codes[key] = issue.code
        home = act.record(ctx, actor="督导员13", county=county.name, township=first.township.name, village=first.name,
                          household=first.households[0].registry_no, item="H06", description="住房墙体开裂",
                          severity="严重", unit=first.assisting_unit.name)
        world.codes["household"] = home.code
        triage = act.record(ctx, actor="督导员13", county=county.name, township=first.township.name,
                            village=first.name, item="V16", description="帮扶方案未制定", severity="一般")
        world.codes["triage"] = triage.code
    return world


def at(world: WebWorld, days: float):
    return unit_of_work(DAY0 + timedelta(days=days), url=world.url)


def login(app, name: str, password: str = PASSWORD):
    """A browser (TestClient) logged in as `name` through the login form."""
    import re

    from fastapi.testclient import TestClient

    client = TestClient(app)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/login").text).group(1)
    response = client.post("/login", data={"name": name, "password": password, "csrf": token})
    assert response.status_code == 200, response.text
    return client


def take_step(client, code: str, name: str, files=None, **fields) -> str:
    """Fill and send the form of step `name` on a problem's page, as a person would (its CSRF
    token and version from the page, `files` as its file inputs); the page it lands on."""
    import re

    page = client.get(f"/issues/{code}").text
    form = page[page.index(f'id="form-{name}"'):]
    data = {"csrf": re.search(r'name="csrf" value="([^"]+)"', form).group(1),
            "version": re.search(r'name="version" value="(\d+)"', form).group(1), **fields}
    response = client.post(f"/issues/{code}/act/{name}", data=data, files=files)
    assert response.status_code == 200, response.text
    return response.text
