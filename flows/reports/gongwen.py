"""The 党政机关公文格式 (GB/T 9704-2012) as python-docx lays it out, for every document rectify
writes: A4 with the standard's margins (天头 37 mm, 订口 28 mm; a 156 × 225 mm type area),
22 lines of 28 characters, the 发文机关标志 in red over a red separator, the 发文字号, the title
in a 小标宋 face, the body in 仿宋 三号, headings in 黑体 and 楷体, 落款 with 成文日期, and page
numbers "— 1 —" in 四号 宋体, outside on odd and even pages.

The faces are the ones offices have (方正小标宋简体, 仿宋_GB2312, 楷体_GB2312, 黑体); the font table
names a Noto CJK face beside each (`w:altName`), which LibreOffice and a machine without the
government faces use instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement, parse_xml
from docx.oxml.ns import nsdecls, qn
from docx.shared import Mm, Pt, RGBColor
from docx.table import Table
from docx.text.paragraph import Paragraph

TITLE_FACE = "方正小标宋简体"
BODY_FACE = "仿宋_GB2312"
HEADING_FACE = "黑体"
SUBHEADING_FACE = "楷体_GB2312"
NUMBER_FACE = "宋体"
LATIN_FACE = "Times New Roman"
FALLBACKS = {TITLE_FACE: "Noto Serif CJK SC", BODY_FACE: "Noto Serif CJK SC", SUBHEADING_FACE: "Noto Serif CJK SC",
             NUMBER_FACE: "Noto Serif CJK SC", HEADING_FACE: "Noto Sans CJK SC"}

BODY = Pt(16)  # 三号
TITLE = Pt(22)  # 二号
TABLE = Pt(10.5)  # 五号: tables may be set smaller than the body
PAGE_NUMBER = Pt(14)  # 四号
LINE = Pt(28.95)  # 225 mm / 22 lines
TYPE_WIDTH = Mm(156)
RED = RGBColor(0xFF, 0x00, 0x00)


def date_text(day: date) -> str:
    """成文日期 as the standard writes it: Arabic numerals, no leading zeros (2016年9月30日)."""
    return f"{day.year}年{day.month}月{day.day}日"


class Gongwen:
    """One official document: the 版头 on creation, then the body in order, then save()."""

    def __init__(self, *, issuer: str, reference: str, title: str, addressee: str | None, author: str,
                 created: datetime, masthead: str | None = None) -> None:
        self.doc = Document()
        self._page()
        self._styles()
        self._fallbacks()
        self._page_numbers()
        props = self.doc.core_properties
        props.title, props.author, props.created, props.last_modified_by = title, author, created, author
        props.comments = reference
        mark = masthead or f"{issuer}文件"
        # The mark fits the type area: at most 36 pt, smaller for a long office name.
        size = min(36.0, TYPE_WIDTH.pt / max(len(mark), 1) * 0.95)
        self._line(mark, face=TITLE_FACE, size=Pt(size), color=RED, align=WD_ALIGN_PARAGRAPH.CENTER,
                   space_before=Mm(10))
        self._blank()
        self._line(reference, align=WD_ALIGN_PARAGRAPH.CENTER)
        self._separator()
        self._blank()
        self._line(title, face=TITLE_FACE, size=TITLE, align=WD_ALIGN_PARAGRAPH.CENTER, exact=Pt(35))
        self._blank()
        if addressee:
            self._line(f"{addressee}:")

    # -- the body ---------------------------------------------------------------------------
    def paragraph(self, text: str) -> Paragraph:
        """A body paragraph, its first line indented two characters."""
        return self._line(text, indent=True)

    def heading(self, text: str) -> Paragraph:
        """A first-level heading (一、…) in 黑体."""
        return self._line(text, face=HEADING_FACE, indent=True)

    def subheading(self, text: str) -> Paragraph:
        """A second-level heading ((一)…) in 楷体."""
        return self._line(text, face=SUBHEADING_FACE, indent=True)

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[object]], widths_mm: Sequence[float]) -> Table:
        """A ruled table across the type area, its header row repeated on every page."""
        table = self.doc.add_table(rows=1, cols=len(headers))
        table.style = "Table Grid"
        table.alignment = WD_TABLE_ALIGNMENT.CENTER
        table.autofit = False
        scale = TYPE_WIDTH.mm / sum(widths_mm)
        widths = [Mm(w * scale) for w in widths_mm]
        header = table.rows[0]
        header._tr.get_or_add_trPr().append(parse_xml(f'<w:tblHeader {nsdecls("w")} w:val="true"/>'))
        for column, width in zip(table.columns, widths, strict=True):
            column.width = width  # the grid LibreOffice lays out by; each cell carries it too
        for cell, text, width in zip(header.cells, headers, widths, strict=True):
            self._cell(cell, str(text), width, bold=True, face=HEADING_FACE)
        for values in rows:
            cells = table.add_row().cells
            for cell, value, width in zip(cells, values, widths, strict=True):
                self._cell(cell, "" if value is None else str(value), width)
        self._blank()
        return table

    def signature(self, issuer: str, day: date) -> None:
        """落款: the issuing office over the 成文日期, right-aligned four characters in."""
        self._blank()
        self._blank()
        for text in (issuer, date_text(day)):
            paragraph = self._line(text, align=WD_ALIGN_PARAGRAPH.RIGHT)
            paragraph.paragraph_format.right_indent = Pt(BODY.pt * 4)

    def sign_lines(self, parties: Sequence[tuple[str, Sequence[str]]]) -> None:
        """Lines to sign on paper, one block per party: (who, [what is signed])."""
        self._blank()
        for party, lines in parties:
            self._line(party, face=HEADING_FACE)
            for label in lines:
                self._line(f"{label}:________________    日期:______年____月____日", indent=True)

    def note(self, text: str) -> Paragraph:
        """A closing remark under the body (附注), in parentheses as the standard sets it."""
        return self._line(f"({text})", indent=True)

    def save(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.doc.save(str(path))
        return path

    # -- the page ---------------------------------------------------------------------------
    def _page(self) -> None:
        section = self.doc.sections[0]
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
        section.header_distance, section.footer_distance = Mm(15), Mm(20)
        grid = section._sectPr.find(qn("w:docGrid"))
        if grid is None:
            grid = OxmlElement("w:docGrid")
            section._sectPr.append(grid)
        grid.set(qn("w:type"), "lines")
        grid.set(qn("w:linePitch"), str(round(LINE.pt * 20)))

    def _styles(self) -> None:
        normal = self.doc.styles["Normal"]
        normal.font.size = BODY
        _faces(normal.element.get_or_add_rPr(), BODY_FACE)
        fmt = normal.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.EXACTLY
        fmt.line_spacing = LINE
        fmt.space_before = fmt.space_after = Pt(0)

    def _fallbacks(self) -> None:
        """Name a Noto CJK face beside each government face in the font table (w:altName)."""
        part = next(p for p in self.doc.part.package.iter_parts() if p.partname.endswith("/fontTable.xml"))
        table = parse_xml(part.blob)
        for face, fallback in FALLBACKS.items():
            font = OxmlElement("w:font")
            font.set(qn("w:name"), face)
            alt = OxmlElement("w:altName")
            alt.set(qn("w:val"), fallback)
            charset = OxmlElement("w:charset")
            charset.set(qn("w:val"), "86")  # GB2312
            font.extend([alt, charset])
            table.append(font)
        from lxml import etree

        part._blob = etree.tostring(table, xml_declaration=True, encoding="UTF-8", standalone=True)

    def _page_numbers(self) -> None:
        """"— 1 —" in 四号 宋体: odd pages at the right, even pages at the left, one character in."""
        self.doc.settings.odd_and_even_pages_header_footer = True
        section = self.doc.sections[0]
        for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                              (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
            footer.is_linked_to_previous = False
            paragraph = footer.paragraphs[0]
            paragraph.alignment = align
            fmt = paragraph.paragraph_format
            fmt.left_indent = fmt.right_indent = Pt(PAGE_NUMBER.pt)
            fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
            self._run(paragraph, "— ", face=NUMBER_FACE, size=PAGE_NUMBER)
            _page_field(self._run(paragraph, "", face=NUMBER_FACE, size=PAGE_NUMBER))
            self._run(paragraph, " —", face=NUMBER_FACE, size=PAGE_NUMBER)

    # -- pieces -----------------------------------------------------------------------------
    def _line(self, text: str, *, face: str = BODY_FACE, size: Pt = BODY, color: RGBColor | None = None,
              align=WD_ALIGN_PARAGRAPH.JUSTIFY, indent: bool = False, exact: Pt | None = None,
              space_before: Mm | None = None) -> Paragraph:
        paragraph = self.doc.add_paragraph()
        paragraph.alignment = align
        fmt = paragraph.paragraph_format
        if indent:
            fmt.first_line_indent = Pt(BODY.pt * 2)
        if exact is not None or size.pt > BODY.pt:
            fmt.line_spacing = exact or Pt(size.pt * 1.3)
        if space_before is not None:
            fmt.space_before = space_before
        self._run(paragraph, text, face=face, size=size, color=color)
        return paragraph

    def _blank(self) -> None:
        self.doc.add_paragraph()

    def _separator(self) -> None:
        """The red line under the 发文字号, as wide as the type area."""
        paragraph = self.doc.add_paragraph()
        paragraph.paragraph_format.line_spacing = Pt(8)
        borders = parse_xml(f'<w:pBdr {nsdecls("w")}><w:bottom w:val="single" w:sz="12" w:space="1" '
                            f'w:color="FF0000"/></w:pBdr>')
        paragraph._p.get_or_add_pPr().append(borders)

    def _cell(self, cell, text: str, width, *, bold: bool = False, face: str = BODY_FACE) -> None:
        cell.width = width
        paragraph = cell.paragraphs[0]
        fmt = paragraph.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        fmt.space_before = fmt.space_after = Pt(2)
        # Off the page's line grid, or every line in a cell takes a whole body line.
        paragraph._p.get_or_add_pPr().append(parse_xml(f'<w:snapToGrid {nsdecls("w")} w:val="0"/>'))
        paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER if bold or len(text) <= 12 else WD_ALIGN_PARAGRAPH.LEFT
        run = self._run(paragraph, text, face=face, size=TABLE)
        run.bold = bold

    @staticmethod
    def _run(paragraph: Paragraph, text: str, *, face: str, size: Pt, color: RGBColor | None = None):
        run = paragraph.add_run(text)
        run.font.size = size
        run.font.name = LATIN_FACE
        _faces(run._element.get_or_add_rPr(), face)
        if color is not None:
            run.font.color.rgb = color
        return run


def _faces(rpr, east_asian: str) -> None:
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    fonts.set(qn("w:ascii"), LATIN_FACE)
    fonts.set(qn("w:hAnsi"), LATIN_FACE)
    fonts.set(qn("w:eastAsia"), east_asian)


def _page_field(run) -> None:
    """A PAGE field inside `run`: Word and LibreOffice fill in the page's number."""
    begin, instruction, end = OxmlElement("w:fldChar"), OxmlElement("w:instrText"), OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    instruction.set(qn("xml:space"), "preserve")
    instruction.text = "PAGE"
    end.set(qn("w:fldCharType"), "end")
    run._r.extend([begin, instruction, end])
