"""The review's findings: sentences generated from the evidence tables, never typed by hand.

``review_findings(source)`` reads the evidence tables a run wrote (``evidence/<id>.csv`` with
``index.json``, or the same tables in memory) and returns one :class:`Finding` per statement, in Vietnamese and English, each
with the number it states and the table it comes from. ``findings_table`` turns them into the
``findings`` evidence table, which the report shows first. A statement whose table is absent
(an optional section skipped) is simply not made.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import i18n
from .labour import _ratio, local_coverage, mismatch_trend, trade_status
from .reference import label
from .status import NOT_ESTIMABLE
from .evidence import (EVIDENCE_DIR, INDEX_NAME, EvidenceTable, TableSpec, TABLES, _num, _pct, read_index,
                       read_table, register_table, value_label)

FINDINGS_ID = "findings"


@dataclass(frozen=True)
class Finding:
    """One generated statement: ``topic``, ``level`` ('' for all), the sentence in both languages,
    the main number it states (``value``, in the unit of ``unit``) and the evidence table it reads."""

    topic: str
    level: str
    sentence_vi: str
    sentence_en: str
    value: float | None
    unit: str
    source: str

    def sentence(self, lang: str) -> str:
        return self.sentence_vi if lang == "vi" else self.sentence_en


if FINDINGS_ID not in TABLES:
    register_table(TableSpec(
        FINDINGS_ID, ("order",),
        ("order", "topic", "level", "sentence_vi", "sentence_en", "value", "unit", "source"),
        "Các phát hiện chính của kỳ sơ kết (tạo tự động từ các bảng số liệu)",
        "Main findings of the review (generated from the evidence tables)",
        "Phát hiện chính", "Main findings",
        ("Mỗi câu được tạo tự động từ bảng số liệu ghi ở cột 'Nguồn'; không có câu nào được nhập tay.",
         "Tỷ lệ tính bằng phân số 0-1 (hiển thị dạng %), tác động và chênh lệch bằng điểm phần trăm, KTC 95 %."),
        ("Each sentence is generated from the evidence table named in column 'source'; none is typed by hand.",
         "Rates are fractions 0-1 (shown as %), effects and gaps in percentage points, 95 % CIs.")))


def _ci(lo: float, hi: float, lang: str) -> str:
    return f"{_num(lo, lang)} – {_num(hi, lang)}" if lang == "vi" else f"{_num(lo, lang)} to {_num(hi, lang)}"


def _uptake_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    df = tables["uptake_by_year"].dropna(subset=["rate"])
    out: list[Finding] = []
    for level, g in df.sort_values("year").groupby("level", sort=True):
        first, last = g.iloc[0], g.iloc[-1]
        up = last["rate"] >= first["rate"]
        vi = (f"Tỷ lệ học sinh tốt nghiệp {level} vào học nghề (mọi trình độ) {'tăng' if up else 'giảm'} từ "
              f"{_pct(first['rate'], 'vi')} ({first['year']}) {'lên' if up else 'xuống'} {_pct(last['rate'], 'vi')} "
              f"({last['year']}); tỷ lệ không rõ hướng đi năm {last['year']} là {_pct(last['unknown_share'], 'vi')}.")
        en = (f"Vocational uptake (any level) after {level} {'rose' if up else 'fell'} from {_pct(first['rate'], 'en')} "
              f"({first['year']}) to {_pct(last['rate'], 'en')} ({last['year']}); the share with unknown destination "
              f"in {last['year']} was {_pct(last['unknown_share'], 'en')}.")
        out.append(Finding("uptake", level, vi, en, float(last["rate"]), "rate", "uptake_by_year"))
        if pd.notna(last.get("target")):
            met = str(last["target_met"]) if pd.notna(last["target_met"]) else "not_determined"
            word_vi = {"met": "đạt", "not_met": "chưa đạt"}.get(met, "chưa xác định được có đạt")
            word_en = {"met": "met", "not_met": "not met"}.get(met, "neither met nor missed on what is known")
            vi = (f"Năm {last['year']}, tỷ lệ {level} tính theo định nghĩa của chỉ tiêu là {_pct(last['target_rate'], 'vi')}, "
                  f"{word_vi} chỉ tiêu {_pct(last['target'], 'vi', 0)}.")
            en = (f"In {last['year']} the {level} rate as the target defines it was {_pct(last['target_rate'], 'en')}: "
                  f"the {_pct(last['target'], 'en', 0)} target was {word_en}.")
            out.append(Finding("target", level, vi, en, float(last["target_rate"]), "rate", "uptake_by_year"))
    return out


def _commune_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    df = tables["uptake_by_commune"]
    out: list[Finding] = []
    for level, g in df.groupby("level", sort=True):
        year = int(g["year"].max())
        last = g[g["year"] == year]
        n_all = int(last["commune_code"].nunique())
        with_target = last[last["target"].notna() & ~last["suppressed"].astype(bool)]
        if with_target.empty:
            continue
        n_met = int((with_target["target_met"].astype("string") == "met").fillna(False).sum())
        n_supp = int(last["suppressed"].astype(bool).sum())
        supp_vi = f" ({n_supp} xã bị ẩn vì quá ít học sinh)" if n_supp else ""
        supp_en = f" ({n_supp} suppressed for too few students)" if n_supp else ""
        vi = (f"Năm {year}, chỉ tiêu học nghề sau {level} đạt ở {n_met}/{len(with_target)} xã có chỉ tiêu "
              f"(tổng {n_all} xã){supp_vi}.")
        en = (f"In {year} the vocational target after {level} was met in {n_met} of {len(with_target)} communes with a "
              f"target ({n_all} communes in all){supp_en}.")
        out.append(Finding("communes", level, vi, en, float(n_met), "communes", "uptake_by_commune"))
    return out


def _coverage_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    df = tables["coverage_by_year"]
    out: list[Finding] = []
    for level, g in df.sort_values("year").groupby("level", sort=True):
        first, last = g.iloc[0], g.iloc[-1]
        target_vi = f" (mục tiêu {_pct(last['target'], 'vi', 0)})" if pd.notna(last["target"]) else ""
        target_en = f" (target {_pct(last['target'], 'en', 0)})" if pd.notna(last["target"]) else ""
        miss_vi = f"; {int(last['missing'])} trường thiếu số liệu" if last["missing"] else ""
        n_miss = int(last["missing"])
        miss_en = f"; {n_miss} school{'s' if n_miss != 1 else ''} did not report" if n_miss else ""
        vi = (f"Tỷ lệ trường {level} có giáo viên tư vấn hướng nghiệp đã qua đào tạo từ {_pct(first['coverage_rate'], 'vi')} "
              f"({first['year']}) lên {_pct(last['coverage_rate'], 'vi')} ({last['year']}){target_vi}{miss_vi}.")
        en = (f"The share of {level} schools with a trained career-counseling teacher went from "
              f"{_pct(first['coverage_rate'], 'en')} ({first['year']}) to {_pct(last['coverage_rate'], 'en')} "
              f"({last['year']}){target_en}{miss_en}.")
        out.append(Finding("coverage", level, vi, en, float(last["coverage_rate"]), "rate", "coverage_by_year"))
    return out


def _status_finding(topic: str, r: Any, what_vi: str, what_en: str, unit: str, source: str,
                    value: str | None = None) -> "Finding | None":
    """The finding of a row whose ``status`` is not ``ok`` (``evaluation.status``), in words: what cannot be
    estimated and why, or that the interval is too wide to conclude; None for an ``ok`` row."""
    status = getattr(r, "status", "ok")
    if not isinstance(status, str) or status in ("", "ok"):
        return None
    reason_vi = str(getattr(r, "reason_vi", "") or "").strip().rstrip(".")
    reason_en = str(getattr(r, "reason_en", "") or "").strip().rstrip(".")
    v = getattr(r, value) if value else (getattr(r, "estimate_pp", None) if topic != "trend" else r.estimate_pp_per_year)
    if status == "not_estimable":
        vi = f"{r.level}: chưa ước lượng được {what_vi}" + (f": {reason_vi}" if reason_vi else "") + "."
        en = f"{r.level}: {what_en} cannot be estimated" + (f": {reason_en}" if reason_en else "") + "."
        return Finding(topic, r.level, vi, en, float("nan"), unit, source)
    vi = (f"{r.level}: ước lượng {what_vi} là {_num(v, 'vi', 2)} điểm % nhưng chưa đủ thông tin để kết luận "
          f"(KTC 95 %: {_ci(r.ci_low, r.ci_high, 'vi')}" + (f"; {reason_vi}" if reason_vi else "") + ").")
    en = (f"{r.level}: {what_en} is estimated at {_num(v, 'en', 2)} pp but is not informative "
          f"(95 % CI {_ci(r.ci_low, r.ci_high, 'en')}" + (f"; {reason_en}" if reason_en else "") + ").")
    return Finding(topic, r.level, vi, en, float(v), unit, source)


def _trend_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    df = tables["trend"]
    if "recommended" in df.columns:  # findings cite the recommended row only (annual-rate regression)
        df = df[df["recommended"].astype(str).str.lower().isin(("true", "1"))]
    else:  # a bundle written before the recommended column
        df = df[df["model"] == "glm_binomial"] if (df["model"] == "glm_binomial").any() else df
    out: list[Finding] = []
    for r in df.sort_values("level").itertuples(index=False):
        said = _status_finding("trend", r, "xu hướng tỷ lệ học nghề", "the trend of uptake", "pp per year", "trend")
        if said is not None:
            out.append(said)
            continue
        vi = (f"Xu hướng sau {r.level}: tỷ lệ học nghề thay đổi {_num(r.estimate_pp_per_year, 'vi', 2)} điểm % mỗi năm "
              f"(KTC 95 %: {_ci(r.ci_low, r.ci_high, 'vi')}), đã tính đến năm 2020-2021 bất thường.")
        en = (f"Trend after {r.level}: uptake changed by {_num(r.estimate_pp_per_year, 'en', 2)} pp per year "
              f"(95 % CI {_ci(r.ci_low, r.ci_high, 'en')}), allowing for the 2020-2021 dip.")
        out.append(Finding("trend", r.level, vi, en, float(r.estimate_pp_per_year), "pp per year", "trend"))
    return out


def _sensitivity_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    """Per level: the breakdown value of Mbar (Rambachan-Roth relative magnitudes) of the recommended effect."""
    from .effects.honest import breakdown_mbar, sensitivity_sentences

    df = tables["pretrend_sensitivity"]
    f = sensitivity_sentences(df)
    out: list[Finding] = []
    for (level, g), vi, en in zip(df.groupby("level", sort=True), f["vi"], f["en"]):
        best, _ = breakdown_mbar(g) if (g["status"] == "ok").any() else (None, "")
        out.append(Finding("pretrend_sensitivity", str(level), vi, en, float("nan") if best is None else best, "Mbar",
                           "pretrend_sensitivity"))
    return out


def _effect_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    df = tables["effect_overall"]
    df = df[df["recommended"].astype(bool)]
    out: list[Finding] = []
    for r in df.sort_values("level").itertuples(index=False):
        said = _status_finding("effect", r, "tác động của giáo viên tư vấn lên tỷ lệ học nghề",
                               "the effect of a trained counselor on uptake", "pp", "effect_overall")
        if said is not None:
            out.append(said)
            continue
        name_vi, name_en = value_label("estimator", r.estimator, "vi"), value_label("estimator", r.estimator, "en")
        if r.ci_low > 0 or r.ci_high < 0:
            verb_vi = "tăng" if r.estimate_pp > 0 else "giảm"
            verb_en = "raised" if r.estimate_pp > 0 else "lowered"
            vi = (f"Ở trường {r.level}, có giáo viên tư vấn đã qua đào tạo làm {verb_vi} tỷ lệ học nghề "
                  f"{_num(abs(r.estimate_pp), 'vi')} điểm % (KTC 95 %: {_ci(r.ci_low, r.ci_high, 'vi')}; {name_vi}; "
                  f"{r.n_units} trường).")
            en = (f"At {r.level} schools, a trained career-counseling teacher {verb_en} vocational uptake by "
                  f"{_num(abs(r.estimate_pp), 'en')} pp (95 % CI {_ci(r.ci_low, r.ci_high, 'en')}; {name_en}; "
                  f"{r.n_units} schools).")
        else:
            vi = (f"Ở trường {r.level}, chưa phát hiện được tác động rõ ràng của giáo viên tư vấn lên tỷ lệ học nghề: "
                  f"ước lượng {_num(r.estimate_pp, 'vi')} điểm % (KTC 95 %: {_ci(r.ci_low, r.ci_high, 'vi')}; {name_vi}).")
            en = (f"At {r.level} schools no clear effect of a trained counselor on uptake was found: estimate "
                  f"{_num(r.estimate_pp, 'en')} pp (95 % CI {_ci(r.ci_low, r.ci_high, 'en')}; {name_en}).")
        out.append(Finding("effect", r.level, vi, en, float(r.estimate_pp), "pp", "effect_overall"))
    return out


def _equity_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    df = tables["equity_gaps"]
    df = df[df["adjusted"].astype("boolean").fillna(False)]
    df = df[pd.to_numeric(df["gap_pp"], errors="coerce").notna()]  # a suppressed gap states nothing
    wanted = [("ethnicity", "khmer"), ("sex", "F"), ("poverty", "poor")]
    out: list[Finding] = []
    for dim, group in wanted:
        rows = df[(df["dimension"] == dim) & (df["group"] == group)].sort_values("level")
        for r in rows.itertuples(index=False):
            g_vi, g_en = value_label(dim, group, "vi"), value_label(dim, group, "en")
            if getattr(r, "status", "ok") == "not_estimable":
                said = _status_finding("equity", r, f"chênh lệch của nhóm {g_vi}", f"the gap of {g_en} students", "pp",
                                       "equity_gaps", value="gap_pp")
                out.append(said)
                continue
            ref_vi, ref_en = value_label(dim, r.reference, "vi"), value_label(dim, r.reference, "en")
            clear = r.ci_low > 0 or r.ci_high < 0
            dir_vi = "cao hơn" if r.gap_pp > 0 else "thấp hơn"
            dir_en = "higher" if r.gap_pp > 0 else "lower"
            vi = (f"Sau {r.level}, tỷ lệ học nghề của nhóm {g_vi} {dir_vi} nhóm {ref_vi} {_num(abs(r.gap_pp), 'vi')} điểm % "
                  f"khi so trong cùng trường và cùng năm (KTC 95 %: {_ci(r.ci_low, r.ci_high, 'vi')})"
                  f"{'' if clear else '; chênh lệch chưa rõ ràng về thống kê'}.")
            en = (f"After {r.level}, uptake of {g_en} students was {_num(abs(r.gap_pp), 'en')} pp {dir_en} than of "
                  f"{ref_en} students within the same school and year (95 % CI {_ci(r.ci_low, r.ci_high, 'en')})"
                  f"{'' if clear else '; the gap is not statistically clear'}.")
            out.append(Finding("equity", r.level, vi, en, float(r.gap_pp), "pp", "equity_gaps"))
    return out


def _quality_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:
    df = tables["data_quality"]
    n_err = int(df.loc[df["severity"] == "error", "count"].fillna(0).sum())
    warn = df[df["severity"] == "warning"]
    n_warn = int(warn["count"].fillna(0).sum())
    vi = (f"Dữ liệu đầu vào đạt mọi quy tắc của chuẩn dữ liệu ({n_err} lỗi); {n_warn} cảnh báo cần xem lại "
          f"({', '.join(warn['check'].astype(str)) or 'không có'}).")
    en = (f"The input data pass every rule of the data contract ({n_err} errors); {n_warn} warnings need a look "
          f"({', '.join(warn['check'].astype(str)) or 'none'}).")
    return [Finding("data_quality", "", vi, en, float(n_warn), "warnings", "data_quality")]


def _paired(topic: str, source: str, sentences: dict[str, list[str]]) -> list[Finding]:
    """Findings from a module's ``{"vi": [...], "en": [...]}`` sentences (same order in both)."""
    return [Finding(topic, "", vi, en, None, "", source) for vi, en in zip(sentences["vi"], sentences["en"])]


def _labour_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:

    return _paired("labour", "labour_alignment", labour_findings(tables["labour_alignment"]))


def _network_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:

    return _paired("network", "vocational_network", network_findings(tables["vocational_network"]))


def _projection_findings(tables: Mapping[str, pd.DataFrame]) -> list[Finding]:

    return _paired("projection", "projections", projection_findings(tables["projections"]))


_SECTIONS = (("data_quality", _quality_findings), ("uptake_by_year", _uptake_findings),
             ("uptake_by_commune", _commune_findings), ("coverage_by_year", _coverage_findings),
             ("trend", _trend_findings), ("effect_overall", _effect_findings), ("equity_gaps", _equity_findings),
             ("pretrend_sensitivity", _sensitivity_findings),
             ("projections", _projection_findings), ("labour_alignment", _labour_findings),
             ("vocational_network", _network_findings))


# ---------------------------------------------------------------------------------------------
# Sentences of the labour, network and projection tables (also written into those tables' notes)
# ---------------------------------------------------------------------------------------------
def _pct0(v: float, lang: str) -> str:
    return i18n.pct(v, lang, 0)


def _int_l(v: float, lang: str) -> str:
    return i18n.integer(v, lang)


def labour_findings(alignment: pd.DataFrame, *, year: int | None = None, top: int = 3,
                    tolerance: float = 0.10) -> dict[str, list[str]]:
    """Sentences (``{"vi": [...], "en": [...]}``) on demand against supply in a survey year
    (default the latest with supply data): the ``top`` trades with the largest unmet demand and
    the largest over-supply, the share of demand covered locally, and the trend of the gap.

    E.g. "Nhu cầu lao động ngành May công nghiệp vượt số chỗ đào tạo 120 người (2025)."
    """
    st = trade_status(alignment, year=year, tolerance=tolerance)
    yr = int(st["survey_year"].iloc[0])
    vi: list[str] = []
    en: list[str] = []
    for r in st.loc[st["status"] == "unmet"].head(top).itertuples(index=False):
        vi.append(f"Nhu cầu lao động ngành {r.trade} vượt số chỗ đào tạo {_int_l(r.gap, 'vi')} người ({yr}).")
        en.append(f"Labour demand for {r.trade} exceeds the training places by {_int_l(r.gap, 'en')} workers ({yr}).")
    over = st.loc[st["status"] == "over_supplied"].sort_values("gap", kind="stable").head(top)
    for r in over.itertuples(index=False):
        vi.append(f"Số chỗ đào tạo ngành {r.trade} nhiều hơn nhu cầu khảo sát {_int_l(-r.gap, 'vi')} chỗ ({yr}).")
        en.append(f"Training places for {r.trade} exceed the surveyed demand by {_int_l(-r.gap, 'en')} ({yr}).")
    zero = alignment.loc[alignment["matched"] & (alignment["survey_year"] == yr) & (alignment["places"] == 0)
                         & (alignment["demand"] > 0)].sort_values("demand", ascending=False, kind="stable").head(top)
    for r in zero.itertuples(index=False):
        vi.append(f"Chưa có đào tạo tại địa phương cho nhu cầu trình độ {label('qualification', r.qualification, 'vi').lower()} "
                  f"ngành {r.trade} ({_int_l(r.demand, 'vi')} người, {yr}).")
        en.append(f"No local training meets the demand for {label('qualification', r.qualification, 'en').lower()}-level "
                  f"{r.trade} ({_int_l(r.demand, 'en')} workers, {yr}).")
    if not len(st.loc[st["status"] != "balanced"]):
        vi.append(f"Năm {yr}, số chỗ đào tạo của mọi ngành nghề gần với nhu cầu khảo sát.")
        en.append(f"In {yr}, training places of every trade are close to the surveyed demand.")
    cov = local_coverage(alignment)
    cov = cov.loc[cov["survey_year"] == yr]
    if len(cov):
        c = cov.iloc[0]
        if pd.notna(c["covered_by_graduates"]):
            vi.append(f"Đào tạo tại địa phương đáp ứng {_pct0(c['covered_by_places'], 'vi')} nhu cầu lao động qua đào tạo "
                      f"nghề theo số chỗ và {_pct0(c['covered_by_graduates'], 'vi')} theo số tốt nghiệp ({yr}).")
            en.append(f"Local training covers {_pct0(c['covered_by_places'], 'en')} of the demand for vocationally "
                      f"trained workers by places and {_pct0(c['covered_by_graduates'], 'en')} by graduates ({yr}).")
        else:  # graduates of a small trade suppressed in that year: by places only
            vi.append(f"Đào tạo tại địa phương đáp ứng {_pct0(c['covered_by_places'], 'vi')} nhu cầu lao động qua đào tạo "
                      f"nghề theo số chỗ ({yr}).")
            en.append(f"Local training covers {_pct0(c['covered_by_places'], 'en')} of the demand for vocationally "
                      f"trained workers by places ({yr}).")
    tr = mismatch_trend(alignment)
    tr = tr.loc[tr["n_surveys"] >= 2]
    if len(tr):
        widening = tr.loc[tr["gap_change_per_year"] > 0].sort_values("gap_change_per_year", ascending=False)
        if len(widening):
            r = widening.iloc[0]
            vi.append(f"Khoảng thiếu hụt ngành {r['trade']} tăng trung bình {_int_l(r['gap_change_per_year'], 'vi')} người mỗi năm "
                      f"({int(r['first_year'])}-{int(r['last_year'])}).")
            en.append(f"The gap for {r['trade']} grows by {_int_l(r['gap_change_per_year'], 'en')} workers a year on average "
                      f"({int(r['first_year'])}-{int(r['last_year'])}).")
    return {"vi": vi, "en": en}


def network_findings(network: pd.DataFrame, access: Sequence[pd.DataFrame] = (), *,
                     year: int | None = None) -> dict[str, list[str]]:
    """Sentences (``{"vi": [...], "en": [...]}``) on the network in ``year`` (default latest):
    institutions and places, pooled fill, completion and employment rates, the trade with the
    lowest fill rate, and, for each ``provision_access`` frame given, the communes without local
    provision (Khmer communes named first)."""
    if year is None:
        year = int(network["year"].max())
    n = network.loc[network["year"] == int(year)]
    vi: list[str] = []
    en: list[str] = []
    if len(n):
        places, enrolled = n["places"].sum(), n["enrolled"].sum()
        grads, emp = n["graduated"].sum(), n["employed_12m"].sum()
        fill, comp, er = _ratio(enrolled, places), _ratio(grads, enrolled), _ratio(emp, grads)
        k = n["institution_id"].nunique()
        vi.append(f"Năm {year}, {k} cơ sở GDNN có {_int_l(places, 'vi')} chỗ đào tạo, tuyển được {_int_l(enrolled, 'vi')} "
                  f"người ({_pct0(fill, 'vi')}); tỷ lệ hoàn thành {_pct0(comp, 'vi')}, có việc làm sau 12 tháng {_pct0(er, 'vi')}.")
        en.append(f"In {year}, {k} vocational institutions planned {_int_l(places, 'en')} places and enrolled "
                  f"{_int_l(enrolled, 'en')} ({_pct0(fill, 'en')}); completion {_pct0(comp, 'en')}, employed within "
                  f"12 months {_pct0(er, 'en')}.")
        by = n.groupby("trade")[["places", "enrolled"]].sum()
        by["fill"] = _ratio(by["enrolled"], by["places"])
        low = by.sort_values("fill", kind="stable").iloc[0]
        vi.append(f"Ngành có tỷ lệ tuyển đủ chỗ thấp nhất: {low.name} ({_pct0(low['fill'], 'vi')}).")
        en.append(f"Trade with the lowest fill rate: {low.name} ({_pct0(low['fill'], 'en')}).")
    for acc in access:
        if acc is None or not len(acc):
            continue
        geo = str(acc["geography"].iloc[0])
        none = acc.loc[~acc["local_provision"]]
        gvi, gen = label("geography", geo, "vi").lower(), label("geography", geo, "en").lower()
        if not len(none):
            vi.append(f"Mọi xã ({gvi}) đều có cơ sở GDNN.")
            en.append(f"Every commune ({gen}) has vocational provision.")
            continue
        kh = none.loc[none["khmer_commune"], "commune_name"].tolist()
        other = none.loc[~none["khmer_commune"], "commune_name"].tolist()
        vi.append(f"{len(none)}/{len(acc)} xã ({gvi}) chưa có cơ sở GDNN"
                  + (f"; trong đó xã có đông đồng bào Khmer: {', '.join(kh)}" if kh else "")
                  + (f"; các xã khác: {', '.join(other)}" if other else "") + ".")
        en.append(f"{len(none)} of {len(acc)} communes ({gen}) have no vocational provision"
                  + (f"; Khmer communes among them: {', '.join(kh)}" if kh else "")
                  + (f"; others: {', '.join(other)}" if other else "") + ".")
    return {"vi": vi, "en": en}


def projection_findings(table: pd.DataFrame, *, year: int | None = None,
                        needed: Sequence[dict[str, Any]] = (), mde: dict[str, dict[str, Any]] | None = None
                        ) -> dict[str, list[str]]:
    """Sentences (``{"vi": [...], "en": [...]}``) from the projections table in ``year`` (default
    the last): each level's projected uptake and coverage with their intervals against the
    target; each ``coverage_needed`` result (with ``level`` added) and each level's
    ``next_review_mde``."""
    if year is None:
        year = int(table["year"].max())
    t = table.loc[table["year"] == int(year)]
    vi: list[str] = []
    en: list[str] = []
    names = {"voc_uptake": ("tỷ lệ học nghề", "vocational uptake"),
             "transition_after_thcs": ("tỷ lệ học tiếp sau THCS", "transition after THCS"),
             "counselor_coverage": ("tỷ lệ trường có GV tư vấn", "counselor coverage")}
    for r in t.loc[t["plan"] == "status_quo"].itertuples(index=False):
        nv, ne = names.get(r.measure, (r.measure, r.measure))
        if getattr(r, "status", "ok") == NOT_ESTIMABLE:
            vi.append(f"{r.level}: chưa dự báo được {nv} năm {year}: {r.reason_vi}.")
            en.append(f"{r.level}: {ne} in {year} cannot be projected: {r.reason_en}.")
            continue
        if r.method == "counted":
            up_vi = up_en = ""
            if pd.notna(r.ci_high) and r.ci_high > r.estimate:  # schools whose report is missing
                up_vi = f" (đến {i18n.pct(r.ci_high, 'vi')} nếu các trường chưa báo cáo có GV tư vấn)"
                up_en = f" ({i18n.pct(r.ci_high, 'en')} if the schools that did not report have one)"
            vi.append(f"{r.level}: nếu không có thêm trường nào có GV tư vấn, {nv} năm {year} là {i18n.pct(r.estimate, 'vi')}{up_vi}.")
            en.append(f"{r.level}: if no further school gets a trained counselor, {ne} in {year} stays at {i18n.pct(r.estimate, 'en')}{up_en}.")
            continue
        tv = te = ""
        if not pd.isna(r.target):
            ok = r.ci_low >= r.target
            miss = r.ci_high < r.target
            tv = (f"; chỉ tiêu {i18n.pct(r.target, 'vi')} " + ("đạt" if ok else ("không đạt" if miss else "có thể đạt hoặc không")))
            te = (f"; target {i18n.pct(r.target, 'en')} " + ("met" if ok else ("missed" if miss else "within the interval")))
        vi.append(f"{r.level}: nếu xu hướng tiếp tục, {nv} năm {year} dự báo {i18n.pct(r.estimate, 'vi')} "
                  f"(khoảng dự báo 95 % {i18n.pct(r.ci_low, 'vi')} đến {i18n.pct(r.ci_high, 'vi')}){tv}.")
        en.append(f"{r.level}: if the trend continued, {ne} in {year} is projected at {i18n.pct(r.estimate, 'en')} "
                  f"(95 % prediction interval {i18n.pct(r.ci_low, 'en')} to {i18n.pct(r.ci_high, 'en')}){te}.")
    for n in needed:
        lv = n.get("level", "")
        if n["status"] == "already_met":
            vi.append(f"{lv}: chỉ tiêu {i18n.pct(n['target'], 'vi')} năm {n['year']} đạt ngay cả khi không mở rộng GV tư vấn.")
            en.append(f"{lv}: the {i18n.pct(n['target'], 'en')} target for {n['year']} is met without more counselors.")
        elif n["status"] == "not_estimable":
            vi.append(f"{lv}: chưa ước lượng được mức bao phủ cần thiết để đạt chỉ tiêu năm {n['year']}: {n['reason_vi']}.")
            en.append(f"{lv}: the coverage needed for the {n['year']} target cannot be estimated: {n['reason_en']}.")
        elif n["status"] == "reachable":
            vi.append(f"{lv}: để đạt {i18n.pct(n['target'], 'vi')} năm {n['year']}, cần tăng tỷ lệ trường có GV tư vấn thêm "
                      f"{i18n.pct(n['increase'], 'vi')} (theo KTC của tác động: {i18n.pct(n['increase_low'], 'vi')} đến "
                      f"{i18n.pct(min(n['increase_high'], 1), 'vi')}).")
            en.append(f"{lv}: reaching {i18n.pct(n['target'], 'en')} in {n['year']} needs coverage to rise by "
                      f"{i18n.pct(n['increase'], 'en')} of the schools (given the effect's CI: {i18n.pct(n['increase_low'], 'en')} "
                      f"to {i18n.pct(min(n['increase_high'], 1), 'en')}).")
        else:
            vi.append(f"{lv}: chỉ mở rộng GV tư vấn không đủ để đạt {i18n.pct(n['target'], 'vi')} năm {n['year']} "
                      f"(dự báo khi phủ hết: {i18n.pct(n['full_coverage'], 'vi')}).")
            en.append(f"{lv}: more counselors alone cannot reach {i18n.pct(n['target'], 'en')} in {n['year']} "
                      f"(projected with full coverage: {i18n.pct(n['full_coverage'], 'en')}).")
    for lv, m in (mde or {}).items():
        if m.get("status", "ok") != "ok":
            vi.append(f"{lv}: chưa tính được hiệu quả tối thiểu phát hiện được cho kỳ đánh giá sau: {m['reason_vi']}.")
            en.append(f"{lv}: the next review's minimum detectable effect cannot be computed: {m['reason_en']}.")
            continue
        vi.append(f"{lv}: với {int(m['n_schools'])} trường và {int(m['years'])} khóa, kỳ đánh giá sau phát hiện được tác động "
                  f"từ {i18n.pp(m['mde_pp'], 'vi')} trở lên (độ mạnh 80 %).")
        en.append(f"{lv}: with {int(m['n_schools'])} schools and {int(m['years'])} cohorts, the next review detects effects of "
                  f"{i18n.pp(m['mde_pp'], 'en')} or more (80 % power).")
    return {"vi": vi, "en": en}


class _BundleTables(Mapping):
    """The evidence tables of a bundle or staging folder, read on first use (``evidence.read_table``)."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        index = self.folder / EVIDENCE_DIR / INDEX_NAME
        self._entries = {e["id"]: e for e in read_index(self.folder)} if index.is_file() else {}
        self._read: dict[str, pd.DataFrame] = {}

    def __getitem__(self, table_id: str) -> pd.DataFrame:
        if table_id not in self._read:
            self._read[table_id] = read_table(self.folder, self._entries[table_id])
        return self._read[table_id]

    def __iter__(self):
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)


def review_findings(source: str | Path | Mapping[str, pd.DataFrame]) -> list[Finding]:
    """Every finding the evidence tables support, in the order of the review.

    ``source``: a bundle or staging folder (its ``evidence/index.json`` and CSVs), or a mapping
    table id -> frame as ``evidence.read_table`` returns it (``evaluation.sections.evidence_tables``).
    A statement whose table is absent is not made.
    """
    tables = source if isinstance(source, Mapping) else _BundleTables(Path(source))
    out: list[Finding] = []
    for table_id, make in _SECTIONS:
        if table_id in tables:
            out.extend(make(tables))
    return out


def findings_table(findings: list[Finding], *, notebook: str = "", synthetic: bool = False) -> EvidenceTable:
    """The ``findings`` evidence table: one row per finding, numbered in the review's order."""
    df = pd.DataFrame([{"order": i + 1, "topic": f.topic, "level": f.level, "sentence_vi": f.sentence_vi,
                        "sentence_en": f.sentence_en, "value": f.value if f.value is not None else np.nan,
                        "unit": f.unit, "source": f.source} for i, f in enumerate(findings)],
                      columns=list(TABLES[FINDINGS_ID].columns))
    return EvidenceTable(FINDINGS_ID, df, notebook=notebook, synthetic=synthetic, min_cell=1).check()


def findings_markdown(findings: list[Finding], lang: str) -> str:
    """The findings as a numbered Markdown list (for the summary notebook)."""
    return "\n".join(f"{i + 1}. {f.sentence(lang)}" for i, f in enumerate(findings))
