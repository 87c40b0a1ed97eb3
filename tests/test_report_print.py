"""The report as an office prints it: Decree 30 layout, page numbers, fitted Excel pages, one language."""
from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import time
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

import evidence_fixtures as fx
from evaluation import evidence as ev
from evaluation import i18n
from evaluation.findings import findings_table, review_findings
from evaluation.params import ReviewParams
from evaluation.report import build_report

SOFFICE = shutil.which("soffice")
PDFTOTEXT = shutil.which("pdftotext")


def _stage(folder: Path, lang: str = "vi", synthetic: bool = True) -> Path:
    stage = fx.make_stage(folder, synthetic=synthetic, figures=False)
    by_id = {t.id: t.data for t in fx.all_tables(synthetic=synthetic)}
    from evaluation import figures as fg

    fg.save_figure(fg.uptake_vs_target(by_id["uptake_by_year"], lang), stage, "uptake_vs_target")
    fg.save_figure(fg.communes_vs_target(by_id["uptake_by_commune"], lang), stage, "communes_vs_target")
    fg.save_figure(fg.event_study_plot(by_id["event_study"], lang), stage, "event_study")
    # validation as evaluation.validation reports it (real check names; no student value in the detail)
    quality = pd.DataFrame({"check": ["counseling_missing", "unknown_share", "destination_level"],
                            "table": ["counseling", "graduates", "graduates"], "severity": ["warning", "warning", "error"],
                            "row": [4, 9, 12], "column": ["school_id", "destination", "destination"],
                            "expected": ["a counseling row for each school-year with graduates (the school-year counts "
                                         "as missing, not as uncovered)", "at most 10% of graduates with destination "
                                         "'unknown' (per school, level and year)", "a destination of the level"]})
    ev.write_table(ev.data_quality_table(quality, synthetic=synthetic), stage)
    ev.write_table(findings_table(review_findings(stage), synthetic=synthetic), stage)
    ev.build_index(stage)
    return stage


@pytest.fixture(scope="module")
def vi(tmp_path_factory):
    stage = _stage(tmp_path_factory.mktemp("print_vi"))
    return stage, build_report(stage, ReviewParams())


@pytest.fixture(scope="module")
def en(tmp_path_factory):
    stage = _stage(tmp_path_factory.mktemp("print_en"), lang="en")
    return stage, build_report(stage, ReviewParams(lang="en"))


# --------------------------------------------------------------------------- text of a file
class _Text(HTMLParser):
    def __init__(self):
        super().__init__()
        self.out: list[str] = []
        self.skip = False

    def handle_starttag(self, tag, attrs):
        self.skip = tag in ("style", "script")
        self.out += [v for k, v in attrs if k in ("title", "alt") and v]

    def handle_endtag(self, tag):
        self.skip = False

    def handle_data(self, data):
        if not self.skip:
            self.out.append(data)


def report_text(path: Path) -> str:
    """Every word a reader sees in an .html, .docx or .xlsx report (sheet names included)."""
    if path.suffix == ".html":
        p = _Text()
        p.feed(path.read_text(encoding="utf-8"))
        return "\n".join(p.out)
    if path.suffix == ".docx":
        import docx

        d = docx.Document(str(path))
        parts = [p.text for p in d.paragraphs]
        parts += [c.text for t in d.tables for r in t.rows for c in r.cells]
        for s in d.sections:
            parts += [p.text for p in s.header.paragraphs]
        return "\n".join(parts)
    from openpyxl import load_workbook

    wb = load_workbook(path)
    parts = list(wb.sheetnames)
    for ws in wb:
        parts += [v for r in ws.iter_rows(values_only=True) for v in r if isinstance(v, str)]
    return "\n".join(parts)


def _names(stage: Path) -> list[str]:
    """Proper names that are Vietnamese in either report (communes, trades, institutions)."""
    out: list[str] = []
    for e in ev.read_index(stage):
        df = ev.read_table(stage, e)
        for c in ("commune_name", "trade", "institution_name"):
            if c in df.columns:
                out += [str(v) for v in df[c].dropna().unique()]
    return out


# --------------------------------------------------------------------------- one language
def test_the_vietnamese_report_has_no_english_word_or_code(vi):
    stage, paths = vi
    for kind, path in paths.items():
        bad = i18n.stray_words(report_text(path), "vi", allow=_names(stage))
        assert not bad, f"{kind}: {sorted(set(bad))}"


def test_the_english_report_has_no_vietnamese_word(en):
    stage, paths = en
    for kind, path in paths.items():
        bad = i18n.stray_words(report_text(path), "en", allow=_names(stage))
        assert not bad, f"{kind}: {sorted(set(bad))}"


def test_the_scanner_would_catch_a_stray_code(vi, tmp_path):
    """The scan above can fail: a raw code in a Vietnamese file is found."""
    stage, paths = vi
    html = paths["html"].read_text(encoding="utf-8").replace("Hiệu ứng cố định hai chiều (TWFE)", "twfe_logit")
    bad_file = tmp_path / "x.html"
    bad_file.write_text(html, encoding="utf-8")
    assert "twfe_logit" in i18n.stray_words(report_text(bad_file), "vi", allow=_names(stage))


def test_the_sample_review_report_is_wholly_vietnamese(sample_bundle):
    """The report of the full review on the sample (every notebook, the runner's own report)."""
    for path in sorted((sample_bundle / "report").glob("*_vi.*")):
        bad = i18n.stray_words(report_text(path), "vi", allow=_names(sample_bundle))
        assert not bad, f"{path.name}: {sorted(set(bad))[:20]}"


# --------------------------------------------------------------------------- Word
def _xml(path: Path, member_re: str) -> str:
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if re.fullmatch(member_re, n))


def test_word_report_has_the_administrative_form_of_decree_30(vi):
    import docx

    _, paths = vi
    d = docx.Document(str(paths["docx"]))
    head = d.tables[0]
    left, right = head.cell(0, 0).text, head.cell(0, 1).text
    assert left == "ỦY BAN NHÂN DÂN\nHUYỆN CÀNG LONG"
    assert right == "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc"
    assert head.cell(1, 0).text == "Số: …/BC-UBND" and head.cell(1, 1).text == "Càng Long, ngày … tháng … năm 2025"
    text = "\n".join(p.text for p in d.paragraphs)
    assert "BÁO CÁO\n" + ReviewParams().title_vi in text
    parts = ["I. KẾT QUẢ THỰC HIỆN", "1. Phân luồng học sinh sau THCS và sau THPT",
             "2. Đội ngũ giáo viên tư vấn hướng nghiệp (ưu tiên trường phổ thông dân tộc nội trú)",
             "3. Khảo sát nhu cầu lao động", "4. Mạng lưới cơ sở giáo dục nghề nghiệp",
             "5. Bảo đảm tiếp cận bình đẳng (ưu tiên các xã có đông đồng bào Khmer)",
             "II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN", "III. PHƯƠNG HƯỚNG, NHIỆM VỤ ĐẾN NĂM 2030",
             "IV. KIẾN NGHỊ, ĐỀ XUẤT", "Phụ lục 1. Các bảng số liệu",
             "Phụ lục 2. Ghi chú phương pháp và giải thích thuật ngữ"]
    headings = [p.text for p in d.paragraphs if p.style.name.startswith("Heading")]
    assert [h for h in headings if h in parts] == parts
    sig = next(t for t in d.tables if t.cell(0, 0).text.startswith("Nơi nhận"))
    assert sig.cell(0, 0).text.startswith("Nơi nhận:\n- UBND tỉnh Trà Vinh (b/c);")
    assert sig.cell(0, 1).text.startswith("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH")
    # page numbers: a PAGE field at the top centre, none on the first page; a TOC field updated on opening
    assert "PAGE" in _xml(paths["docx"], r"word/header\d+\.xml")
    document = _xml(paths["docx"], r"word/document\.xml")
    assert "<w:titlePg/>" in document and 'TOC \\o "1-2"' in document
    assert '<w:updateFields w:val="true"/>' in _xml(paths["docx"], r"word/settings\.xml")
    sec = d.sections[0]
    assert (round(sec.page_width.cm, 1), round(sec.page_height.cm, 1)) == (21.0, 29.7)
    assert round(sec.left_margin.cm, 1) == 3.0 and d.styles["Normal"].font.name == "Times New Roman"


def test_word_narrative_states_the_numbers_of_the_tables(vi):
    """II. names the THCS shortfall computed from uptake_by_year: 2025, 160/420 = 38,1 % vs 40 %."""
    import docx

    stage, paths = vi
    up = ev.read_table(stage, "uptake_by_year")
    r = up[(up["level"] == "THCS") & (up["year"] == 2025)].iloc[0]
    gap = i18n.pp((r["target"] - r["target_rate"]) * 100, "vi")
    assert gap == "1,9 điểm %"
    text = "\n".join(p.text for p in docx.Document(str(paths["docx"])).paragraphs)
    part2 = text[text.rindex("II. TỒN TẠI"):text.rindex("III. PHƯƠNG HƯỚNG")]  # after the table of contents
    assert f"Tỷ lệ học nghề sau THCS năm 2025 (38,1 %) còn thấp hơn chỉ tiêu 40 % là {gap}." in part2
    assert "Khmer" in part2  # the adjusted Khmer gap's interval lies below zero in the fixture


def test_word_tables_have_fitted_column_widths(vi):
    import docx
    from docx.oxml.ns import qn

    _, paths = vi
    d = docx.Document(str(paths["docx"]))
    evidence = [t for t in d.tables if t.rows[0].cells[0].text == "Cấp học"]
    for t in evidence:
        widths = [int(g.get(qn("w:w"))) for g in t._tbl.tblGrid.findall(qn("w:gridCol"))]
        assert abs(sum(widths) / 567 - 25.7) < 0.1  # the landscape text width, in cm
        assert len(set(widths)) > 1  # not equal columns
    findings = next(t for t in d.tables if t.rows[0].cells[0].text == "STT")
    w = [int(g.get(qn("w:w"))) for g in findings._tbl.tblGrid.findall(qn("w:gridCol"))]
    assert w[1] == max(w) and w[1] > 3 * w[0]  # the sentence column is the wide one


def test_reruns_give_byte_identical_files(vi, tmp_path):
    stage, paths = vi
    first = {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in paths.items()}
    time.sleep(2.1)  # zip entries store the time in 2-second steps
    again = build_report(stage, ReviewParams())
    assert {k: hashlib.sha256(p.read_bytes()).hexdigest() for k, p in again.items()} == first
    with zipfile.ZipFile(paths["docx"]) as z:
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


@pytest.mark.skipif(not (SOFFICE and PDFTOTEXT), reason="LibreOffice and poppler-utils render the report to PDF")
def test_word_file_prints_with_the_national_heading_and_page_numbers(vi, tmp_path):
    _, paths = vi
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(paths["docx"])], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (paths["docx"].stem + ".pdf")
    pages = subprocess.run([PDFTOTEXT, "-layout", str(pdf), "-"], capture_output=True, text=True,
                           check=True).stdout.split("\f")
    assert len(pages) > 3
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in pages[0] and "Độc lập - Tự do - Hạnh phúc" in pages[0]
    assert not re.match(r"\s*1\s*\n", pages[0])  # no number on the first page
    for k in (2, 3):
        assert re.match(rf"\s*{k}\s*\n", pages[k - 1]), pages[k - 1][:80]


# --------------------------------------------------------------------------- Excel
def test_every_sheet_prints_landscape_fitted_to_the_page_width(vi):
    from openpyxl import load_workbook

    _, paths = vi
    wb = load_workbook(paths["xlsx"])
    assert "findings" not in wb.sheetnames and "Phát hiện chính" in wb.sheetnames
    for ws in wb:
        ps = ws.page_setup
        assert ps.orientation == "landscape" and str(ps.paperSize) == "9", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ps.fitToWidth in (1, None), ws.title
        assert ws.print_area, ws.title
        assert "&P" in (ws.oddFooter.center.text or ""), ws.title
    for name in wb.sheetnames[1:-2]:
        assert wb[name].print_title_rows == "$3:$3", name  # the header row repeats on every page
        assert wb[name].page_setup.fitToHeight == 0, name


def test_excel_number_formats_by_unit_and_wrapped_text(vi):
    from openpyxl import load_workbook

    _, paths = vi
    ws = load_workbook(paths["xlsx"])["Phát hiện chính"]
    head = [c.value for c in ws[3]]
    rows = list(ws.iter_rows(min_row=4))
    by_unit = {}
    for r in rows:
        unit = r[head.index("Đơn vị")].value if "Đơn vị" in head else None
        if r[0].value is None or r[0].value == "–":
            continue
        by_unit.setdefault(unit, r[head.index("Giá trị")])
    assert by_unit["tỷ lệ"].number_format == "0.0%"
    assert by_unit["xã"].number_format == "#,##0"
    assert by_unit["điểm %"].number_format == "0.0"
    sentence = rows[0][head.index("Nội dung")]
    assert sentence.alignment.wrap_text


@pytest.mark.skipif(not (SOFFICE and PDFTOTEXT), reason="LibreOffice and poppler-utils render the workbook to PDF")
def test_excel_prints_every_column_on_a4_landscape(vi, tmp_path):
    _, paths = vi
    subprocess.run([SOFFICE, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo", "--convert-to", "pdf",
                    "--outdir", str(tmp_path), str(paths["xlsx"])], check=True, capture_output=True, timeout=180)
    pdf = tmp_path / (paths["xlsx"].stem + ".pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    assert re.search(r"Page size:\s+84[12]\.\d+ x 59[45]\.\d+", info), info
    text = subprocess.run([PDFTOTEXT, str(pdf), "-"], capture_output=True, text=True).stdout
    pages = text.split("\f")
    # one page wide: each sheet's last column header is on the sheet's first page
    from openpyxl import load_workbook

    wb = load_workbook(paths["xlsx"])
    for name in wb.sheetnames[1:-2]:
        ws = wb[name]
        last = [c.value for c in ws[3] if c.value][-1]
        title = ws["A1"].value
        first = next(p for p in pages if " ".join(p.split())[:400].count(title.split(".")[0] + ".")
                     and "Danh mục bảng" not in p)
        assert " ".join(last.split())[:12] in " ".join(first.split()), (name, last)
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) <= 2 * len(wb.sheetnames)


# --------------------------------------------------------------------------- HTML
def test_html_has_summary_on_top_print_rules_and_figures_beside_their_tables(vi):
    _, paths = vi
    html = paths["html"].read_text(encoding="utf-8")
    assert html.index('id="summary"') < html.index('id="part-1"') < html.index('data-table-id="findings"')
    assert "@page { size: A4" in html and "thead { display: table-header-group; }" in html
    assert "break-inside: avoid" in html
    block = html[html.index('id="tbl-uptake_by_year"'):html.index('id="tbl-uptake_by_commune"')]
    assert 'id="fig-uptake_vs_target"' in block  # the figure sits beside its table
    summary = html[html.index('id="summary"'):html.index('id="part-1"')]
    assert "38,1 %" in summary and "40 %" in summary and "Chưa đạt" in summary


def test_headline_numbers_come_from_the_tables(vi):
    from evaluation.narrative import headline

    stage, _ = vi
    tables = {e["id"]: ev.read_table(stage, e) for e in ev.read_index(stage)}
    h = {x.source + x.indicator[-30:]: x for x in headline(tables, "en")}
    thpt = next(x for x in headline(tables, "en") if x.indicator.startswith("Vocational uptake after THPT"))
    assert (thpt.value, thpt.target, thpt.status) == ("12.0 %", "45 %", "not_met")
    cov = next(x for x in headline(tables, "en") if x.indicator.startswith("THPT schools"))
    assert cov.value == "66.7 %" and cov.status == "not_met"
    assert len(h) >= 6
    assert isinstance(pd.DataFrame([x.__dict__ for x in headline(tables, "vi")]), pd.DataFrame)


def test_the_report_says_what_changed_since_the_last_review(vi, tmp_path):
    """With the previous review's bundle, part I ends with the change in each headline indicator."""
    import json

    import docx

    stage, _ = vi
    prev = tmp_path / "prev"
    up = fx.uptake_by_year_frame()
    ev.write_table(ev.uptake_by_year_table(up[up["year"] <= 2024], min_cell=5), prev)
    ev.build_index(prev)
    (prev / "manifest.json").write_text(json.dumps({"cycle": "cang_long_2018_2024",
                                                    "parameters": {"district": "Huyện Càng Long"}}), encoding="utf-8")
    out = tmp_path / "cur"
    shutil.copytree(stage / "evidence", out / "evidence")
    paths = build_report(out, ReviewParams(), previous=prev)
    text = "\n".join(p.text for p in docx.Document(str(paths["docx"])).paragraphs)
    part = text[text.rindex("6. So với kỳ sơ kết trước"):text.rindex("II. TỒN TẠI")]
    assert ("Tỷ lệ học nghề (mọi trình độ), năm cuối (THCS): 34,1 % ở kỳ trước, 38,1 % ở kỳ này (+3,9 điểm %)."
            in part)
    assert "6. So với kỳ sơ kết trước" in paths["html"].read_text(encoding="utf-8")
    assert not i18n.stray_words(report_text(paths["docx"]), "vi", allow=_names(out))
