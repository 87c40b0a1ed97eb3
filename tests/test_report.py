"""The human report: workbook, Word appendix and HTML page built from a hand-made staging folder."""
from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

import evidence_fixtures as fx
from evaluation import evidence as ev
from evaluation import i18n
from evaluation.params import ReviewParams
from evaluation.report import UI, build_report, format_value, is_synthetic


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    return fx.make_stage(tmp_path_factory.mktemp("stage"), synthetic=True)


@pytest.fixture(scope="module")
def report_vi(stage):
    return build_report(stage, ReviewParams())


@pytest.fixture(scope="module")
def index(stage):
    return ev.read_index(stage)


def test_paths_and_names(stage, report_vi):
    assert set(report_vi) == {"xlsx", "docx", "html"}
    for kind, p in report_vi.items():
        assert p == stage / "report" / f"cang_long_2018_2025_vi.{kind}" and p.stat().st_size > 1000


def test_workbook_has_a_formatted_sheet_per_table(report_vi, index):
    from openpyxl import load_workbook

    wb = load_workbook(report_vi["xlsx"])
    names = wb.sheetnames
    assert names[0] == "Bìa" and names[-2:] == ["Ghi chú phương pháp", "Biểu đồ"]
    assert len(names) == len(index) + 3 and all(len(n) <= 31 for n in names)
    cover = wb["Bìa"]
    assert cover["A1"].value == UI["vi"]["synthetic_banner"]
    assert cover["A1"].font.b and cover["A1"].font.color.rgb.endswith("B00020")
    ws = wb["Học nghề theo năm"]
    assert ws.freeze_panes == "A4"
    assert ws.auto_filter.ref.startswith("A3:")
    headers = [c.value for c in ws[3]]
    assert headers[:9] == ["Cấp học", "Năm tốt nghiệp", "Số HS tốt nghiệp", "Số HS học nghề", "Tỷ lệ học nghề",
                           "Tỷ lệ không rõ hướng đi", "Tỷ lệ theo định nghĩa chỉ tiêu", "Chỉ tiêu", "Đạt chỉ tiêu"]
    first = {h: c for h, c in zip(headers, ws[4])}
    assert first["Tỷ lệ học nghề"].value == pytest.approx(120 / 400)
    assert first["Tỷ lệ học nghề"].number_format == "0.0%"
    assert first["Số HS tốt nghiệp"].number_format == "#,##0"
    assert first["Đạt chỉ tiêu"].value == "Chưa đạt"
    eff = wb["Tác động tổng thể"]
    eh = [c.value for c in eff[3]]
    assert eff.cell(row=4, column=eh.index("Ước lượng (điểm %)") + 1).number_format == "0.0"
    # suppressed cell is empty in the workbook
    com = wb["Học nghề theo xã"]
    ch = [c.value for c in com[3]]
    rows = [[c.value for c in r] for r in com.iter_rows(min_row=4, max_row=15)]
    small = [r for r in rows if r[ch.index("Mã xã")] == "29296" and r[0] == "THPT" and r[1] == 2025][0]
    assert small[ch.index("Tỷ lệ học nghề")] == "–" and small[ch.index("Ẩn (ít HS)")] == "Có"
    com_text = " ".join(str(c.value) for r in com.iter_rows() for c in r if c.value)
    assert "Dấu – trong ô: số liệu bị ẩn vì tính từ ít hơn 5 học sinh" in com_text
    notes = wb["Ghi chú phương pháp"]
    text = " ".join(str(c.value) for r in notes.iter_rows() for c in r if c.value)
    for e in index:
        for n in e["notes"]["vi"]:
            assert i18n.localize(n, "vi") in text
    assert "KTC 95 %" in text and "TWFE" in text  # the glossary
    assert len(wb["Biểu đồ"]._images) == 3


def test_docx_holds_every_table_and_the_notice(report_vi, index):
    import docx

    d = docx.Document(str(report_vi["docx"]))
    body = "\n".join(p.text for p in d.paragraphs)
    assert UI["vi"]["synthetic_banner"] in body
    assert body.index(UI["vi"]["synthetic_banner"]) < body.index("Bảng 1.")
    for k, e in enumerate(sorted(index, key=lambda e: list(ev.TABLES).index(e["id"])), start=1):
        assert f"Bảng {k}. {e['title_vi']}" in body
    # heading, summary, signature, glossary + one per evidence table, each with its rows
    evidence = [t for t in d.tables if t.rows[0].cells[0].text == "Cấp học"]
    assert len(d.tables) == 4 + len(index)
    by_rows = {len(t.rows) - 1 for t in evidence}
    assert 12 in by_rows  # uptake_by_commune: 2 levels x 2 years x 3 communes
    up = evidence[0]
    assert up.rows[0].cells[4].text == "Tỷ lệ học nghề" and up.rows[1].cells[4].text == "30,0 %"
    assert len(d.inline_shapes) == 3
    assert d.sections[0].page_width < d.sections[0].page_height  # the report: A4 portrait
    assert d.sections[-1].page_width > d.sections[-1].page_height  # the appendix of tables: landscape


class _Tables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.rows: dict[str, int] = {}
        self.current = None
        self.imgs = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and "data-table-id" in a:
            self.current = a["data-table-id"]
            self.rows[self.current] = 0
        elif tag == "tr" and self.current:
            self.rows[self.current] += 1
        elif tag == "img":
            self.imgs.append(a.get("src", ""))

    def handle_endtag(self, tag):
        if tag == "table":
            self.current = None


def test_html_is_self_contained_with_every_table(report_vi, index):
    html = report_vi["html"].read_text(encoding="utf-8")
    assert re.search(r'<html lang="vi">', html)
    assert UI["vi"]["synthetic_banner"] in html and 'id="synthetic-notice"' in html
    p = _Tables()
    p.feed(html)
    assert set(p.rows) == {e["id"] for e in index}
    for e in index:
        assert p.rows[e["id"]] == e["rows"] + 1, e["id"]  # header + data rows
        assert e["title_vi"] in html
    assert len(p.imgs) == 3 and all(s.startswith("data:image/png;base64,") for s in p.imgs)
    assert "http://" not in html and "https://" not in html and "<link" not in html and "<script" not in html
    assert "30,0 %" in html and "Tỷ lệ học nghề" in html


def test_english_report_and_no_notice_on_real_data(tmp_path):
    stage = fx.make_stage(tmp_path / "real", synthetic=False, lang="en", figures=False)
    assert not is_synthetic(stage, ReviewParams())
    paths = build_report(stage, ReviewParams(lang="en"))
    html = paths["html"].read_text(encoding="utf-8")
    assert '<html lang="en">' in html and paths["html"].name == "cang_long_2018_2025_en.html"
    assert UI["en"]["synthetic_banner"] not in html and "synthetic-notice" not in html
    assert "Vocational uptake" in html and "30.0 %" in html
    # the marker file switches the notice on
    ev.mark_synthetic(stage)
    assert is_synthetic(stage, ReviewParams())
    html2 = build_report(stage, ReviewParams(lang="en"))["html"].read_text(encoding="utf-8")
    assert UI["en"]["synthetic_banner"] in html2
    assert not is_synthetic(stage, ReviewParams(), synthetic=False)


def test_report_needs_an_index(tmp_path):
    with pytest.raises(FileNotFoundError, match="call evidence.build_index first"):
        build_report(tmp_path, ReviewParams())


@pytest.mark.parametrize("value, fmt, lang, expected", [
    (0.41278, "rate", "vi", "41,3 %"), (0.41278, "rate", "en", "41.3 %"), (-3.456, "pp", "vi", "-3,5"),
    (12345, "count", "vi", "12.345"), (12345, "count", "en", "12,345"), (0.0004, "p", "en", "< 0.001"),
    (True, "bool", "vi", "Có"), (None, "rate", "en", "–"), (2025, "year", "vi", "2025"),
])
def test_format_value(value, fmt, lang, expected):
    assert format_value(value, fmt, lang) == expected
