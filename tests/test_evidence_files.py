"""Evidence files are judged by their content (issue 16): the magic bytes must agree with the
name, a photo must open, one step's files are bounded together, and names are cleaned. Through
the API, the page and the CLI's use case; a refusal stores nothing."""

from __future__ import annotations

import io
import struct
import zipfile
import zlib

import pytest
from fastapi.testclient import TestClient
from samples import ANALYSIS, image
from sqlalchemy import func, select
from test_web_pages import csrf, login
from webworld import DAY0, build

from rectify.flows import issue_actions as act
from rectify.flows.context import unit_of_work
from rectify.flows.evidence_store import NAME_LIMIT, clean_name
from rectify.models.errors import InvalidInput
from rectify.models.issues import Evidence
from rectify.web.app import create_app
from rectify.web.headers import MAX_BODY

AS_OF = "2016-08-23 10:00"
ELF = open("/bin/ls", "rb").read()[:4096]  # a program
HTML = "<html><body><script>alert(1)</script>现场</body></html>".encode()


def docx(*, real: bool = True) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        if real:
            z.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/'
                       'package/2006/content-types"/>')
            z.writestr("word/document.xml", "<w:document/>")
        else:
            z.writestr("readme.txt", "not a document")
    return out.getvalue()


def huge_png(width: int, height: int) -> bytes:
    """A PNG header claiming more pixels than any photo (a decompression bomb's opening)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b""))


@pytest.fixture()
def world(fresh_db):
    return build(fresh_db)


@pytest.fixture()
def client(world):
    with TestClient(create_app(url=world.url, as_of=AS_OF)) as c:
        yield c


def submit(client, world, code: str, *files: tuple[str, bytes]):
    headers = {"Authorization": f"Bearer {world.tokens[world.handler]}"}
    client.post(f"/api/issues/{code}/sign", headers=headers)
    return client.post(f"/api/issues/{code}/submit", headers=headers, data={**ANALYSIS, "measures": "已加固墙体"},
                       files=[("files", (name, content, "application/octet-stream")) for name, content in files])


def stored(world) -> list[tuple[str, str]]:
    with unit_of_work(DAY0, url=world.url) as ctx:
        return [tuple(r) for r in ctx.session.execute(select(Evidence.name, Evidence.media_type))]


@pytest.mark.parametrize(("name", "content", "says"), [
    ("现场照片.jpg", HTML, "看内容是 text/html"),
    ("验收报告.pdf", ELF, "PDF 文件"),
    ("整改方案.docx", docx(real=False), "不是完整的Office 文档"),
    ("现场照片.jpg", image(b"cut", "jpg")[:120], "不是能打开的图片"),
    ("全景.png", huge_png(9_000, 9_000), "不像一张照片"),
    ("空白.png", b"\x89PNG\r\n\x1a\n", "不是能打开的图片"),
])
def test_a_file_whose_content_is_not_what_its_name_says_is_refused(client, world, name, content, says):
    answer = submit(client, world, world.codes["household"], (name, content), ("门.jpg", image(b"door", "jpg")))
    assert answer.status_code == 400 and says in answer.json()["error"] and name in answer.json()["error"]
    assert stored(world) == []


def test_real_photos_documents_and_a_phones_heic_are_accepted_as_what_they_are(client, world):
    answer = submit(client, world, world.codes["household"], ("墙体.heic", image(b"wall", "heic")),
                    ("方案.docx", docx()), ("屋顶.webp", image(b"roof", "webp")))
    assert answer.status_code == 200, answer.text
    assert sorted(stored(world)) == [
        ("墙体.heic", "image/heic"), ("屋顶.webp", "image/webp"),
        ("方案.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document")]


def test_a_photo_named_with_the_wrong_image_type_is_stored_as_what_it_is(client, world):
    assert submit(client, world, world.codes["household"], ("截图.jpg", image(b"shot", "png"))).status_code == 200
    assert stored(world) == [("截图.jpg", "image/png")]


def test_the_heic_photo_satisfies_the_site_photo_rule(client, world):
    # H06 (住房) needs a photo: a document alone is refused, the phone's HEIC photo counts.
    alone = submit(client, world, world.codes["household"], ("方案.docx", docx()))
    assert alone.status_code == 400 and "现场照片" in alone.json()["error"]
    assert submit(client, world, world.codes["household"], ("方案.docx", docx()),
                  ("墙体.heic", image(b"wall", "heic"))).status_code == 200


def test_one_steps_files_are_bounded_in_number_and_in_total(client, world):
    many = [(f"{n}.png", image(bytes([n]))) for n in range(11)]
    refused = submit(client, world, world.codes["assigned"], *many)
    assert refused.status_code == 400 and "一次最多上传 10 份" in refused.json()["error"]
    big = [(f"{n}.pdf", b"%PDF-1.4\n" + bytes(18 << 20)) for n in range(3)]  # 54 MB, each under 20 MB
    refused = submit(client, world, world.codes["assigned"], *big)
    assert refused.status_code == 400 and "合计超过 50 MB" in refused.json()["error"]
    assert stored(world) == []


def test_a_body_over_the_ceiling_is_refused_before_it_is_read(client, world):
    answer = client.post(f"/api/issues/{world.codes['assigned']}/submit", content=b"x" * (MAX_BODY + 1),
                         headers={"Authorization": f"Bearer {world.tokens[world.handler]}",
                                  "content-type": "multipart/form-data; boundary=x"})
    assert answer.status_code == 413 and "请求过大" in answer.text
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_names_lose_folders_and_control_characters_and_keep_their_extension_within_the_bound():
    assert clean_name("..\\..\\windows\\现场.jpg") == "现场.jpg" and clean_name("../../etc/a.png") == "a.png"
    assert clean_name("照片\x00\u202e\t1 .png") == "照片 1.png" and clean_name("e\u0301.pdf") == "\u00e9.pdf"
    long = clean_name("长" * 300 + ".jpeg")
    assert len(long) == NAME_LIMIT and long.endswith("长.jpeg")
    assert clean_name("...") == "未命名" and clean_name(".png") == "png"


def test_a_long_name_is_stored_bounded_and_served_with_its_type(client, world):
    name = "现场" * 150 + ".png"
    assert submit(client, world, world.codes["assigned"], (name, image(b"long"))).status_code == 200
    (kept, media_type), = stored(world)
    assert len(kept) == NAME_LIMIT and kept.endswith(".png") and media_type == "image/png"
    unit = login(client.app, world.handler)
    with unit_of_work(DAY0, url=world.url) as ctx:
        piece = ctx.session.scalars(select(Evidence)).one()
    served = unit.get(f"/evidence/{piece.id}/{kept}")
    assert served.status_code == 200 and served.headers["content-disposition"].startswith("inline")
    assert served.headers["x-content-type-options"] == "nosniff"


def test_a_document_is_served_as_a_download_never_inline(client, world):
    submit(client, world, world.codes["household"], ("方案.docx", docx()), ("墙.jpg", image(b"w", "jpg")))
    unit = login(client.app, world.handler)
    with unit_of_work(DAY0, url=world.url) as ctx:
        piece = ctx.session.scalars(select(Evidence).where(Evidence.name == "方案.docx")).one()
    served = unit.get(f"/evidence/{piece.id}/方案.docx")
    assert served.status_code == 200 and served.headers["content-disposition"].startswith("attachment")


def test_the_page_says_which_file_is_wrong_and_keeps_nothing(client, world):
    unit = login(client.app, world.handler)
    code = world.codes["household"]
    page = f"/issues/{code}"
    unit.post(f"{page}/act/sign", data={"csrf": csrf(unit, page)})
    answer = unit.post(f"{page}/act/submit", data={"csrf": csrf(unit, page), **ANALYSIS, "measures": "已加固"},
                       files=[("files", ("现场照片.jpg", HTML, "image/jpeg"))])
    assert "现场照片.jpg" in answer.text and "text/html" in answer.text
    assert stored(world) == []


def test_the_command_lines_files_meet_the_same_checks(world, tmp_path):
    fake = tmp_path / "现场照片.jpg"
    fake.write_bytes(HTML)
    with unit_of_work(DAY0, url=world.url) as ctx:
        act.sign(ctx, world.codes["household"], actor=world.handler)
    with pytest.raises(InvalidInput, match="看内容是 text/html"):
        with unit_of_work(DAY0, url=world.url) as ctx:
            act.submit(ctx, world.codes["household"], actor=world.handler,
                **ANALYSIS, measures="已加固", evidence=[fake])
    with unit_of_work(DAY0, url=world.url) as ctx:
        assert ctx.session.scalar(select(func.count()).select_from(Evidence)) == 0
