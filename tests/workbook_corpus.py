"""A corpus of district workbooks in the shapes offices send, each with the counts it must import to.

The tests' own generator: every workbook is written here at run time with openpyxl from one small
made-up district (five schools of Càng Long with real commune codes, three graduation years), so
each shape's expected result is known exactly: the graduates table the truth holds for the
levels and years the shape covers. Nothing binary is committed.

Shapes (``SHAPES``): wide by destination, long, a sheet per year, a sheet per school, commune
subtotal rows, two header rows, three header rows with a numbering row, notes and signature rows,
hidden columns, totals as formulas (with the values Excel saves), numbers as text with dots for
thousands, TCVN3 text, NFD text, headers only meaning matches ("Vào GDTX", "(3) Học TC",
"Cột 7 - Sơ cấp"), a column placed by ``--map``, and the workbook the issue measured (a sheet
per year, merged two-row header, NFD, a total column, "Vào GDTX"). ``BROKEN`` holds deliberately broken
variants, each with the one problem it must be refused for.
"""
from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import openpyxl
import pandas as pd

from evaluation.contract import DESTINATIONS
from evaluation.importer.vntext import unicode_to_tcvn3
from evaluation.reference import commune_crosswalk

YEARS = (2019, 2020, 2021)
#: id, name, commune code, level
SCHOOLS = [
    ("S01", "Trường THCS Thị trấn Càng Long", "29266", "THCS"),
    ("S02", "Trường THCS Mỹ Cẩm", "29269", "THCS"),
    ("S03", "Trường THCS An Trường", "29275", "THCS"),
    ("S04", "Trường THCS Nhị Long Phú", "29299", "THCS"),
    ("S05", "Trường THPT Càng Long", "29266", "THPT"),
    ("S06", "Trường THPT Mỹ Cẩm", "29269", "THPT"),
]
SHORT = {"S01": "THCS TT Càng Long", "S02": "THCS Mỹ Cẩm", "S03": "THCS An Trường", "S04": "THCS Nhị Long Phú",
         "S05": "THPT Càng Long", "S06": "THPT Mỹ Cẩm"}
COMMUNE_OF = {sid: c for sid, _, c, _ in SCHOOLS}
LEVEL_OF = {sid: lv for sid, _, _, lv in SCHOOLS}
NAME_OF = {sid: n for sid, n, _, _ in SCHOOLS}
#: Destination headers as a clerk writes them (wide layouts).
HEAD = {"thpt": "Vào THPT", "gdtx": "Vào GDTX", "voc_intermediate": "Học trung cấp", "voc_elementary": "Học sơ cấp",
        "employment": "Đi làm", "other": "Khác", "unknown": "Không rõ", "university": "Đại học",
        "voc_college": "Cao đẳng"}
#: Destination cells of a long layout (the template's labels and other spellings).
LONG_WORDS = {"thpt": "Học THPT", "gdtx": "GDTX", "voc_intermediate": "Trung cấp", "voc_elementary": "Sơ cấp",
              "employment": "Đi làm", "other": "Khác", "unknown": "Không rõ", "university": "Đại học",
              "voc_college": "Cao đẳng"}


def count(sid: str, year: int, dest: str) -> int:
    """The made-up number of graduates of a school, year and destination (all positive; THPT
    Càng Long sends more than a thousand to university, so thousands separators occur)."""
    k = int(sid[1:]) * 7 + (year - 2018) * 13 + DESTINATIONS[LEVEL_OF[sid]].index(dest) * 29
    n = (k * 37) % 97 + 3
    if sid == "S05" and dest == "university":
        n = 1180 + (year - 2019) * 61
    return n


def truth() -> pd.DataFrame:
    """The graduates table every shape must import to (or the part of it the shape holds)."""
    rows = [(sid, y, LEVEL_OF[sid], d, count(sid, y, d))
            for sid, *_ in SCHOOLS for y in YEARS for d in DESTINATIONS[LEVEL_OF[sid]]]
    return pd.DataFrame(rows, columns=["school_id", "year", "level", "destination", "students"])


def base_folder(root: Path) -> Path:
    """Schools, communes and counseling of the district (the tables the corpus workbooks lack)."""
    cw = commune_crosswalk()
    folder = root / "base"
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame({"commune_code": cw["commune_code"], "commune_name": cw["commune_name"],
                  "district_name": cw["district_name"], "province_name": cw["province_name"],
                  "khmer_share": 0.05, "disadvantaged": False}).to_csv(folder / "communes.csv", index=False)
    pd.DataFrame([(sid, n, c, lv, False) for sid, n, c, lv in SCHOOLS],
                 columns=["school_id", "school_name", "commune_code", "levels", "ethnic_boarding"]
                 ).to_csv(folder / "schools.csv", index=False)
    pd.DataFrame([(sid, y, 2, 1) for sid, *_ in SCHOOLS for y in YEARS],
                 columns=["school_id", "year", "counselors", "trained_counselors"]).to_csv(
        folder / "counseling.csv", index=False)
    return folder


def nfd(s):
    return unicodedata.normalize("NFD", s) if isinstance(s, str) else s


def tcvn3(s):
    return unicode_to_tcvn3(s) if isinstance(s, str) else s


def dots(n: int) -> str:
    """1234 -> "1.234" (Vietnamese thousands), as text."""
    return f"{n:,}".replace(",", ".")


# ------------------------------------------------------------------------------------------------
# Writing helpers
# ------------------------------------------------------------------------------------------------
def _title(ws, level: str, year: int | None = None, width: int = 8) -> None:
    t = f"BÁO CÁO KẾT QUẢ PHÂN LUỒNG HỌC SINH SAU TỐT NGHIỆP {level}"
    ws.append(["PHÒNG GIÁO DỤC VÀ ĐÀO TẠO HUYỆN CÀNG LONG"])
    ws.append([t + (f" NĂM HỌC {year - 1}-{year}" if year else "")])
    ws.merge_cells(start_row=2, start_column=1, end_row=2, end_column=width)
    ws.append([])


def _schools(level: str) -> list[str]:
    return [sid for sid, *_ in SCHOOLS if LEVEL_OF[sid] == level]


def save_with_values(wb: openpyxl.Workbook, path: Path, values: dict[tuple[str, str], int]) -> Path:
    """Save ``wb`` and give its formula cells the results Excel would have saved
    (``values[(sheet, "E7")]``): openpyxl writes formulas without results."""
    buf = io.BytesIO()
    wb.save(buf)
    zin = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    order = {ws.title: i for i, ws in enumerate(wb.worksheets, start=1)}
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            data = zin.read(item.filename)
            m = re.fullmatch(r"xl/worksheets/sheet(\d+)\.xml", item.filename)
            if m:
                title = next(t for t, i in order.items() if i == int(m.group(1)))
                xml = data.decode("utf-8")
                for (sheet, ref), v in values.items():
                    if sheet != title:
                        continue
                    pat = re.compile(r'(<c r="' + ref + r'"[^>]*>)<f>([^<]*)</f>(?:<v\s*/>|<v>[^<]*</v>)?')
                    xml, n = pat.subn(lambda mm: f"{mm.group(1)}<f>{mm.group(2)}</f><v>{v}</v>", xml)
                    assert n == 1, (sheet, ref)
                data = xml.encode("utf-8")
            zout.writestr(item, data)
    path.write_bytes(out.getvalue())
    return path


def _wide_sheet(ws, level: str, years: tuple[int, ...], *, heads: dict[str, str] | None = None,
                total_col: bool = True, year_col: bool = True, text=lambda s: s, numbers=lambda n: n,
                school_ids: list[str] | None = None) -> None:
    """A one-row header wide table: STT, Tên trường, [Năm], [Số HS tốt nghiệp], destinations."""
    heads = heads or HEAD
    dests = DESTINATIONS[level]
    head = ["STT", "Tên trường"] + (["Năm"] if year_col else []) \
        + ([f"Số HS tốt nghiệp {level}"] if total_col else []) + [heads[d] for d in dests]
    ws.append([text(h) for h in head])
    i = 0
    for y in years:
        for sid in school_ids or _schools(level):
            i += 1
            ns = [count(sid, y, d) for d in dests]
            ws.append([i, text(SHORT[sid])] + ([y] if year_col else []) + ([numbers(sum(ns))] if total_col else [])
                      + [numbers(n) for n in ns])


# ------------------------------------------------------------------------------------------------
# The shapes
# ------------------------------------------------------------------------------------------------
def wide_by_destination(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THCS"
    _title(ws, "THCS")
    _wide_sheet(ws, "THCS", YEARS)
    ws = wb.create_sheet("Tốt nghiệp THPT")
    _title(ws, "THPT")
    _wide_sheet(ws, "THPT", YEARS)
    p = d / "wide.xlsx"
    wb.save(p)
    return [p]


def long_layout(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Số liệu tốt nghiệp"
    ws.append(["Mã trường", "Năm học", "Cấp học", "Hướng đi sau tốt nghiệp", "Số HS"])
    t = truth()
    for r in t.sample(frac=1.0, random_state=3).itertuples(index=False):  # any row order
        ws.append([r.school_id, f"{r.year - 1}-{r.year}", r.level, LONG_WORDS[r.destination], r.students])
    p = d / "long.xlsx"
    wb.save(p)
    return [p]


def sheet_per_year(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for y in YEARS:
        ws = wb.create_sheet(f"Tốt nghiệp THCS {y - 1}-{y}")
        _title(ws, "THCS", y)
        _wide_sheet(ws, "THCS", (y,), year_col=False)
    p = d / "per_year.xlsx"
    wb.save(p)
    return [p]


def sheet_per_school(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sid in _schools("THPT"):
        ws = wb.create_sheet(SHORT[sid])
        ws.append([f"KẾT QUẢ PHÂN LUỒNG HỌC SINH TỐT NGHIỆP - {NAME_OF[sid].upper()}"])
        ws.append([])
        dests = DESTINATIONS["THPT"]
        ws.append(["Năm tốt nghiệp", "Tổng số"] + [HEAD[x] for x in dests] + ["Tỷ lệ học nghề (%)"])
        for y in YEARS:
            ns = [count(sid, y, x) for x in dests]
            voc = sum(n for x, n in zip(dests, ns) if x.startswith("voc_"))
            ws.append([y, sum(ns)] + ns + [round(100 * voc / sum(ns), 1)])  # a rate worked out from the counts
    p = d / "per_school.xlsx"
    wb.save(p)
    return [p]


def commune_subtotals(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THCS 2020"
    _title(ws, "THCS", 2020)
    dests = DESTINATIONS["THCS"]
    ws.append(["STT", "Xã / Trường", "Tổng số"] + [HEAD[x] for x in dests])
    cw = dict(zip(commune_crosswalk()["commune_code"], commune_crosswalk()["commune_name"]))
    grand = [0] * (1 + len(dests))
    for commune in dict.fromkeys(COMMUNE_OF[s] for s in _schools("THCS")):
        ws.append([None, cw[commune].upper()])  # a section row naming the commune
        sub = [0] * (1 + len(dests))
        for i, sid in enumerate([s for s in _schools("THCS") if COMMUNE_OF[s] == commune], start=1):
            ns = [count(sid, 2020, x) for x in dests]
            row = [sum(ns)] + ns
            ws.append([i, NAME_OF[sid]] + row)
            sub = [a + b for a, b in zip(sub, row)]
        ws.append([None, f"Cộng {cw[commune]}"] + sub)
        grand = [a + b for a, b in zip(grand, sub)]
    ws.append([None, "Tổng cộng toàn huyện"] + grand)
    p = d / "subtotals.xlsx"
    wb.save(p)
    return [p]


def two_header_rows(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THPT"
    _title(ws, "THPT")
    dests = DESTINATIONS["THPT"]
    ws.append(["STT", "Tên trường", "Năm", "Số HS tốt nghiệp THPT", "Hướng đi sau tốt nghiệp"])
    ws.append([None, None, None, None] + [HEAD[x] for x in dests])
    for c in "ABCD":
        ws.merge_cells(f"{c}4:{c}5")
    ws.merge_cells(start_row=4, start_column=5, end_row=4, end_column=4 + len(dests))
    i = 0
    for y in YEARS:
        for sid in _schools("THPT"):
            i += 1
            ns = [count(sid, y, x) for x in dests]
            ws.append([i, NAME_OF[sid], y, sum(ns)] + ns)
    p = d / "two_headers.xlsx"
    wb.save(p)
    return [p]


def three_header_rows(d: Path) -> list[Path]:
    """Parent "Trong đó" over "Học tiếp" / "Học nghề" over destinations, then "(1) (2) ..."."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THCS"
    _title(ws, "THCS")
    r0 = 4
    ws.cell(r0, 1, "TT"), ws.cell(r0, 2, "Đơn vị"), ws.cell(r0, 3, "Năm học"), ws.cell(r0, 4, "Tổng số HS tốt nghiệp")
    ws.cell(r0, 5, "Trong đó")
    ws.cell(r0 + 1, 5, "Học tiếp văn hóa"), ws.cell(r0 + 1, 7, "Học nghề"), ws.cell(r0 + 1, 9, "Hướng khác")
    subs = ["THPT", "Bổ túc THPT", "Trung cấp", "Sơ cấp", "Đi làm", "Khác", "Chưa rõ"]
    for j, h in enumerate(subs, start=5):
        ws.cell(r0 + 2, j, h)
    for c in range(1, 5):
        ws.merge_cells(start_row=r0, start_column=c, end_row=r0 + 2, end_column=c)
    ws.merge_cells(start_row=r0, start_column=5, end_row=r0, end_column=11)
    ws.merge_cells(start_row=r0 + 1, start_column=5, end_row=r0 + 1, end_column=6)
    ws.merge_cells(start_row=r0 + 1, start_column=7, end_row=r0 + 1, end_column=8)
    ws.merge_cells(start_row=r0 + 1, start_column=9, end_row=r0 + 1, end_column=11)
    ws.append([f"({j})" for j in range(1, 12)])  # column numbers under the header
    dests = DESTINATIONS["THCS"]
    i = 0
    for y in YEARS:
        for sid in _schools("THCS"):
            i += 1
            ns = [count(sid, y, x) for x in dests]
            ws.append([i, SHORT[sid], f"{y - 1}-{y}", sum(ns)] + ns)
    p = d / "three_headers.xlsx"
    wb.save(p)
    return [p]


def notes_and_signatures(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THPT"
    _title(ws, "THPT")
    _wide_sheet(ws, "THPT", YEARS)
    ws.append([])
    ws.append(["Ghi chú: số liệu do các trường báo cáo đến 30/9."])
    ws.append(["Nguồn: Phòng GD&ĐT huyện Càng Long"])
    ws.append([])
    ws.append([None, "Người lập biểu", None, None, None, "Trưởng phòng"])
    ws.append([None, "(Ký, ghi rõ họ tên)", None, None, None, "(Ký tên, đóng dấu)"])
    ws.append([])
    ws.append([None, "Nguyễn Văn An", None, None, None, "Trần Thị Bình"])
    p = d / "notes.xlsx"
    wb.save(p)
    return [p]


def hidden_columns(d: Path) -> list[Path]:
    """A hidden column of school codes between the name and the figures, and a hidden empty one."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THCS"
    dests = DESTINATIONS["THCS"]
    ws.append(["STT", "Tên trường", "Mã trường", "Ghi chú nội bộ", "Năm"] + [HEAD[x] for x in dests])
    i = 0
    for y in YEARS:
        for sid in _schools("THCS"):
            i += 1
            ws.append([i, SHORT[sid], sid, None, y] + [count(sid, y, x) for x in dests])
    ws.column_dimensions["C"].hidden = True
    ws.column_dimensions["D"].hidden = True
    p = d / "hidden.xlsx"
    wb.save(p)
    return [p]


def totals_as_formulas(d: Path) -> list[Path]:
    """The total column and the total row are formulas, with the results Excel saved."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THPT 2021"
    dests = DESTINATIONS["THPT"]
    ws.append(["STT", "Tên trường", "Tổng cộng"] + [HEAD[x] for x in dests])
    values: dict[tuple[str, str], int] = {}
    last = openpyxl.utils.get_column_letter(3 + len(dests))
    r = 1
    for i, sid in enumerate(_schools("THPT"), start=1):
        r += 1
        ns = [count(sid, 2021, x) for x in dests]
        ws.append([i, NAME_OF[sid], f"=SUM(D{r}:{last}{r})"] + ns)
        values[(ws.title, f"C{r}")] = sum(ns)
    r += 1
    ws.append([None, "Tổng cộng"] + [f"=SUM({L}2:{L}{r - 1})" for L in "CDEFGHIJ"[: 1 + len(dests)]])
    for j, L in enumerate("CDEFGHIJ"[: 1 + len(dests)]):
        col = [values[(ws.title, f"C{k}")] for k in range(2, r)] if j == 0 else \
            [count(sid, 2021, dests[j - 1]) for sid in _schools("THPT")]
        values[(ws.title, f"{L}{r}")] = sum(col)
    return [save_with_values(wb, d / "formulas.xlsx", values)]


def text_numbers(d: Path) -> list[Path]:
    """Every figure typed as text, thousands with dots ("1.180"), a dash for none is not used."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THPT"
    _wide_sheet(ws, "THPT", YEARS, numbers=dots)
    p = d / "text_numbers.xlsx"
    wb.save(p)
    return [p]


def tcvn3_text(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tot nghiep THCS"
    ws.append([tcvn3("báo cáo kết quả phân luồng học sinh tốt nghiệp thcs")])
    _wide_sheet(ws, "THCS", YEARS, text=lambda s: tcvn3(s.lower()) if isinstance(s, str) and s != "STT" else s)
    p = d / "tcvn3.xlsx"
    wb.save(p)
    return [p]


def nfd_text(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = nfd("Tốt nghiệp THPT")
    _wide_sheet(ws, "THPT", YEARS, text=nfd)
    p = d / "nfd.xlsx"
    wb.save(p)
    return [p]


MEANING_HEADS = {"thpt": "(1) Học tiếp THPT", "gdtx": "(2) Học giáo dục thường xuyên", "voc_intermediate": "(3) Học TC",
                 "voc_elementary": "Cột 7 - Sơ cấp", "employment": "a) Tham gia lao động", "other": "b) Hướng khác",
                 "unknown": "c) Chưa nắm được"}


def headers_by_meaning(d: Path) -> list[Path]:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Phân luồng THCS"
    _wide_sheet(ws, "THCS", YEARS, heads=MEANING_HEADS)
    p = d / "meaning.xlsx"
    wb.save(p)
    return [p]


def mapped_column(d: Path) -> list[Path]:
    """'Đi học nước ngoài' (studying abroad) is no header the importer knows: ``--map`` says it
    is 'other' (the sheet has no 'Khác' column; the mapped column holds the truth's 'other')."""
    heads = {**HEAD, "other": "Đi học nước ngoài"}
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Tốt nghiệp THPT"
    _wide_sheet(ws, "THPT", YEARS, heads=heads)
    p = d / "mapped.xlsx"
    wb.save(p)
    return [p]


def the_reported_workbook(d: Path) -> list[Path]:
    """The shape the issue measured: a sheet per year, a merged two-row header, NFD text, a total
    column "Số HS tốt nghiệp THCS" and a "Vào GDTX" column (once dropped without a word)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    dests = DESTINATIONS["THCS"]
    for y in YEARS:
        ws = wb.create_sheet(nfd(f"Năm học {y - 1}-{y}"))
        ws.append([nfd(f"KẾT QUẢ PHÂN LUỒNG HỌC SINH TỐT NGHIỆP THCS NĂM HỌC {y - 1}-{y}")])
        ws.append([])
        ws.append([nfd(h) for h in ("STT", "Trường", "Số HS tốt nghiệp THCS", "Trong đó")])
        ws.append([None, None, None] + [nfd(HEAD[x]) for x in dests])
        for c in "ABC":
            ws.merge_cells(f"{c}3:{c}4")
        ws.merge_cells(start_row=3, start_column=4, end_row=3, end_column=3 + len(dests))
        for i, sid in enumerate(_schools("THCS"), start=1):
            ns = [count(sid, y, x) for x in dests]
            ws.append([i, nfd(NAME_OF[sid]), sum(ns)] + ns)
    p = d / "reported.xlsx"
    wb.save(p)
    return [p]


@dataclass
class Shape:
    name: str
    build: Callable[[Path], list[Path]]
    levels: tuple[str, ...] = ("THCS", "THPT")
    years: tuple[int, ...] = YEARS
    kwargs: dict = field(default_factory=dict)

    def expected(self) -> pd.DataFrame:
        t = truth()
        t = t[t["level"].isin(self.levels) & t["year"].isin(self.years)]
        return t.sort_values(["school_id", "year", "level", "destination"]).reset_index(drop=True)


SHAPES: list[Shape] = [
    Shape("wide_by_destination", wide_by_destination),
    Shape("long", long_layout),
    Shape("sheet_per_year", sheet_per_year, ("THCS",)),
    Shape("sheet_per_school", sheet_per_school, ("THPT",)),
    Shape("commune_subtotals", commune_subtotals, ("THCS",), (2020,)),
    Shape("two_header_rows", two_header_rows, ("THPT",)),
    Shape("three_header_rows", three_header_rows, ("THCS",)),
    Shape("notes_and_signatures", notes_and_signatures, ("THPT",)),
    Shape("hidden_columns", hidden_columns, ("THCS",)),
    Shape("totals_as_formulas", totals_as_formulas, ("THPT",), (2021,)),
    Shape("numbers_as_text_with_dots", text_numbers, ("THPT",)),
    Shape("tcvn3_text", tcvn3_text, ("THCS",)),
    Shape("nfd_text", nfd_text, ("THPT",)),
    Shape("headers_by_meaning", headers_by_meaning, ("THCS",)),
    Shape("column_placed_by_map", mapped_column, ("THPT",), kwargs={"mapping": ["Đi học nước ngoài=other"]}),
    Shape("the_reported_workbook", the_reported_workbook, ("THCS",)),
]


# ------------------------------------------------------------------------------------------------
# Broken variants: (name, build, the one problem: check, sheet, Excel row, column letter)
# ------------------------------------------------------------------------------------------------
def broken_total_column(d: Path) -> list[Path]:
    """Row 6 (the 2nd school of 2019) has a total one more than its parts."""
    wb = openpyxl.load_workbook(wide_by_destination(d)[0])
    ws = wb["Tốt nghiệp THCS"]
    ws["D6"] = ws["D6"].value + 1
    p = d / "bad_total_column.xlsx"
    wb.save(p)
    return [p]


def broken_total_row(d: Path) -> list[Path]:
    p = commune_subtotals(d)[0]
    wb = openpyxl.load_workbook(p)
    ws = wb["Tốt nghiệp THCS 2020"]
    last = ws.max_row  # "Tổng cộng toàn huyện"
    BROKEN_ROWS["total_row"] = last
    ws.cell(last, 5).value = ws.cell(last, 5).value - 10
    p = d / "bad_total_row.xlsx"
    wb.save(p)
    return [p]


def broken_unplaceable(d: Path) -> list[Path]:
    p = mapped_column(d)[0]
    q = d / "bad_unplaceable.xlsx"
    q.write_bytes(p.read_bytes())
    p.unlink()
    return [q]


def broken_code_typo(d: Path) -> list[Path]:
    """School code S02 typed 'S2O' on one row of the long layout."""
    p = long_layout(d)[0]
    wb = openpyxl.load_workbook(p)
    ws = wb.active
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == "S02")
    ws.cell(row, 1).value = "S2O"
    q = d / "bad_code.xlsx"
    wb.save(q)
    BROKEN_ROWS["code_typo"] = row
    return [q]


def broken_destination_typo(d: Path) -> list[Path]:
    """A destination "Trung câp ngh" (a typo) on row 9 of the long layout."""
    p = long_layout(d)[0]
    wb = openpyxl.load_workbook(p)
    ws = wb.active
    ws.cell(9, 4).value = "Trung câp ngh"
    q = d / "bad_destination.xlsx"
    wb.save(q)
    return [q]


BROKEN_ROWS: dict[str, int] = {}
#: name -> (build, check, sheet, Excel row (None: computed by the build), column letter)
BROKEN: dict[str, tuple[Callable[[Path], list[Path]], str, str, int | None, str]] = {
    "total_column": (broken_total_column, "total_column", "Tốt nghiệp THCS", 6, "D"),
    "total_row": (broken_total_row, "total_row", "Tốt nghiệp THCS 2020", None, "E"),
    "unplaceable_column": (broken_unplaceable, "unmapped_column", "Tốt nghiệp THPT", 1, "J"),
    "code_typo": (broken_code_typo, "reference", "Số liệu tốt nghiệp", None, "A"),
    "destination_typo": (broken_destination_typo, "code", "Số liệu tốt nghiệp", 9, "D"),
}
