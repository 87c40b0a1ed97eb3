"""Every word and number a person reads, in Vietnamese or English: one module.

* **Numbers** (:func:`num`, :func:`pct`, :func:`pp`, :func:`integer`, :func:`pvalue`, :func:`ci`,
  :func:`format_value`): Vietnamese decimal comma and dot thousands ("32,2 %", "1.234"),
  English decimal point and comma thousands ("32.2 %", "1,234"); rates are fractions 0..1 shown
  as percentages, effects and gaps are percentage points ("3,4 điểm %" / "3.4 pp"); a missing
  value is "–".
* **Labels**: :func:`value_label` (a code in an evidence table: ``callaway_santanna``,
  ``glm_binomial``, ``voc_intermediate``, a validation check …), :func:`column_label` and
  :func:`column_description` (``reference_data/columns.csv``), :func:`text` (the fixed text of
  reports, figures and notebooks), :func:`translate` (free text the estimators write in English,
  such as a method or a target's source, put into Vietnamese phrase by phrase).
* **Glossary** (:data:`GLOSSARY`): ATT, TWFE, KTC 95 %, điểm % …, shown in every report.
* **Checking a report** (:func:`stray_words`): the English words and raw codes left in a text
  that should be wholly Vietnamese (and Vietnamese words in an English one); the report tests
  scan every file with it.

Nothing here reads data or computes a statistic.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

import pandas as pd

from .paths import PACKAGE_DIR

__all__ = ["LANGS", "MISSING", "check_lang", "num", "pct", "pp", "integer", "pvalue", "ci", "format_value",
           "value_label", "column_label", "column_description", "text", "translate", "localize",
           "GLOSSARY", "glossary", "stray_words", "nfc"]

LANGS = ("vi", "en")
#: How a missing, empty or suppressed value is shown.
MISSING = "–"
_REFERENCE_DIR = PACKAGE_DIR / "reference_data"


def check_lang(lang: str) -> str:
    if lang not in LANGS:
        raise ValueError(f"lang: expected 'vi' or 'en', got {lang!r}")
    return lang


def nfc(s: object) -> str:
    """Unicode NFC (a decomposed "ờ" is drawn as a letter plus a floating mark)."""
    return unicodedata.normalize("NFC", str(s))


def _missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


# --------------------------------------------------------------------------- numbers
def _dec(s: str, lang: str) -> str:
    """Swap separators of an English-formatted number ("1,234.5") into Vietnamese ("1.234,5")."""
    if lang != "vi":
        return s
    return s.replace(",", "\0").replace(".", ",").replace("\0", ".")


def num(v: Any, lang: str, digits: int = 1, *, signed: bool = False) -> str:
    """A number with ``digits`` decimals ("1,7" / "1.7"; no thousands separator, see :func:`integer`);
    a sign always, and a true minus sign, when ``signed``."""
    if _missing(v):
        return MISSING
    x = float(v)
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    s = _dec(f"{x:{'+' if signed else ''}.{digits}f}", lang)
    return s.replace("-", "−") if signed else s


def pct(v: Any, lang: str, digits: int = 1) -> str:
    """A rate (fraction 0..1) as a percentage: 0.3219 -> "32,2 %" (vi) / "32.2 %" (en)."""
    if _missing(v):
        return MISSING
    return num(float(v) * 100, lang, digits) + " %"


def pp(v: Any, lang: str, digits: int = 1, *, unit: bool = True, signed: bool = False) -> str:
    """Percentage points: 3.44 -> "3,4 điểm %" (vi) / "3.4 pp" (en); ``unit=False`` drops the unit."""
    if _missing(v):
        return MISSING
    s = num(v, lang, digits, signed=signed)
    return s + ((" điểm %" if lang == "vi" else " pp") if unit else "")


def integer(v: Any, lang: str) -> str:
    """A count with thousands separators: 38269 -> "38.269" (vi) / "38,269" (en)."""
    if _missing(v):
        return MISSING
    return _dec(f"{int(round(float(v))):,}", lang)


def pvalue(v: Any, lang: str) -> str:
    """A p-value with three decimals; below 0.001 as "< 0,001"."""
    if _missing(v):
        return MISSING
    x = float(v)
    return ("< " + _dec("0.001", lang)) if x < 0.001 else _dec(f"{x:.3f}", lang)


def ci(lo: Any, hi: Any, lang: str, fmt: str = "pp", digits: int = 1) -> str:
    """A 95 % interval "a đến b" / "a to b" in the unit of ``fmt`` (``pp``, ``rate`` or ``number``)."""
    f = {"rate": lambda x: pct(x, lang, digits), "pp": lambda x: num(x, lang, digits),
         "number": lambda x: num(x, lang, digits)}[fmt]
    return f"{f(lo)} đến {f(hi)}" if lang == "vi" else f"{f(lo)} to {f(hi)}"


def format_value(value: Any, fmt: str, lang: str) -> str:
    """A value of an evidence column as a person reads it, by the column's format
    (``reference_data/columns.csv``): ``rate`` "41,3 %", ``pp`` "3,4", ``count`` "1.234",
    ``int``/``year`` "2025", ``p`` "0,047", ``number`` "1,25", ``bool`` Có/Không (Yes/No),
    missing "–"."""
    if _missing(value):
        return MISSING
    if fmt == "bool":
        return text("yes" if _truthy(value) else "no", lang)
    if fmt in ("rate", "pp", "p", "number", "count", "int", "year"):
        try:
            v = float(value)
        except (TypeError, ValueError):
            return str(value)
        if math.isinf(v):
            return num(v, lang)
        if fmt == "rate":
            return pct(v, lang)
        if fmt == "pp":
            return num(v, lang, 1)
        if fmt == "p":
            return pvalue(v, lang)
        if fmt == "number":
            return num(v, lang, 2)
        if fmt == "count":
            return integer(v, lang)
        return str(int(round(v)))
    return str(value)


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("true", "1", "yes", "có")
    return bool(v)


# --------------------------------------------------------------------------- fixed text
_TEXT: dict[str, tuple[str, str]] = {
    # report frame
    "synthetic_banner": ("DỮ LIỆU MÔ PHỎNG – KHÔNG PHẢI SỐ LIỆU THỰC", "SYNTHETIC DATA – NOT REAL FIGURES"),
    "synthetic_detail": ("Mọi con số trong báo cáo này được tính từ dữ liệu mô phỏng do bộ công cụ tạo ra để kiểm tra "
                         "phương pháp. Không dùng để đánh giá hay ra quyết định.",
                         "Every number in this report is computed from synthetic data generated by the toolkit to "
                         "test its methods. Do not use it to assess or decide anything."),
    "contents": ("Danh mục bảng", "Tables"), "toc": ("Mục lục", "Contents"),
    "toc_hint": ("(Mục lục được cập nhật khi mở tệp: chọn Cập nhật trường hoặc nhấn F9.)",
                 "(The table of contents is filled in when the file is opened: choose Update field or press F9.)"),
    "table": ("Bảng", "Table"), "figure": ("Hình", "Figure"), "figures": ("Biểu đồ", "Figures"),
    "notes": ("Ghi chú", "Notes"), "machine_table": ("Bảng cho máy đọc", "Machine-readable table"),
    "notebook": ("Sổ tính", "Notebook"), "district": ("Địa bàn", "Area"), "province": ("Tỉnh", "Province"),
    "cycle": ("Kỳ sơ kết", "Review cycle"), "period": ("Giai đoạn", "Period"), "data": ("Nguồn dữ liệu", "Data source"),
    "min_cell": ("Ngưỡng ẩn ô (số học sinh tối thiểu)", "Minimum cell (students)"),
    "language": ("Ngôn ngữ", "Language"), "language_value": ("Tiếng Việt", "English"), "cover": ("Bìa", "Cover"),
    "method_notes": ("Ghi chú phương pháp", "Method notes"), "figures_sheet": ("Biểu đồ", "Figures"),
    "glossary": ("Giải thích thuật ngữ", "Glossary"), "columns_explained": ("Giải thích các cột", "Columns explained"),
    "column": ("Cột", "Column"), "term": ("Thuật ngữ", "Term"), "meaning": ("Ý nghĩa", "Meaning"),
    "table_title": ("Tên bảng", "Table title"), "note": ("Ghi chú", "Note"), "yes": ("Có", "Yes"), "no": ("Không", "No"),
    "units": ("Đơn vị: tỷ lệ hiển thị dạng %; tác động và chênh lệch tính bằng điểm phần trăm (điểm %); khoảng tin "
              "cậy (KTC) 95 %. Ô có dấu –: không có số liệu hoặc bị ẩn vì quá ít học sinh.",
              "Units: rates shown as %; effects and gaps in percentage points (pp); 95 % confidence intervals (CI). "
              "A cell with –: no data, or suppressed because it counts too few students."),
    "suppressed_note": ("Dấu – trong ô: số liệu bị ẩn vì tính từ ít hơn {min_cell} học sinh (bảo vệ dữ liệu cá nhân) "
                        "hoặc không có số liệu.",
                        "– in a cell: suppressed because computed from fewer than {min_cell} students (personal "
                        "data protection), or no data."),
    "full_csv": ("Bảng đầy đủ (mọi cột) ở tệp {csv} và trong sổ Excel.",
                 "Full table (every column) in {csv} and in the workbook."),
    "footer": ("Tạo tự động bởi bộ công cụ đánh giá từ bộ bằng chứng của lần chạy; mọi số liệu lấy từ các bảng số liệu "
               "của bộ bằng chứng.",
               "Generated by the evaluation toolkit from the run's evidence bundle; every number comes from its "
               "evidence tables."),
    "data_synthetic": ("mô phỏng", "synthetic"), "summary": ("Tóm tắt", "Summary"),
    "summary_lead": ("Các con số chính so với chỉ tiêu", "The headline numbers against their targets"),
    "indicator": ("Chỉ tiêu / chỉ số", "Indicator"), "value": ("Kết quả", "Result"), "target": ("Mục tiêu", "Target"),
    "status": ("Đánh giá", "Assessment"), "met": ("Đạt", "Met"), "not_met": ("Chưa đạt", "Not met"),
    "not_determined": ("Chưa xác định", "Not determined"), "no_target": ("Không có chỉ tiêu", "No target"),
    "page": ("Trang", "Page"), "of": ("/", "of"), "appendix": ("Phụ lục", "Appendix"),
    "appendix_tables": ("Phụ lục 1. Các bảng số liệu", "Appendix 1. Evidence tables"),
    "appendix_methods": ("Phụ lục 2. Ghi chú phương pháp và giải thích thuật ngữ",
                         "Appendix 2. Method notes and glossary"),
    "print": ("In báo cáo", "Print the report"),
    # figures (evaluation.figures.text)
    "fig_uptake_title": ("Tỷ lệ học nghề sau tốt nghiệp so với chỉ tiêu", "Vocational uptake after graduation against the target"),
    "fig_communes_title": ("Tỷ lệ học nghề theo xã so với chỉ tiêu, năm {year}", "Vocational uptake by commune against the target, {year}"),
    "fig_coverage_title": ("Tỷ lệ trường có giáo viên tư vấn hướng nghiệp đã qua đào tạo",
                       "Schools with a trained career-counseling teacher"),
    "fig_event_title": ("Tác động theo số năm kể từ khi trường có GV tư vấn (KTC 95 %)",
                    "Effect by years since the school's first trained counselor (95 % CI)"),
    "fig_equity_title": ("Chênh lệch tỷ lệ học nghề so với nhóm so sánh (KTC 95 %)",
                     "Gap in vocational uptake against the reference group (95 % CI)"),
    "fig_pct_graduates": ("% học sinh tốt nghiệp", "% of graduates"),
    "fig_pct_schools": ("% số trường", "% of schools"),
    "fig_pp": ("điểm phần trăm", "percentage points"),
    "fig_reference_period": ("kỳ tham chiếu", "reference period"),
    "fig_suppressed": ("(ẩn: ít học sinh)", "(suppressed: few students)"),
    "fig_met": ("đạt chỉ tiêu", "target met"),
    "fig_not_met": ("chưa đạt chỉ tiêu", "target not met"),
    "fig_no_target": ("không có chỉ tiêu", "no target"),
    "fig_raw": ("chênh lệch thô", "raw gap"),
    "fig_adjusted": ("đã điều chỉnh (trường, năm)", "adjusted (school, year)"),
    "fig_vs": ("so với", "vs"),
    "fig_no_data": ("Không có số liệu", "No data"),
}


def text(key: str, lang: str, **fields: Any) -> str:
    """A fixed piece of report text in ``lang``; ``fields`` fill its ``{placeholders}``."""
    vi, en = _TEXT[key]
    s = vi if check_lang(lang) == "vi" else en
    return s.format(**fields) if fields else s


def ui(lang: str) -> dict[str, str]:
    """Every fixed text in ``lang`` as a mapping (for templates)."""
    return {k: (v[0] if lang == "vi" else v[1]) for k, v in _TEXT.items()}


# --------------------------------------------------------------------------- labels of codes
#: Codes of the evidence tables beyond ``reference_data/labels.csv`` (kind, code): (vi, en).
_VALUE_LABELS: dict[tuple[str, str], tuple[str, str]] = {
    ("poverty", "poor"): ("Hộ nghèo", "Poor household"),
    ("poverty", "not_poor"): ("Không thuộc hộ nghèo", "Not poor"),
    ("disadvantaged", "disadvantaged"): ("Vùng khó khăn", "Disadvantaged area"),
    ("disadvantaged", "not_disadvantaged"): ("Vùng không khó khăn", "Not disadvantaged"),
    ("group_var", "poverty"): ("Hộ nghèo", "Poverty"),
    ("group_var", "poor_household"): ("Hộ nghèo", "Poverty"),
    ("group_var", "disadvantaged"): ("Vùng khó khăn", "Disadvantaged area"),
    ("poor_household", "poor"): ("Hộ nghèo", "Poor household"),
    ("poor_household", "not_poor"): ("Không thuộc hộ nghèo", "Not poor"),
    ("estimator", "twfe"): ("Hiệu ứng cố định hai chiều (TWFE)", "Two-way fixed effects (TWFE)"),
    ("estimator", "twfe_logit"): ("TWFE logit", "TWFE logit"),
    ("estimator", "callaway_santanna"): ("Callaway–Sant'Anna (áp dụng so le)", "Callaway–Sant'Anna (staggered)"),
    ("estimator", "event_study"): ("Nghiên cứu sự kiện (TWFE)", "Event study (TWFE)"),
    ("estimator", "ipw"): ("Trọng số nghịch đảo xác suất", "Inverse probability weighting"),
    ("estimator", "dr"): ("Ước lượng vững kép", "Doubly robust"),
    ("model", "glm_binomial"): ("Hồi quy nhị thức (hiệu ứng biên trung bình)", "Binomial regression (average marginal effect)"),
    ("model", "lpm"): ("Mô hình xác suất tuyến tính", "Linear probability model"),
    ("model", "annual_ols"): ("Hồi quy trên tỷ lệ từng năm (được báo cáo)", "Regression on the annual rates (reported)"),
    ("restriction", "none"): ("Không giới hạn (khoảng gốc)", "None (original interval)"),
    ("restriction", "relative_magnitude"): ("Độ lớn tương đối (M̄)", "Relative magnitude (M̄)"),
    ("restriction", "smoothness"): ("Độ trơn (M, điểm %/năm)", "Smoothness (M, pp per year)"),
    ("estimand", "post_average"): ("Tác động trung bình năm 0-2 sau khi có GV tư vấn",
                                   "Average effect in years 0-2 after coverage"),
    ("estimand", "e0"): ("Tác động năm đầu có GV tư vấn", "Effect in the first covered year"),
    ("plan", "status_quo"): ("Giữ nguyên hiện trạng", "Status quo"),
    ("plan", "pace"): ("Theo nhịp độ hiện nay", "Current pace"),
    ("plan", "full_coverage"): ("Mọi trường có GV tư vấn", "Every school covered"),
    ("method", "counted"): ("Đếm trực tiếp", "Counted"),
    ("method", "hazard"): ("Mô hình thời gian đến sự kiện", "Time-to-event model"),
    ("method", "projection_lpm"): ("Ngoại suy xu hướng tuyến tính", "Linear trend projection"),
    ("indicator", "counselor_coverage_pace"): ("Tỷ lệ trường có GV tư vấn (theo nhịp độ hiện nay)",
                                               "Counselor coverage (current pace)"),
    ("indicator", "transition_after_thcs_full_coverage"): ("Tỷ lệ học tiếp sau THCS (mọi trường có GV tư vấn)",
                                                           "Transition after THCS (every school covered)"),
    ("indicator", "voc_uptake_full_coverage"): ("Tỷ lệ học nghề (mọi trường có GV tư vấn)",
                                                "Vocational uptake (every school covered)"),
    ("target_met", "met"): ("Đạt", "Met"), ("target_met", "not_met"): ("Chưa đạt", "Not met"),
    ("target_met", "not_determined"): ("Chưa xác định", "Not determined"),
    ("target_met", "True"): ("Đạt", "Met"), ("target_met", "False"): ("Chưa đạt", "Not met"),
    ("target_met", "true"): ("Đạt", "Met"), ("target_met", "false"): ("Chưa đạt", "Not met"),
    ("status", "ok"): ("Ước lượng được", "Estimated"), ("status", "not_estimable"): ("Không ước lượng được", "Not estimable"),
    ("status", "not_informative"): ("Không đủ thông tin", "Not informative"),
    ("topic", "data_quality"): ("Chất lượng dữ liệu", "Data quality"), ("topic", "uptake"): ("Học nghề", "Uptake"),
    ("topic", "target"): ("Chỉ tiêu", "Target"), ("topic", "communes"): ("Theo xã", "By commune"),
    ("topic", "coverage"): ("GV tư vấn", "Counselors"), ("topic", "trend"): ("Xu hướng", "Trend"),
    ("topic", "effect"): ("Tác động", "Effect"), ("topic", "equity"): ("Công bằng", "Equity"),
    ("topic", "projection"): ("Dự báo", "Projection"), ("topic", "labour"): ("Nhu cầu lao động", "Labour demand"),
    ("topic", "network"): ("Mạng lưới GDNN", "Vocational network"),
    ("unit", "rate"): ("tỷ lệ", "rate"), ("unit", "pp"): ("điểm %", "pp"), ("unit", "pp per year"): ("điểm %/năm", "pp per year"),
    ("unit", "communes"): ("xã", "communes"), ("unit", "warnings"): ("cảnh báo", "warnings"),
    ("table", "graduates"): ("Học sinh tốt nghiệp", "Graduates"), ("table", "counseling"): ("Tư vấn hướng nghiệp", "Counseling"),
    ("table", "schools"): ("Trường", "Schools"), ("table", "communes"): ("Xã", "Communes"),
    ("table", "students"): ("Học sinh", "Students"), ("table", "labour_demand"): ("Nhu cầu lao động", "Labour demand"),
    ("table", "vocational_supply"): ("Cơ sở GDNN", "Vocational supply"),
    ("comparison_group", "notyet"): ("Trường chưa có GV tư vấn", "Not-yet-covered schools"),
    ("comparison_group", "never"): ("Trường không bao giờ có GV tư vấn", "Never-covered schools"),
}
#: Validation checks (``evaluation.validation``): what each checks, in both languages.
_CHECKS: dict[str, tuple[str, str]] = {
    "all_checks": ("Mọi quy tắc kiểm tra", "Every check"),
    "counseling_missing": ("Thiếu số liệu tư vấn của trường-năm", "School-year without a counseling row"),
    "destination_level": ("Hướng đi không hợp với cấp học", "Destination not valid for the level"),
    "duplicate_key": ("Khóa bị trùng", "Duplicate key"), "empty_table": ("Bảng rỗng", "Empty table"),
    "file_duplicate": ("Tệp bị trùng", "Duplicate file"), "file_missing": ("Thiếu tệp", "Missing file"),
    "file_unreadable": ("Không đọc được tệp", "Unreadable file"), "folder_missing": ("Thiếu thư mục", "Missing folder"),
    "geography": ("Mã xã không khớp địa giới", "Commune of another geography"),
    "level_not_taught": ("Trường không dạy cấp học này", "Level not taught at the school"),
    "microdata_mismatch": ("Số liệu học sinh không khớp số tổng hợp", "Student records disagree with the counts"),
    "missing_column": ("Thiếu cột", "Missing column"), "missing_value": ("Thiếu giá trị", "Missing value"),
    "personal_data": ("Có dữ liệu cá nhân", "Personal data present"), "range": ("Giá trị ngoài khoảng", "Value out of range"),
    "reference": ("Mã tham chiếu không tồn tại", "Unknown reference"),
    "reporting_gap": ("Năm không báo cáo", "Year not reported"),
    "schema": ("Sai kiểu dữ liệu", "Wrong type"), "table_absent": ("Thiếu bảng", "Table absent"),
    "unknown_share": ("Tỷ lệ không rõ hướng đi cao", "High share of unknown destinations"),
}


@lru_cache(maxsize=None)
def _labels_csv() -> dict[tuple[str, str], tuple[str, str]]:
    df = pd.read_csv(_REFERENCE_DIR / "labels.csv", dtype=str, keep_default_na=False)
    return {(k, c): (vi, en) for k, c, vi, en in zip(df["kind"], df["code"], df["label_vi"], df["label_en"])}


#: Column names that hold a code of another kind.
_KIND_OF_COLUMN = {"target_area_type": "area_type", "target_standing": "standing", "reference": None,
                   "qualification": "qualification", "measure": "indicator", "dimension": "group_var",
                   "check": "check", "voc_level": "voc_level"}


def value_label(kind: str, code: Any, lang: str = "vi") -> str:
    """The label of ``code`` of ``kind`` in ``lang``: ``reference_data/labels.csv`` plus the codes
    of estimators, models, plans, validation checks, groups …; the code itself if none."""
    check_lang(lang)
    k, c = str(kind), str(code)
    k = _KIND_OF_COLUMN.get(k) or k
    if k == "check" and c in _CHECKS:
        hit = _CHECKS[c]
    else:
        hit = _VALUE_LABELS.get((k, c)) or _labels_csv().get((k, c))
    if hit is None and k == "level" and c in ("elementary", "intermediate", "college"):
        hit = _labels_csv().get(("voc_level", c))
    if hit is None and k in ("group", "reference"):
        for kk in ("sex", "ethnicity", "poverty", "disadvantaged", "area_type"):
            hit = _VALUE_LABELS.get((kk, c)) or _labels_csv().get((kk, c))
            if hit:
                break
    if hit is None:
        return c
    return hit[0] if lang == "vi" else hit[1]


@lru_cache(maxsize=None)
def _columns_csv() -> dict[str, dict[str, str]]:
    df = pd.read_csv(_REFERENCE_DIR / "columns.csv", dtype=str, keep_default_na=False)
    return {r["column"]: dict(r) for r in df.to_dict("records")}


_EXTRA_COLUMNS: dict[str, tuple[str, str, str, str]] = {
    "status": ("Tình trạng ước lượng", "Estimate status", "ok: ước lượng được; không ước lượng được; không đủ thông tin",
               "ok, not estimable or not informative"),
    "reason_vi": ("Lý do", "Reason (Vietnamese)", "Lý do không ước lượng được", "Why no estimate (Vietnamese)"),
    "reason_en": ("Lý do (tiếng Anh)", "Reason", "Lý do không ước lượng được (tiếng Anh)", "Why no estimate"),
    "restriction": ("Giả định hạn chế", "Restriction", "Loại giới hạn Rambachan–Roth", "Rambachan–Roth restriction"),
    "M": ("M", "M", "Độ lệch xu hướng cho phép", "Allowed trend deviation"),
}


def column_label(column: str, lang: str) -> str:
    """The header of an evidence column in ``lang`` (``reference_data/columns.csv``)."""
    row = _columns_csv().get(column)
    if row:
        return row[f"label_{lang}"] or column
    extra = _EXTRA_COLUMNS.get(column)
    return (extra[0] if lang == "vi" else extra[1]) if extra else column


def column_description(column: str, lang: str) -> str:
    row = _columns_csv().get(column)
    if row:
        return row[f"description_{lang}"]
    extra = _EXTRA_COLUMNS.get(column)
    return (extra[2] if lang == "vi" else extra[3]) if extra else ""


# --------------------------------------------------------------------------- free text
#: English phrases the estimators and reference data write, in order (longest first), with their
#: Vietnamese. :func:`translate` applies them to a whole text.
_PHRASES: list[tuple[str, str]] = [
    (r"Decision (\S+) \(([^)]*)\)", r"Quyết định \1 (\2)"),
    (r"Decision (\S+)", r"Quyết định \1"),
    (r"Directive (\S+) of (.+?) provincial party committee", r"Chỉ thị \1 của Tỉnh ủy \2"),
    (r"Government plan for general education to (\d{4})", r"Kế hoạch của Chính phủ về giáo dục phổ thông đến năm \1"),
    (r"ATT: post-treatment ATT\(g,t\) averaged with group-size weights",
     "ATT: trung bình các ATT(g,t) sau can thiệp, trọng số theo quy mô nhóm"),
    (r"ATT under homogeneous effects; biased under staggered adoption with dynamic effects",
     "ATT khi tác động đồng nhất; bị chệch khi áp dụng so le và tác động thay đổi theo thời gian"),
    (r"ATT under homogeneous effects", "ATT khi tác động đồng nhất"),
    (r"delete-one-cluster jackknife", "jackknife bỏ từng cụm"),
    (r"t\(G-1\) critical values", "giá trị tới hạn t(G-1)"),
    (r"unit level", "cấp đơn vị"),
    (r"cluster-robust \(CRV1\) by school_id", "sai số chuẩn vững theo cụm trường (CRV1)"),
    (r"cluster-robust \(CRV1\)", "sai số chuẩn vững theo cụm (CRV1)"),
    (r"multiplier bootstrap", "bootstrap nhân"), (r"wild cluster bootstrap", "bootstrap hoang dã theo cụm"),
    (r"never treated and not yet treated units", "trường chưa bao giờ và trường chưa có GV tư vấn"),
    (r"not yet treated units", "trường chưa có GV tư vấn"), (r"never treated units", "trường không bao giờ có GV tư vấn"),
    (r"change in vocational/graduates per year \(average marginal effect\)",
     "thay đổi tỷ lệ học nghề mỗi năm (hiệu ứng biên trung bình)"),
    (r"change in vocational/graduates per year", "thay đổi tỷ lệ học nghề mỗi năm"),
    (r"cluster-robust \(CRV1\) by school_id", "sai số chuẩn vững theo cụm trường (CRV1)"),
    (r"cluster \(CRV1\) by school_id", "theo cụm trường (CRV1)"), (r"cluster \(school_id\)", "theo cụm trường"),
    (r"vocational/graduates: trend and effect by event time", "tỷ lệ học nghề: xu hướng và tác động theo thời điểm"),
    (r"analytic", "giải tích"), (r"staggered adoption", "áp dụng so le"),
    (r"\bcolumns? ", "cột "), (r"\brows? (\d)", r"dòng \1"),
    (r"expected a counseling row for each school-year with graduates \(the school-year counts as missing, not as "
     r"uncovered\)", "cần một dòng tư vấn cho mỗi trường-năm có học sinh tốt nghiệp (trường-năm bị tính là thiếu số "
                     "liệu, không phải chưa có GV tư vấn)"),
    (r"expected graduates rows in every year from the school's first year to the last year of data \((\d{4})\)",
     r"cần số liệu tốt nghiệp mọi năm từ năm đầu của trường đến năm cuối của dữ liệu (\1)"),
    (r"expected at most (\d+)% of graduates with destination 'unknown' \(per school, level and year\)",
     r"tỷ lệ học sinh không rõ hướng đi không quá \1 % (mỗi trường, cấp học, năm)"),
    (r"expected ", "yêu cầu: "),
    (r"Không phát hiện vấn đề / no problems found", "Không phát hiện vấn đề"),
]
_PHRASES_RE = [(re.compile(p), r) for p, r in _PHRASES]
#: Column names as they appear inside free text (a data-quality detail names the file's columns).
_COLUMN_WORDS_VI = {"school_id": "mã trường", "year": "năm", "destination": "hướng đi", "commune_code": "mã xã",
                    "level": "cấp học", "graduates": "số tốt nghiệp", "sex": "giới tính", "ethnicity": "dân tộc",
                    "covered": "có GV tư vấn", "student_key": "mã học sinh", "trade": "ngành nghề",
                    "institution_id": "mã cơ sở"}


def translate(value: Any, lang: str, column: str | None = None) -> str:
    """Free text of an evidence table in ``lang``: English as written (the estimators and the
    reference data write English); Vietnamese phrase by phrase for what the toolkit writes
    (a target's source, a method, an estimand, a data-quality detail). ``column`` names the
    column the text is from (codes in it are then labelled)."""
    if _missing(value):
        return MISSING
    s = str(value)
    if column == "destinations":
        if s == "voc_*":
            return "mọi trình độ nghề" if lang == "vi" else "every vocational level"
        return "; ".join(value_label("destination", d, lang) for d in s.split(";"))
    if column is not None and (_KIND_OF_COLUMN.get(column) or column) in _CODE_KINDS:
        lab = value_label(column, s, lang)
        if lab != s or lang != "vi":
            return lab
    if lang != "vi":
        return s
    for rx, rep in _PHRASES_RE:
        s = rx.sub(rep, s)
    s = re.sub(r"\b(" + "|".join(map(re.escape, _COLUMN_WORDS_VI)) + r")\b", lambda m: _COLUMN_WORDS_VI[m.group(1)], s)
    # English the phrase book does not know stays out of a Vietnamese report (the CSV keeps it)
    return MISSING if stray_words(s, "vi") else s


_CODE_KINDS = {"estimator", "model", "plan", "method", "indicator", "group_var", "area_type", "standing", "severity",
               "coverage_status", "qualification", "voc_level", "check", "topic", "unit", "status", "level", "table",
               "comparison_group", "restriction", "estimand"}


def localize(text_: str, lang: str) -> str:
    """A note or sentence in ``lang`` with the raw codes it cites replaced by their labels
    (``min_cell`` -> "ngưỡng ẩn ô", ``counseling_missing`` -> its check label …)."""
    if lang != "vi":
        return text_
    s = str(text_)
    s = re.sub(r"\(min_cell\)", "(ngưỡng ẩn ô)", s)
    s = re.sub(r"\bmin_cell\b", "ngưỡng ẩn ô", s)
    s = re.sub(r"\b(" + "|".join(map(re.escape, _CHECKS)) + r")\b", lambda m: _CHECKS[m.group(1)][0].lower(), s)
    for (kind, code), (vi, _en) in _VALUE_LABELS.items():
        if ("_" in code or len(code) >= 4 or kind == "model") and kind in ("estimator", "model", "plan", "method",
                                                                             "indicator"):
            s = re.sub(rf"(?<![\w/]){re.escape(code)}(?![\w/])", vi, s)
    for (kind, code), (vi, _en) in _labels_csv().items():
        if "_" in code and kind in ("indicator", "destination"):
            s = re.sub(rf"\b{re.escape(code)}\b", vi, s)
    for rx, rep in _PHRASES_RE:
        s = rx.sub(rep, s)
    return s


# --------------------------------------------------------------------------- glossary
#: (term, meaning) in Vietnamese and in English; shown in every report's methods appendix.
GLOSSARY: tuple[tuple[str, str, str, str], ...] = (
    ("THCS / THPT", "Trung học cơ sở (lớp 9) / Trung học phổ thông (lớp 12): cấp học sinh tốt nghiệp.",
     "THCS / THPT", "Lower secondary (grade 9) / upper secondary (grade 12): the level the students graduate from."),
    ("Tỷ lệ học nghề", "Số học sinh tốt nghiệp vào học nghề (sơ cấp, trung cấp kể cả 9+, cao đẳng) chia cho số học "
     "sinh tốt nghiệp.", "Vocational uptake", "Graduates entering vocational training (elementary, intermediate "
     "incl. 9+, college) divided by all graduates."),
    ("Điểm % (điểm phần trăm)", "Chênh lệch giữa hai tỷ lệ phần trăm: từ 30 % lên 33 % là tăng 3 điểm %.",
     "pp (percentage points)", "The difference between two percentages: from 30 % to 33 % is a rise of 3 pp."),
    ("KTC 95 %", "Khoảng tin cậy 95 %: khoảng giá trị phù hợp với số liệu; khoảng càng hẹp, ước lượng càng chắc chắn.",
     "95 % CI", "95 % confidence interval: the values consistent with the data; the narrower, the surer the estimate."),
    ("ATT", "Tác động trung bình lên các trường được can thiệp: tỷ lệ học nghề thay đổi bao nhiêu điểm % khi trường có "
     "giáo viên tư vấn hướng nghiệp đã qua đào tạo.", "ATT", "Average effect on the treated schools: how many "
     "percentage points uptake changes when a school has a trained career-counseling teacher."),
    ("TWFE", "Hồi quy hiệu ứng cố định hai chiều (trường và năm); chỉ dùng để đối chiếu vì bị chệch khi các trường bắt "
     "đầu vào các năm khác nhau.", "TWFE", "Two-way (school and year) fixed-effects regression; a diagnostic only, "
     "biased when schools start in different years."),
    ("Callaway–Sant'Anna", "Phương pháp ước lượng tác động khi các trường có giáo viên tư vấn vào các năm khác nhau, so "
     "sánh với các trường chưa có; là ước lượng được báo cáo.", "Callaway–Sant'Anna", "The estimator of the effect "
     "when schools are covered in different years, compared with schools not yet covered; the estimate reported."),
    ("Kiểm định xu hướng trước", "Kiểm tra các trường có và chưa có giáo viên tư vấn có diễn biến giống nhau trước khi "
     "can thiệp hay không (điều kiện để tin ước lượng tác động).", "Pre-trend check", "Whether covered and not-yet-"
     "covered schools moved alike before coverage (the condition for trusting the effect estimate)."),
    ("Giá trị p", "Xác suất gặp kết quả như vậy nếu thực ra không có tác động; dưới 0,05 thường coi là rõ ràng về "
     "thống kê.", "p-value", "The chance of a result like this if there were no effect; below 0.05 is usually taken "
     "as statistically clear."),
    ("Ô bị ẩn (–)", "Ô tính từ quá ít học sinh được ẩn để bảo vệ dữ liệu cá nhân.", "Suppressed cell (–)",
     "A cell computed from too few students is hidden to protect personal data."),
    ("Cụm", "Nhóm quan sát có liên quan (ở đây là trường); sai số chuẩn tính theo cụm.", "Cluster",
     "A group of related observations (here a school); standard errors allow for clustering."),
    ("Sai số chuẩn", "Độ không chắc chắn của ước lượng; hiển thị trong ngoặc đơn dưới ước lượng.", "Standard error",
     "The uncertainty of an estimate; shown in parentheses under the estimate."),
)


def glossary(lang: str) -> list[tuple[str, str]]:
    """(term, meaning) pairs of :data:`GLOSSARY` in ``lang``."""
    check_lang(lang)
    return [(g[0], g[1]) if lang == "vi" else (g[2], g[3]) for g in GLOSSARY]


# --------------------------------------------------------------------------- checking a report
#: English words that give away untranslated text in a Vietnamese report.
_ENGLISH_WORDS = frozenset("""
the of and with under for from into than that this these those which when where while without within between
is are was were be been being has have had will would could should might must not no yes
rate rates level levels school schools student students graduate graduates target targets effect effects
estimate estimates estimator estimated biased homogeneous staggered adoption dynamic treated untreated never yet
unit units cluster clusters robust critical values value weights weighted averaged average group groups size
post pre treatment trend trends model models linear binomial projection projected coverage counselor counselors
counseling uptake vocational intermediate college elementary university decision directive plan government
general education provincial party committee expected column row rows missing unknown destination year years
share table tables data synthetic figure figures note notes source page contents glossary appendix per by at
or as it its if only every each all any some more most less few
""".split())
#: Vietnamese words that give away untranslated text in an English report (diacritics make them safe).
_VIETNAMESE_WORDS = frozenset("""
của và các những được trong không cho với học sinh trường năm tỷ lệ chỉ tiêu đạt chưa bảng hình ghi chú
""".split())
#: Proper names, acronyms and units that stay as they are in either language.
_ALLOWED = frozenset("""
THCS THPT GDNN GDTX ATT TWFE KTC CI pp Callaway Sant'Anna Sant Anna Khmer Kinh Hoa CRV1 jackknife bootstrap logit
QĐ-TTg CT/TU NĐ-CP UBND SGDĐT PGDĐT Excel Word HTML CSV Rambachan Roth F9 M G t(G-1) ATT(g,t) p
""".split())


def _tokens(s: str) -> list[str]:
    return re.findall(r"[^\s,;:()\[\]{}\"“”‘’«»·•–—/=<>|!?]+", s)


def stray_words(text_: str, lang: str, *, allow: Iterable[str] = ()) -> list[str]:
    """Words and codes in ``text_`` that do not belong in a report in ``lang``.

    Vietnamese: English words (a list of the common ones) and raw codes (``snake_case``,
    ``voc_*``); English: Vietnamese words. File names (``*.csv``, ``*.png``, ``*.ipynb``),
    numbers, the acronyms and proper names of :data:`GLOSSARY` and the words in ``allow``
    (e.g. the names of communes and trades, which are Vietnamese in both reports) are not
    counted. Returns the offending tokens in order of appearance (repeats kept).
    """
    check_lang(lang)
    allowed = _ALLOWED | {a for w in allow for a in _tokens(str(w))}
    out = []
    for tok in _tokens(nfc(text_)):
        t = tok.strip(".'’-+%")
        if not t or t in allowed or re.fullmatch(r"[\d.,%+\-−–]+", t):
            continue
        if re.search(r"\.(csv|json|png|ipynb|xlsx|docx|html|yaml)$", t, re.I):
            continue
        if lang == "vi":
            if re.fullmatch(r"[A-Za-z]+(_[A-Za-z0-9*]+)+", t) or t.lower() in _ENGLISH_WORDS:
                out.append(t)
        elif t.lower() in _VIETNAMESE_WORDS:
            out.append(t)
    return out


def labelled_columns() -> Mapping[str, str]:
    """Columns whose values are codes, with the kind of code they hold."""
    return {c: (_KIND_OF_COLUMN.get(c) or c) for c in _CODE_KINDS | set(_KIND_OF_COLUMN)}
