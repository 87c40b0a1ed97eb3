"""The human report of a review run: a Word báo cáo sơ kết, an Excel workbook and one HTML page.

``build_report(stage_dir, params)`` reads what the run's notebooks wrote into the staging folder
(``evidence/index.json``, ``evidence/<id>.csv``, ``figures/*.png``) and writes
``report/<cycle>_<lang>.docx``, ``.xlsx`` and ``.html`` wholly in the language of the parameters
(Vietnamese by default): every code labelled, every number formatted for people by
``evaluation.i18n`` (rates as percentages, effects in percentage points, Vietnamese decimal
commas), method notes and a glossary in that language. It never computes a number.

* Word (python-docx): the administrative form of Decree 30/2020/NĐ-CP — issuing body and
  "Số: …/BC-UBND" on the left, national heading and motto on the right, place and date, the
  title "BÁO CÁO", a table of contents field, the body of a sơ kết written from the evidence by
  ``evaluation.narrative`` (I. results by the plan's tasks, II. shortcomings and causes,
  III. directions to 2030, IV. recommendations), "Nơi nhận" and the signature block; then,
  landscape, Appendix 1 (every evidence table with fitted column widths, repeated header row,
  its figure beside it) and Appendix 2 (method notes and glossary). Page numbers at the top
  centre from the second page. A4, Times New Roman 13.
* Workbook (xlsxwriter): a cover (title, facts, the headline numbers against targets, links),
  one sheet per table named in the report's language, a method-notes sheet (notes, glossary,
  columns explained) and a figures sheet. Every sheet prints landscape on A4, fitted to the
  page width, header rows repeated, print area set, page numbers in the footer; long text
  wraps; number formats by unit (``0.0%`` rates, ``#,##0`` counts, ``0.0`` percentage points,
  ``0.000`` p-values); an empty or suppressed cell shows "–" and a note says why.
* HTML (jinja2 template ``templates/report.html.j2``): one self-contained page with the summary
  (headline numbers against targets) on top, the sơ kết body, then every table with its figure
  beside it; print rules for A4 (repeated table headers, no row or figure split across pages),
  readable on a 400 px screen.

Synthetic data: when the data are synthetic the first page of every file says so in large red
letters. The run is taken as synthetic when ``build_report(..., synthetic=True)`` says so, or
the parameters carry ``synthetic=True``, or the staging folder holds a ``SYNTHETIC`` marker
file (``evidence.mark_synthetic``), or any evidence table was built with ``synthetic=True``.

Reruns on the same bundle give byte-identical files (fixed document properties and zip
timestamps).
"""
from __future__ import annotations

import base64
import datetime as _dt
import io
import math
import re
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from . import i18n, narrative
from .evidence import SYNTHETIC_MARKER, TABLES, read_index, read_table
from .paths import PACKAGE_DIR

__all__ = ["build_report", "is_synthetic", "format_value", "format_frame", "REPORT_DIR", "UI", "FIGURE_TABLE", "normalize_zip"]

REPORT_DIR = "report"
TEMPLATES_DIR = PACKAGE_DIR / "templates"
#: Creation date written into the workbook and document properties (fixed: no run-time stamp).
_FIXED_DATE = _dt.datetime(2025, 1, 1, 0, 0, 0)
#: Zip entry timestamp of every file written (the earliest a zip can hold).
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)
#: Extra (non-minimum) columns shown in the Word and HTML tables when present.
_SHORT_EXTRAS = ("n_clusters", "reference_period", "coverage_rate_all", "status")

#: Fixed text of the report in both languages (``evaluation.i18n`` holds it; kept here for callers).
UI: dict[str, dict[str, str]] = {lang: i18n.ui(lang) for lang in i18n.LANGS}
#: Which evidence table a figure belongs beside (figure file stem -> table id).
FIGURE_TABLE = {"uptake_vs_target": "uptake_by_year", "communes_vs_target": "uptake_by_commune",
                "coverage_over_time": "coverage_by_year", "event_study": "event_study", "equity_gaps": "equity_gaps",
                "projections": "projections", "labour_alignment": "labour_alignment"}

_EXCEL_FORMATS = {"rate": "0.0%", "pp": "0.0", "count": "#,##0", "int": "0", "year": "0", "p": "0.000",
                  "number": "0.00"}
#: A findings row's ``value`` is in the unit its ``unit`` column names.
_UNIT_FORMAT = {"rate": "rate", "pp": "pp", "pp per year": "pp", "communes": "count", "warnings": "count",
                "schools": "count", "students": "count", "workers": "count"}
#: Columns whose format in the report differs from the CSV's (a gap in workers is a count).
_FORMAT_OVERRIDES = {("labour_alignment", "gap"): "count", ("labour_alignment", "demand"): "count"}
#: Text columns shown as they are in both languages (proper names).
_NAMES = {"commune_name", "trade", "institution_name", "institution_id", "commune_code"}


# ---------------------------------------------------------------------------------------
# Loading the bundle
# ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Table:
    number: int
    entry: dict
    data: pd.DataFrame

    @property
    def id(self) -> str:
        return self.entry["id"]

    def title(self, lang: str) -> str:
        return self.entry.get(f"title_{lang}") or self.id

    def notes(self, lang: str) -> list[str]:
        return [i18n.localize(n, lang) for n in self.entry.get("notes", {}).get(lang, [])]

    def formats(self) -> dict[str, str]:
        out = {c["name"]: c["format"] for c in self.entry["columns"]}
        for (tid, col), fmt in _FORMAT_OVERRIDES.items():
            if tid == self.id and col in out:
                out[col] = fmt
        return out

    def columns(self) -> list[str]:
        return [c["name"] for c in self.entry["columns"]]

    def display_columns(self, lang: str = "vi") -> list[str]:
        if self.id == "findings":  # the generated sentences in the report's language
            return ["order", f"sentence_{lang}", "source"]
        mins = list(TABLES[self.id].columns) if self.id in TABLES else self.columns()
        extras = [c for c in _SHORT_EXTRAS if c in self.data.columns and c not in mins]
        reason = [f"reason_{lang}"] if f"reason_{lang}" in self.data.columns else []
        return [c for c in mins + extras + reason if c in self.data.columns]

    def sheet_columns(self, lang: str) -> list[str]:
        """Every column for the workbook, but only the report language's copy of a vi/en pair."""
        other = "en" if lang == "vi" else "vi"
        return [c for c in self.columns() if not c.endswith(f"_{other}")]


def _load_tables(stage_dir: Path) -> list[_Table]:
    index = read_index(stage_dir)
    order = {tid: i for i, tid in enumerate(TABLES)}
    order["findings"] = -1  # the review's generated findings come first
    entries = sorted(index, key=lambda e: (order.get(e["id"], len(order)), e["id"]))
    return [_Table(i + 1, e, read_table(stage_dir, e)) for i, e in enumerate(entries)]


def is_synthetic(stage_dir: str | Path, params: Any = None, *, synthetic: bool | None = None) -> bool:
    """Whether the run's data are synthetic (see the module docstring for the rule)."""
    if synthetic is not None:
        return bool(synthetic)
    if bool(getattr(params, "synthetic", False)):
        return True
    stage = Path(stage_dir)
    if (stage / SYNTHETIC_MARKER).exists():
        return True
    try:
        return any(bool(e.get("synthetic")) for e in read_index(stage))
    except FileNotFoundError:
        return False


def _figures(stage_dir: Path) -> list[dict[str, Any]]:
    from PIL import Image

    out = []
    for p in sorted((stage_dir / "figures").glob("*.png")):
        with Image.open(p) as im:
            caption = (getattr(im, "text", {}) or {}).get("Title") or p.stem.replace("_", " ")
            w, h = im.size
        out.append({"name": p.stem, "path": p, "caption": caption, "width": w, "height": h,
                    "table": FIGURE_TABLE.get(p.stem)})
    return out


def _figures_by_table(tables: list[_Table], figures: list[dict]) -> tuple[dict[str, list[dict]], list[dict]]:
    """Figures keyed by the table they sit beside (numbered in reading order), and the rest."""
    ids = {t.id for t in tables}
    beside: dict[str, list[dict]] = {}
    rest = []
    for f in figures:
        (beside.setdefault(f["table"], []) if f["table"] in ids else rest).append(f)
    k = 0
    for t in tables:
        for f in beside.get(t.id, []):
            k += 1
            f["number"] = k
    for f in rest:
        k += 1
        f["number"] = k
    return beside, rest


# ---------------------------------------------------------------------------------------
# Formatting for people (every word and number through evaluation.i18n)
# ---------------------------------------------------------------------------------------
_missing = i18n._missing


def format_value(value: Any, fmt: str, lang: str) -> str:
    """A value as a person reads it (``evaluation.i18n.format_value``)."""
    return i18n.format_value(value, fmt, lang)


def _cell_format(table_id: str, column: str, row: Mapping[str, Any], fmts: Mapping[str, str]) -> str:
    if table_id == "findings" and column == "value":
        return _UNIT_FORMAT.get(str(row.get("unit")), "number")
    return fmts.get(column, "text")


def _text_value(column: str, value: Any, row: Mapping[str, Any], lang: str, table_id: str = "") -> str:
    if _missing(value):
        return i18n.MISSING
    v = str(value)
    if column in _NAMES:
        return v
    if column in ("group", "reference"):
        kind = row.get("group_var") if "group_var" in row else row.get("dimension")
        return i18n.value_label(kind if isinstance(kind, str) else column, v, lang)
    if column == "level" and v in ("THCS", "THPT"):
        return v
    if column == "source" and table_id == "findings":
        spec = TABLES.get(v)
        return getattr(spec, f"short_{lang}") if spec else v
    if column.startswith("sentence_") or column.startswith("reason_"):
        return i18n.localize(v, lang)
    if column in ("target_met",):
        return i18n.value_label("target_met", v, lang)
    return i18n.translate(v, lang, column=column)


def _cell(table_id: str, column: str, rec: Mapping[str, Any], fmts: Mapping[str, str], lang: str) -> str:
    fmt = _cell_format(table_id, column, rec, fmts)
    value = rec.get(column)
    if fmt == "text":
        return _text_value(column, value, rec, lang, table_id)
    return i18n.format_value(value, fmt, lang)


def format_frame(frame: pd.DataFrame, lang: str, *, table_id: str = "", formats: Mapping[str, str] | None = None,
                 columns: list[str] | None = None) -> pd.DataFrame:
    """A table as a person reads it, in ``lang``: every value a string formatted by its column's
    unit (rates "32,2 %", percentage points "3,4", counts "1.234", p-values "0,047", missing "–"),
    every code labelled, the headers labelled (``reference_data/columns.csv``). ``formats`` maps
    a column to its format when the frame's own column names do not say it (default: the
    column's registered format, else guessed from its name and dtype). Used by the notebooks'
    displays and the reports alike."""
    from .evidence import column_info

    i18n.check_lang(lang)
    cols = [c for c in (columns or list(frame.columns)) if c in frame.columns]
    fmts = {c: (formats or {}).get(c) or column_info(c, frame[c])["format"] for c in cols}
    for (tid, col), fmt in _FORMAT_OVERRIDES.items():
        if tid == table_id and col in fmts:
            fmts[col] = fmt
    records = frame[cols].to_dict("records")
    out = pd.DataFrame([[_cell(table_id, c, rec, fmts, lang) for c in cols] for rec in records],
                       columns=[_col_label(c, lang) for c in cols], index=frame.index)
    return out


def _col_label(column: str, lang: str, entry: Mapping[str, Any] | None = None) -> str:
    if column.startswith("sentence_"):
        return "Nội dung" if lang == "vi" else "Statement"
    if column.startswith("reason_"):
        return "Lý do" if lang == "vi" else "Reason"
    if entry is not None:
        for c in entry.get("columns", []):
            if c["name"] == column and c.get(f"label_{lang}") and c.get(f"label_{lang}") != column:
                return c[f"label_{lang}"]
    return i18n.column_label(column, lang)


def _suppressed(rec: Mapping[str, Any]) -> bool:
    v = rec.get("suppressed")
    return not _missing(v) and i18n._truthy(v)


def _facts(params: Any, lang: str, synthetic: bool) -> list[tuple[str, str]]:
    t = lambda k: i18n.text(k, lang)  # noqa: E731
    out = []
    if getattr(params, "district", None):
        out.append((t("district"), str(params.district)))
    if getattr(params, "province", None):
        out.append((t("province"), str(params.province)))
    if getattr(params, "year_start", None) is not None and getattr(params, "year_end", None) is not None:
        out.append((t("period"), f"{params.year_start}-{params.year_end}"))
    if getattr(params, "data", None):
        data = Path(str(params.data)).name or str(params.data)
        out.append((t("data"), data + (f" ({t('data_synthetic')})" if synthetic else "")))
    if getattr(params, "min_cell", None) is not None:
        out.append((t("min_cell"), str(params.min_cell)))
    out.append((t("language"), t("language_value")))
    return out


def _title(params: Any, lang: str) -> str:
    t = getattr(params, f"title_{lang}", None)
    return str(t) if t else ("Sơ kết phân luồng và đào tạo nghề" if lang == "vi" else "Review of vocational streaming")


def _min_cell(params: Any, tables: list[_Table]) -> int:
    if getattr(params, "min_cell", None) is not None:
        return int(params.min_cell)
    return max([int(t.entry.get("min_cell") or 5) for t in tables] + [5])


def _sheet_names(tables: list[_Table], lang: str) -> dict[str, str]:
    used = {i18n.text(k, lang).lower() for k in ("cover", "method_notes", "figures_sheet")}
    out = {}
    for t in tables:
        spec = TABLES.get(t.id)
        base = getattr(spec, f"short_{lang}") if spec else t.title(lang)
        base = re.sub(r"[\[\]:*?/\\']", "-", base)[:31].strip() or f"{i18n.text('table', lang)} {t.number}"
        name, k = base, 2
        while name.lower() in used:
            suffix = f" ({k})"
            name, k = base[: 31 - len(suffix)] + suffix, k + 1
        used.add(name.lower())
        out[t.id] = name
    return out


def _headline(tables: list[_Table], lang: str) -> list[narrative.Headline]:
    return narrative.headline({t.id: t.data for t in tables}, lang)


def normalize_zip(path: str | Path) -> None:
    """Rewrite an Office file (a zip) with every entry stamped 1980-01-01, so reruns give the same
    bytes (python-docx stamps entries with the time of saving)."""
    p = Path(path)
    with zipfile.ZipFile(p) as zin:
        items = [(i.filename, zin.read(i.filename)) for i in zin.infolist()]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zout:
        for name, data in items:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zout.writestr(info, data)
    p.write_bytes(buf.getvalue())


# ---------------------------------------------------------------------------------------
# Workbook
# ---------------------------------------------------------------------------------------
def _excel_escape(s: str) -> str:
    return s.replace("&", "&&")


def _print_setup(ws, lang: str, title: str, last_row: int, last_col: int, repeat: int | None) -> None:
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)  # one page wide, as many pages tall as needed
    ws.set_margins(left=0.5, right=0.5, top=0.7, bottom=0.7)
    ws.center_horizontally()
    if repeat is not None:
        ws.repeat_rows(repeat)
    ws.print_area(0, 0, max(0, last_row), max(0, last_col))
    page = "Trang &P/&N" if lang == "vi" else "Page &P of &N"
    ws.set_header(f"&L&8{_excel_escape(title[:120])}")
    ws.set_footer(f"&C&9{page}")


def _write_xlsx(path: Path, tables: list[_Table], figures: list[dict], params: Any, lang: str, synthetic: bool) -> None:
    import xlsxwriter

    ui = UI[lang]
    min_cell = _min_cell(params, tables)
    wb = xlsxwriter.Workbook(str(path), {"strings_to_numbers": False, "strings_to_formulas": False,
                                         "strings_to_urls": False})
    wb.set_properties({"title": _title(params, lang), "author": "evaluation toolkit", "created": _FIXED_DATE,
                       "comments": ui["synthetic_banner"] if synthetic else ""})
    wb.set_calc_mode("auto")
    f_title = wb.add_format({"bold": True, "font_size": 14, "font_color": "#0b3c5d"})
    f_sub = wb.add_format({"italic": True, "font_color": "#5b6670", "text_wrap": True, "valign": "top"})
    f_head = wb.add_format({"bold": True, "font_color": "#ffffff", "bg_color": "#0b3c5d", "text_wrap": True,
                            "valign": "top", "border": 1})
    f_synth = wb.add_format({"bold": True, "font_size": 18, "font_color": "#b00020", "bg_color": "#fdecea",
                             "border": 2, "border_color": "#b00020", "text_wrap": True, "align": "center",
                             "valign": "vcenter"})
    f_synth_small = wb.add_format({"font_color": "#b00020", "text_wrap": True, "valign": "top"})
    f_bold = wb.add_format({"bold": True, "valign": "top"})
    f_wrap = wb.add_format({"text_wrap": True, "valign": "top"})
    f_link = wb.add_format({"font_color": "blue", "underline": 1, "valign": "top"})
    f_dash = wb.add_format({"align": "center", "font_color": "#5b6670", "valign": "top"})
    f_text = wb.add_format({"valign": "top"})
    num_formats = {k: wb.add_format({"num_format": v, "valign": "top"}) for k, v in _EXCEL_FORMATS.items()}
    f_status = {"met": wb.add_format({"font_color": "#1b7a3a", "bold": True, "valign": "top"}),
                "not_met": wb.add_format({"font_color": "#b00020", "bold": True, "valign": "top"})}
    sheet_names = _sheet_names(tables, lang)

    # cover
    ws = wb.add_worksheet(ui["cover"])
    ws.set_column(0, 0, 48)
    ws.set_column(1, 3, 24)
    r = 0
    if synthetic:
        ws.merge_range(0, 0, 2, 3, ui["synthetic_banner"], f_synth)
        ws.set_row(0, 30)
        ws.merge_range(3, 0, 3, 3, ui["synthetic_detail"], f_synth_small)
        ws.set_row(3, 32)
        r = 5
    ws.merge_range(r, 0, r, 3, _title(params, lang), f_title)
    ws.set_row(r, 36)
    r += 2
    for k, v in _facts(params, lang, synthetic):
        ws.write(r, 0, k, f_bold)
        ws.write_string(r, 1, v)
        r += 1
    r += 1
    heads = _headline(tables, lang)
    if heads:
        ws.write(r, 0, ui["summary_lead"], f_bold)
        r += 1
        for j, h in enumerate((ui["indicator"], ui["value"], ui["target"], ui["status"])):
            ws.write_string(r, j, h, f_head)
        for h in heads:
            r += 1
            ws.write_string(r, 0, h.indicator, f_wrap)
            ws.write_string(r, 1, h.value, f_text)
            ws.write_string(r, 2, h.target, f_text)
            ws.write_string(r, 3, ui[h.status], f_status.get(h.status, f_text))
        r += 2
    ws.merge_range(r, 0, r, 3, ui["units"], f_sub)
    ws.set_row(r, 45)
    r += 2
    ws.write(r, 0, ui["contents"], f_bold)
    for t in tables:
        r += 1
        ws.write_url(r, 0, f"internal:'{sheet_names[t.id]}'!A1", f_link,
                     string=f"{ui['table']} {t.number}. {t.title(lang)}")
    if figures:
        r += 1
        ws.write_url(r, 0, f"internal:'{ui['figures_sheet']}'!A1", f_link, string=ui["figures"])
    _print_setup(ws, lang, _title(params, lang), r, 3, None)
    ws.fit_to_pages(1, 1)
    ws.activate()

    # one sheet per table
    for t in tables:
        ws = wb.add_worksheet(sheet_names[t.id])
        fmts = t.formats()
        cols = t.sheet_columns(lang)
        records = t.data.to_dict("records")
        ws.write(0, 0, f"{ui['table']} {t.number}. {t.title(lang)}", f_title)
        src = f"{ui['machine_table']}: evidence/{t.id}.csv" + (" · " + ui["synthetic_banner"] if synthetic else "")
        ws.write(1, 0, src, wb.add_format({"italic": True, "font_color": "#5b6670"}))
        head_row = 2
        widths = []
        for j, c in enumerate(cols):
            lab = _col_label(c, lang, t.entry)
            ws.write_string(head_row, j, lab, f_head)
            vals = [_cell(t.id, c, rec, fmts, lang) for rec in records[:500]]
            w = max([len(v) for v in vals] + [6])
            w = min(max(w + 2, min(len(lab), 16) + 2), 70 if c.startswith(("sentence_", "detail")) else 40)
            widths.append(w)
        for j, w in enumerate(widths):
            ws.set_column(j, j, w)
        max_lines = max([math.ceil(len(_col_label(c, lang, t.entry)) / max(1, w - 1)) for c, w in zip(cols, widths)] + [1])
        ws.set_row(head_row, 15 * max_lines + 4)
        for i, rec in enumerate(records):
            rr = head_row + 1 + i
            lines = 1
            for j, c in enumerate(cols):
                v = rec.get(c)
                fmt = _cell_format(t.id, c, rec, fmts)
                if _missing(v):
                    ws.write_string(rr, j, i18n.MISSING, f_dash)
                elif fmt == "bool":
                    ws.write_string(rr, j, i18n.format_value(v, "bool", lang), f_text)
                elif fmt == "text":
                    txt = _text_value(c, v, rec, lang, t.id)
                    if len(txt) > widths[j] - 1:
                        # a wrapped cell: the row is made tall enough (LibreOffice does not grow it)
                        lines = max(lines, math.ceil(len(txt) * 1.1 / max(1, widths[j] - 1)))
                        ws.write_string(rr, j, txt, f_wrap)
                    else:
                        ws.write_string(rr, j, txt, f_text)
                else:
                    ws.write_number(rr, j, float(v), num_formats.get(fmt, f_text))
            if lines > 1:
                ws.set_row(rr, 15 * lines)
        last = head_row + max(1, len(records))
        ws.freeze_panes(head_row + 1, 0)
        ws.autofilter(head_row, 0, last, len(cols) - 1)
        total = sum(widths)
        nr = last + 2
        ws.write(nr, 0, ui["notes"], f_bold)
        notes = t.notes(lang) + [ui["suppressed_note"].format(min_cell=min_cell)] + [ui["units"]]
        for n in notes:
            nr += 1
            ncols = max(1, len(cols) - 1)
            ws.merge_range(nr, 0, nr, ncols, "• " + n, f_wrap)
            ws.set_row(nr, 15 * max(1, math.ceil(len(n) * 1.1 / max(20, total))) + 2)
        _print_setup(ws, lang, f"{ui['table']} {t.number}. {t.title(lang)}", nr, len(cols) - 1, head_row)

    # method notes and glossary
    ws = wb.add_worksheet(ui["method_notes"])
    ws.set_column(0, 0, 8)
    ws.set_column(1, 1, 36)
    ws.set_column(2, 2, 90)
    for j, h in enumerate((ui["table"], ui["table_title"], ui["note"])):
        ws.write_string(0, j, h, f_head)
    r = 0
    for t in tables:
        for n in t.notes(lang):
            r += 1
            ws.write_number(r, 0, t.number, f_text)
            ws.write_string(r, 1, t.title(lang), f_wrap)
            ws.write_string(r, 2, n, f_wrap)
    r += 2
    ws.write_string(r, 0, ui["glossary"], f_bold)
    r += 1
    ws.write_string(r, 1, ui["term"], f_head)
    ws.write_string(r, 2, ui["meaning"], f_head)
    for term, meaning in i18n.glossary(lang):
        r += 1
        ws.write_string(r, 1, term, f_bold)
        ws.write_string(r, 2, meaning, f_wrap)
    r += 2
    ws.write_string(r, 0, ui["columns_explained"], f_bold)
    r += 1
    ws.write_string(r, 1, ui["column"], f_head)
    ws.write_string(r, 2, ui["meaning"], f_head)
    seen: list[str] = []
    for t in tables:
        for c in t.sheet_columns(lang):
            if c not in seen:
                seen.append(c)
    for c in seen:
        r += 1
        ws.write_string(r, 1, _col_label(c, lang), f_wrap)
        ws.write_string(r, 2, i18n.column_description(c, lang) or "", f_wrap)
    ws.freeze_panes(1, 0)
    _print_setup(ws, lang, ui["method_notes"], r, 2, 0)

    # figures
    ws = wb.add_worksheet(ui["figures_sheet"])
    ws.set_column(0, 0, 120)
    r = 0
    scale = 0.5
    for f in figures:
        ws.write_string(r, 0, f"{ui['figure']} {f.get('number', 0)}. {f['caption']}", f_bold)
        ws.insert_image(r + 1, 0, str(f["path"]), {"x_scale": scale, "y_scale": scale, "object_position": 3})
        r += int(math.ceil(f["height"] * scale / 20.0)) + 3
    _print_setup(ws, lang, ui["figures"], max(r, 1), 8, None)
    wb.close()
    normalize_zip(path)


# ---------------------------------------------------------------------------------------
# Word: the administrative form of Decree 30/2020/NĐ-CP
# ---------------------------------------------------------------------------------------
def _issuing_body(params: Any, lang: str) -> tuple[str, str]:
    district = str(getattr(params, "district", "") or "")
    if lang == "vi":
        return "ỦY BAN NHÂN DÂN", (district.upper() or "HUYỆN …")
    return "PEOPLE'S COMMITTEE", (district.upper() or "DISTRICT …")


def _place(params: Any) -> str:
    d = str(getattr(params, "district", "") or "")
    return re.sub(r"^(Huyện|Thị xã|Thành phố|Quận|Tỉnh|Xã|Phường)\s+", "", d) or "…"


def _add_field(paragraph, instr: str, placeholder: str = "") -> None:
    """A Word field (PAGE, NUMPAGES, TOC …) in ``paragraph``; ``placeholder`` is its shown result
    until Word updates it."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    def fld(kind: str):
        run = paragraph.add_run()
        el = OxmlElement("w:fldChar")
        el.set(qn("w:fldCharType"), kind)
        if kind == "begin":
            el.set(qn("w:dirty"), "true")
        run._r.append(el)
        return run

    fld("begin")
    run = paragraph.add_run()
    it = OxmlElement("w:instrText")
    it.set(qn("xml:space"), "preserve")
    it.text = f" {instr} "
    run._r.append(it)
    fld("separate")
    if placeholder:
        paragraph.add_run(placeholder)
    fld("end")


def _no_borders(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tbl_pr = table._tbl.tblPr
    borders = OxmlElement("w:tblBorders")
    for side in ("top", "left", "bottom", "right", "insideH", "insideV"):
        el = OxmlElement(f"w:{side}")
        el.set(qn("w:val"), "nil")
        borders.append(el)
    tbl_pr.append(borders)


def _set_col_widths(table, widths_cm: list[float]) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    table.autofit = False
    tbl_pr = table._tbl.tblPr
    layout = OxmlElement("w:tblLayout")
    layout.set(qn("w:type"), "fixed")
    tbl_pr.append(layout)
    grid = table._tbl.tblGrid
    for gc, w in zip(grid.findall(qn("w:gridCol")), widths_cm):
        gc.set(qn("w:w"), str(int(Cm(w).twips)))
    for row in table.rows:
        for cell, w in zip(row.cells, widths_cm):
            cell.width = Cm(w)


def _fit_widths(lengths: list[int], available_cm: float) -> list[float]:
    """Column widths (cm) that fill ``available_cm``: each column gets its content's share, none
    narrower than a short number nor wider than half the page."""
    lens = [min(max(n, 4), 60) for n in lengths]
    total = float(sum(lens)) or 1.0
    widths = [max(1.2, available_cm * n / total) for n in lens]
    scale = available_cm / sum(widths)
    return [w * scale for w in widths]


def _write_docx(path: Path, tables: list[_Table], figures: list[dict], params: Any, lang: str, synthetic: bool,
                since: list[str] | None = None) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt, RGBColor

    ui = UI[lang]
    by_id = {t.id: t.data for t in tables}
    beside, rest = _figures_by_table(tables, figures)
    doc = Document()
    sec = doc.sections[0]
    sec.orientation = WD_ORIENT.PORTRAIT
    sec.page_width, sec.page_height = Cm(21.0), Cm(29.7)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Cm(2.0), Cm(2.0), Cm(3.0), Cm(2.0)
    sec.header_distance = Cm(1.0)
    sec.different_first_page_header_footer = True
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    normal.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "Times New Roman")
    normal.paragraph_format.space_after = Pt(4)
    for name, size in (("Heading 1", 13), ("Heading 2", 13), ("Heading 3", 12), ("Title", 14), ("Caption", 11)):
        st = doc.styles[name]
        st.font.name = "Times New Roman"
        st.font.size = Pt(size)
        st.font.bold = name != "Caption"
        st.font.italic = name == "Caption"
        st.font.color.rgb = RGBColor(0, 0, 0)
        rpr = st.element.get_or_add_rPr()
        fonts = rpr.get_or_add_rFonts()
        for attr in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
            fonts.set(qn(attr), "Times New Roman")
        for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            if fonts.get(qn(theme)) is not None:
                del fonts.attrib[qn(theme)]
        st.paragraph_format.space_before = Pt(6)
        st.paragraph_format.space_after = Pt(3)
        st.paragraph_format.keep_with_next = True
    cp = doc.core_properties
    cp.title = _title(params, lang)
    cp.author = "evaluation toolkit"
    cp.created = _FIXED_DATE
    cp.modified = _FIXED_DATE
    cp.last_modified_by = "evaluation toolkit"
    cp.revision = 1
    settings = doc.settings.element
    upd = OxmlElement("w:updateFields")
    upd.set(qn("w:val"), "true")
    settings.append(upd)

    # page number: top centre from the second page (Decree 30)
    hp = sec.header.paragraphs[0]
    hp.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _add_field(hp, "PAGE", "2")

    def para(text: str = "", *, bold=False, italic=False, size=None, align=None, style=None, indent=True):
        p = doc.add_paragraph(style=style) if style else doc.add_paragraph()
        if text:
            run = p.add_run(text)
            run.bold, run.italic = bold, italic
            if size:
                run.font.size = Pt(size)
        if align is not None:
            p.alignment = align
        elif style is None:
            p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
            if indent:
                p.paragraph_format.first_line_indent = Cm(1.0)
        return p

    # national heading (left: issuing body and number; right: motto, place and date)
    head = doc.add_table(rows=2, cols=2)
    _no_borders(head)
    _set_col_widths(head, [6.5, 9.5])
    body1, body2 = _issuing_body(params, lang)
    c = head.cell(0, 0).paragraphs[0]
    c.alignment = WD_ALIGN_PARAGRAPH.CENTER
    c.add_run(body1 + "\n").font.size = Pt(13)
    r = c.add_run(body2)
    r.bold, r.font.size = True, Pt(13)
    c2 = head.cell(0, 1).paragraphs[0]
    c2.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = c2.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\n" if lang == "vi" else "SOCIALIST REPUBLIC OF VIET NAM\n")
    r.bold, r.font.size = True, Pt(12)
    r = c2.add_run("Độc lập - Tự do - Hạnh phúc" if lang == "vi" else "Independence - Freedom - Happiness")
    r.bold, r.underline, r.font.size = True, True, Pt(13)
    n = head.cell(1, 0).paragraphs[0]
    n.alignment = WD_ALIGN_PARAGRAPH.CENTER
    n.add_run("Số: …/BC-UBND" if lang == "vi" else "No.: …/BC-UBND").font.size = Pt(13)
    d = head.cell(1, 1).paragraphs[0]
    d.alignment = WD_ALIGN_PARAGRAPH.CENTER
    year = getattr(params, "year_end", None) or "20…"
    r = d.add_run(f"{_place(params)}, ngày … tháng … năm {year}" if lang == "vi"
                  else f"{_place(params)}, … {year}")
    r.italic, r.font.size = True, Pt(13)

    para()
    para("BÁO CÁO" if lang == "vi" else "REPORT", bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(_title(params, lang), bold=True, size=14, align=WD_ALIGN_PARAGRAPH.CENTER)
    line = para("———————", align=WD_ALIGN_PARAGRAPH.CENTER)
    line.paragraph_format.space_after = Pt(6)
    if synthetic:
        p = para(ui["synthetic_banner"], bold=True, size=15, align=WD_ALIGN_PARAGRAPH.CENTER)
        p.runs[0].font.color.rgb = RGBColor(0xB0, 0x00, 0x20)
        p = para(ui["synthetic_detail"], align=WD_ALIGN_PARAGRAPH.CENTER)
        p.runs[0].font.color.rgb = RGBColor(0xB0, 0x00, 0x20)

    # table of contents (a field Word fills in; its placeholder lists the headings)
    para(ui["toc"], bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    sections = narrative.report_sections(by_id, lang, params, since=since)
    toc = para(align=WD_ALIGN_PARAGRAPH.LEFT)
    heads = [s.heading for s in sections] + [ui["appendix_tables"], ui["appendix_methods"]]
    _add_field(toc, 'TOC \\o "1-2" \\h \\z \\u', "\n".join(heads))
    para(ui["toc_hint"], italic=True, size=10, align=WD_ALIGN_PARAGRAPH.LEFT)

    # summary: the headline numbers against targets
    heads = _headline(tables, lang)
    if heads:
        doc.add_heading(ui["summary_lead"], level=1)
        st = doc.add_table(rows=1, cols=4)
        st.style = "Table Grid"
        st.alignment = WD_TABLE_ALIGNMENT.CENTER
        for cell, h in zip(st.rows[0].cells, (ui["indicator"], ui["value"], ui["target"], ui["status"])):
            cell.text = h
            cell.paragraphs[0].runs[0].bold = True
        for h in heads:
            cells = st.add_row().cells
            for cell, v in zip(cells, (h.indicator, h.value, h.target, ui[h.status])):
                cell.text = v
        for row in st.rows:
            for cell in row.cells:
                for run in cell.paragraphs[0].runs:
                    run.font.size = Pt(11)
        _repeat_header(st)
        _set_col_widths(st, [6.4, 4.8, 1.8, 3.0])

    # the body of the sơ kết
    for s in sections:
        doc.add_heading(s.heading, level=1)
        for ptext in s.paragraphs:
            para(ptext)
        for child in s.children:
            doc.add_heading(child.heading, level=2)
            for ptext in child.paragraphs:
                para(ptext)
            cites = [t for t in tables if t.id in child.tables]
            if cites:
                para(("Số liệu chi tiết: " if lang == "vi" else "Details: ")
                     + "; ".join(f"{ui['table']} {t.number}" for t in cites)
                     + (" (Phụ lục 1)." if lang == "vi" else " (Appendix 1)."), italic=True, size=11)

    # recipients and signature block
    para()
    sig = doc.add_table(rows=1, cols=2)
    _no_borders(sig)
    _set_col_widths(sig, [8.0, 8.0])
    left = sig.cell(0, 0).paragraphs[0]
    r = left.add_run("Nơi nhận:\n" if lang == "vi" else "Recipients:\n")
    r.bold, r.italic, r.font.size = True, True, Pt(12)
    province = str(getattr(params, "province", "") or "")
    prov_vi = (province[:1].lower() + province[1:]) if province else "tỉnh"
    recipients = ([f"- UBND {prov_vi} (b/c);",
                   "- Sở Giáo dục và Đào tạo;", "- Sở Lao động - Thương binh và Xã hội;",
                   "- Các cơ quan, đơn vị liên quan;", "- Lưu: VT."] if lang == "vi" else
                  [f"- People's Committee of {province or 'the province'} (to report);",
                   "- Department of Education and Training;", "- Department of Labour, Invalids and Social Affairs;",
                   "- Units concerned;", "- Archive."])
    left.add_run("\n".join(recipients)).font.size = Pt(11)
    right = sig.cell(0, 1).paragraphs[0]
    right.alignment = WD_ALIGN_PARAGRAPH.CENTER
    r = right.add_run(("TM. ỦY BAN NHÂN DÂN\nCHỦ TỊCH" if lang == "vi" else "FOR THE PEOPLE'S COMMITTEE\nCHAIR") + "\n")
    r.bold, r.font.size = True, Pt(13)
    r = right.add_run("(Ký, ghi rõ họ tên, đóng dấu)\n\n\n\n" if lang == "vi" else "(Signature, full name, seal)\n\n\n\n")
    r.italic, r.font.size = True, Pt(12)
    right.add_run("…………………………").bold = True

    # Appendix 1: the evidence tables, landscape, each with its figure beside it
    app = doc.add_section(WD_SECTION.NEW_PAGE)
    app.orientation = WD_ORIENT.LANDSCAPE
    app.page_width, app.page_height = Cm(29.7), Cm(21.0)
    app.top_margin, app.bottom_margin, app.left_margin, app.right_margin = Cm(2.0), Cm(2.0), Cm(2.0), Cm(2.0)
    app.different_first_page_header_footer = False
    available = 29.7 - 4.0
    doc.add_heading(ui["appendix_tables"], level=1)
    para(ui["units"], italic=True, size=11)
    min_cell = _min_cell(params, tables)
    for t in tables:
        doc.add_heading(f"{ui['table']} {t.number}. {t.title(lang)}", level=2)
        cols = t.display_columns(lang)
        fmts = t.formats()
        records = t.data.to_dict("records")
        labels = [_col_label(c, lang, t.entry) for c in cols]
        body = [[_cell(t.id, c, rec, fmts, lang) for c in cols] for rec in records]
        tbl = doc.add_table(rows=1, cols=len(cols))
        tbl.style = "Table Grid"
        tbl.alignment = WD_TABLE_ALIGNMENT.CENTER
        _repeat_header(tbl)
        for cell, lab in zip(tbl.rows[0].cells, labels):
            cell.text = lab
            run = cell.paragraphs[0].runs[0]
            run.bold = True
            run.font.size = Pt(9)
            _shade(cell, "D9E2EC")
        for values in body:
            cells = tbl.add_row().cells
            for cell, c, v in zip(cells, cols, values):
                cell.text = v
                par = cell.paragraphs[0]
                par.paragraph_format.space_after = Pt(0)
                if fmts.get(c, "text") not in ("text", "bool") or v == i18n.MISSING:
                    par.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                for run in par.runs:
                    run.font.size = Pt(9)
        lengths = [max([len(lab) // 2 + 1] + [len(v) for v in col_vals[:300]])
                   for lab, col_vals in zip(labels, zip(*body) if body else [[] for _ in cols])]
        _set_col_widths(tbl, _fit_widths(lengths, available))
        notes = t.notes(lang) + ([ui["suppressed_note"].format(min_cell=min_cell)]
                                 if any(_suppressed(r) for r in records) else [])
        p = para(f"{ui['notes']}: ", bold=True, size=10, align=WD_ALIGN_PARAGRAPH.LEFT)
        p.paragraph_format.keep_with_next = True
        for note in notes + [ui["full_csv"].format(csv=f"evidence/{t.id}.csv")]:
            q = para(note, size=10, style="List Bullet")
            q.paragraph_format.space_after = Pt(0)
        for f in beside.get(t.id, []):
            _docx_figure(doc, f, ui, width_cm=min(available, 22.0))
    for f in rest:
        _docx_figure(doc, f, ui, width_cm=min(available, 22.0))

    # Appendix 2: method notes and glossary
    doc.add_page_break()
    doc.add_heading(ui["appendix_methods"], level=1)
    for t in tables:
        notes = t.notes(lang)
        if notes:
            doc.add_heading(f"{ui['table']} {t.number}. {t.title(lang)}", level=3)
            for note in notes:
                q = para(note, size=11, style="List Bullet")
                q.paragraph_format.space_after = Pt(0)
    doc.add_heading(ui["glossary"], level=2)
    gl = doc.add_table(rows=1, cols=2)
    gl.style = "Table Grid"
    for cell, h in zip(gl.rows[0].cells, (ui["term"], ui["meaning"])):
        cell.text = h
        cell.paragraphs[0].runs[0].bold = True
    for term, meaning in i18n.glossary(lang):
        cells = gl.add_row().cells
        cells[0].text, cells[1].text = term, meaning
        cells[0].paragraphs[0].runs[0].bold = True
    _repeat_header(gl)
    _set_col_widths(gl, [5.5, available - 5.5])
    para(ui["footer"], italic=True, size=10)
    doc.save(str(path))
    normalize_zip(path)


def _repeat_header(table) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    trpr = table.rows[0]._tr.get_or_add_trPr()
    el = OxmlElement("w:tblHeader")
    el.set(qn("w:val"), "true")
    trpr.append(el)


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shd)


def _docx_figure(doc, f: dict, ui: Mapping[str, str], *, width_cm: float) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm

    h_cm = width_cm * f["height"] / max(1, f["width"])
    if h_cm > 13.5:  # keep a figure and its caption on one landscape page
        width_cm = width_cm * 13.5 / h_cm
    doc.add_picture(str(f["path"]), width=Cm(width_cm))
    pic = doc.paragraphs[-1]
    pic.alignment = WD_ALIGN_PARAGRAPH.CENTER
    pic.paragraph_format.keep_with_next = True
    cap = doc.add_paragraph(f"{ui['figure']} {f.get('number', 0)}. {f['caption']}", style="Caption")
    cap.alignment = WD_ALIGN_PARAGRAPH.CENTER


# ---------------------------------------------------------------------------------------
# HTML
# ---------------------------------------------------------------------------------------
def _write_html(path: Path, tables: list[_Table], figures: list[dict], params: Any, lang: str, synthetic: bool,
                since: list[str] | None = None) -> None:
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    env = Environment(loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html", "j2"]),
                      keep_trailing_newline=True)
    tpl = env.get_template("report.html.j2")
    ui = UI[lang]
    beside, rest = _figures_by_table(tables, figures)
    min_cell = _min_cell(params, tables)

    def fig_ctx(f):
        return {"name": f["name"], "caption": f["caption"], "number": f.get("number", 0),
                "data_uri": "data:image/png;base64," + base64.b64encode(Path(f["path"]).read_bytes()).decode("ascii")}

    ctx_tables = []
    for t in tables:
        cols = t.display_columns(lang)
        fmts = t.formats()
        headers = [{"label": _col_label(c, lang, t.entry), "description": i18n.column_description(c, lang)}
                   for c in cols]
        rows = []
        records = t.data.to_dict("records")
        for rec in records:
            css = []
            if _suppressed(rec):
                css.append("suppressed")
            if "recommended" in rec and not _missing(rec["recommended"]) and i18n._truthy(rec["recommended"]):
                css.append("recommended")
            rows.append({"css": " ".join(css),
                         "cells": [{"text": _cell(t.id, c, rec, fmts, lang),
                                    "num": _cell_format(t.id, c, rec, fmts) not in ("text", "bool")} for c in cols]})
        notes = t.notes(lang) + ([ui["suppressed_note"].format(min_cell=min_cell)]
                                 if any(_suppressed(r) for r in records) else [])
        ctx_tables.append({"id": t.id, "number": t.number, "title": t.title(lang), "headers": headers, "rows": rows,
                           "wide": len(cols) > 8, "notes": notes + [ui["full_csv"].format(csv=f"evidence/{t.id}.csv")],
                           "figures": [fig_ctx(f) for f in beside.get(t.id, [])]})
    sections = narrative.report_sections({t.id: t.data for t in tables}, lang, params, since=since)
    number = {t.id: t.number for t in tables}
    text = tpl.render(lang=lang, title=_title(params, lang), synthetic=synthetic, ui=ui,
                      facts=_facts(params, lang, synthetic), tables=ctx_tables,
                      figures=[fig_ctx(f) for f in rest], headline=_headline(tables, lang), sections=sections,
                      table_number=number, glossary=i18n.glossary(lang))
    path.write_text(text, encoding="utf-8", newline="\n")


# ---------------------------------------------------------------------------------------
# Entry point
# ---------------------------------------------------------------------------------------
def build_report(stage_dir: str | Path, params: Any, *, synthetic: bool | None = None,
                 lang: str | None = None, previous: str | Path | None = None) -> dict[str, Path]:
    """Write the workbook, the Word report and the HTML page of the run in ``stage_dir``.

    ``params`` is the run's ``ReviewParams`` (cycle, lang, titles, district, province, data,
    min_cell); ``lang`` overrides ``params.lang``; ``synthetic`` forces the synthetic notice on or
    off (default: decided by ``is_synthetic``). ``previous``: the evidence bundle of the district's
    previous review; the report then says, for every headline indicator, how it changed since
    (``compare.since_last_review``). Needs ``evidence/index.json``
    (``evidence.build_index``). Returns ``{"xlsx": path, "docx": path, "html": path}`` under
    ``stage_dir/report``.
    """
    stage = Path(stage_dir)
    lang = lang or getattr(params, "lang", None) or "vi"
    if lang not in UI:
        raise ValueError(f"lang: expected 'vi' or 'en', got {lang!r}")
    if not (stage / "evidence" / "index.json").is_file():
        raise FileNotFoundError(f"{stage / 'evidence' / 'index.json'}: no evidence index; call evidence.build_index first")
    tables = _load_tables(stage)
    figures = _figures(stage)
    _figures_by_table(tables, figures)  # number the figures in reading order
    synth = is_synthetic(stage, params, synthetic=synthetic)
    out_dir = stage / REPORT_DIR
    out_dir.mkdir(parents=True, exist_ok=True)
    cycle = str(getattr(params, "cycle", None) or "review")
    paths = {"xlsx": out_dir / f"{cycle}_{lang}.xlsx", "docx": out_dir / f"{cycle}_{lang}.docx",
             "html": out_dir / f"{cycle}_{lang}.html"}
    _write_xlsx(paths["xlsx"], tables, figures, params, lang, synth)
    since = None
    if previous is not None:
        from .compare import Bundle, since_last_review, since_last_review_text

        current = Bundle(stage, {"cycle": str(getattr(params, "cycle", "") or stage.name),
                                 "parameters": {"district": getattr(params, "district", "")}},
                         {t.id: t.data for t in tables})
        since = since_last_review_text(since_last_review(previous, current), lang)
    _write_docx(paths["docx"], tables, figures, params, lang, synth, since)
    _write_html(paths["html"], tables, figures, params, lang, synth, since)
    return paths
