"""The words of the báo cáo sơ kết, written from the evidence tables with their numbers.

``headline(tables, lang)`` is the one-screen summary: the handful of numbers that matter (uptake
after THCS and THPT as the target in force counts it, counselor coverage, the recommended effect,
the Khmer gap) each against its target. ``report_sections(tables, lang, params)`` is the body of
the interim review in the structure a district office writes it:

I.   results by the tasks of the plan (1. streaming after THCS and THPT; 2. career-counseling
     teachers, ethnic boarding schools first; 3. labour-demand surveys; 4. the vocational
     network; 5. equal access, Khmer communes first);
II.  shortcomings and their causes;
III. directions and tasks to 2030;
IV.  recommendations.

Every sentence is made here from a row of an evidence table (or taken from the ``findings``
table that ``evaluation.findings`` writes); a task whose table is absent says so. Nothing is
typed by hand and nothing is computed beyond reading, comparing and counting rows.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from . import i18n

__all__ = ["Headline", "Section", "headline", "report_sections"]


@dataclass(frozen=True)
class Headline:
    """One number of the summary: what, the value shown, the target shown and the assessment
    (``met``, ``not_met``, ``not_determined`` or ``no_target``)."""

    indicator: str
    value: str
    target: str
    status: str
    source: str


@dataclass
class Section:
    """A numbered part of the report: heading, paragraphs, and the evidence tables and figures it
    rests on (by id) so a reader can find them."""

    heading: str
    paragraphs: list[str] = field(default_factory=list)
    tables: list[str] = field(default_factory=list)
    children: list["Section"] = field(default_factory=list)


def _t(lang: str, vi: str, en: str) -> str:
    return vi if lang == "vi" else en


def _status(row: Mapping[str, Any], value: str | None = None) -> str:
    """``met``/``not_met``/``not_determined`` from the row's ``target_met``; where the table has
    no such column (a census count such as coverage), from comparing ``value`` with the target."""
    if "target" not in row or i18n._missing(row.get("target")):
        return "no_target"
    v = row.get("target_met")
    if isinstance(v, str) and v in ("met", "not_met", "not_determined"):
        return v
    if i18n._missing(v):
        if value is not None and not i18n._missing(row.get(value)):
            return "met" if float(row[value]) >= float(row["target"]) else "not_met"
        return "not_determined"
    return "met" if i18n._truthy(v) else "not_met"


def _last(df: pd.DataFrame, level: str, col: str = "year") -> pd.Series | None:
    g = df[df["level"] == level] if "level" in df.columns else df
    g = g.dropna(subset=[c for c in ("rate", "coverage_rate") if c in g.columns][:1])
    return None if g.empty else g.sort_values(col).iloc[-1]


def _recommended(effect: pd.DataFrame, level: str) -> pd.Series | None:
    g = effect[effect["level"] == level]
    if "recommended" in g.columns:
        rec = g[g["recommended"].map(i18n._truthy)]
        if len(rec):
            g = rec
    if "status" in g.columns:
        g = g[g["status"].astype(str).isin(["ok", "nan"]) | g["status"].isna()]
    return None if g.empty else g.iloc[0]


def headline(tables: Mapping[str, pd.DataFrame], lang: str) -> list[Headline]:
    """The summary numbers against their targets, in ``lang``."""
    i18n.check_lang(lang)
    out: list[Headline] = []
    up = tables.get("uptake_by_year")
    cov = tables.get("coverage_by_year")
    eff = tables.get("effect_overall")
    eq = tables.get("equity_gaps")
    levels = sorted(set(up["level"])) if up is not None and len(up) else []
    for level in levels:
        r = _last(up, level)
        if r is None:
            continue
        out.append(Headline(
            _t(lang, f"Học nghề sau {level} năm {int(r['year'])} (theo định nghĩa chỉ tiêu)",
               f"Vocational uptake after {level}, {int(r['year'])} (as the target counts it)"),
            i18n.pct(r.get("target_rate", r["rate"]), lang), i18n.pct(r.get("target"), lang, 0)
            if not i18n._missing(r.get("target")) else i18n.MISSING, _status(r), "uptake_by_year"))
    if cov is not None and len(cov):
        for level in sorted(set(cov["level"])):
            r = _last(cov, level)
            if r is None:
                continue
            out.append(Headline(
                _t(lang, f"Trường {level} có GV tư vấn đã qua đào tạo, năm {int(r['year'])}",
                   f"{level} schools with a trained counselor, {int(r['year'])}"),
                i18n.pct(r["coverage_rate"], lang), i18n.pct(r.get("target"), lang, 0)
                if not i18n._missing(r.get("target")) else i18n.MISSING, _status(r, "coverage_rate"), "coverage_by_year"))
    if eff is not None and len(eff):
        for level in sorted(set(eff["level"])):
            r = _recommended(eff, level)
            if r is None or i18n._missing(r.get("estimate_pp")):
                continue
            clear = not (r["ci_low"] <= 0 <= r["ci_high"])
            out.append(Headline(
                _t(lang, f"Tác động của GV tư vấn lên tỷ lệ học nghề sau {level} (KTC 95 %)",
                   f"Effect of a trained counselor on uptake after {level} (95 % CI)"),
                f"{i18n.pp(r['estimate_pp'], lang)} ({i18n.ci(r['ci_low'], r['ci_high'], lang)})",
                i18n.MISSING, "met" if clear and r["estimate_pp"] > 0 else "not_determined", "effect_overall"))
    if eq is not None and len(eq):
        g = eq[(eq["dimension"] == "ethnicity") & (eq["group"] == "khmer")]
        if "adjusted" in g.columns:
            adj = g[g["adjusted"].map(i18n._truthy)]
            g = adj if len(adj) else g
        for _, r in g.sort_values("level").iterrows():
            out.append(Headline(
                _t(lang, f"Chênh lệch học nghề Khmer so với Kinh sau {r['level']} (cùng trường, cùng năm)",
                   f"Khmer–Kinh gap in uptake after {r['level']} (same school and year)"),
                f"{i18n.pp(r['gap_pp'], lang)} ({i18n.ci(r['ci_low'], r['ci_high'], lang)})", "0",
                "met" if r["ci_low"] <= 0 <= r["ci_high"] else "not_met", "equity_gaps"))
    return out


# --------------------------------------------------------------------------- the body
def _findings(tables: Mapping[str, pd.DataFrame], lang: str, *topics: str, level: str | None = None) -> list[str]:
    f = tables.get("findings")
    if f is None or f.empty:
        return []
    g = f[f["topic"].isin(topics)]
    if level is not None:
        g = g[g["level"].fillna("").astype(str) == level]
    return [i18n.localize(s, lang) for s in g.sort_values("order")[f"sentence_{lang}"].dropna()]


def _absent(lang: str, what_vi: str, what_en: str) -> str:
    return _t(lang, f"Bộ dữ liệu của kỳ sơ kết không có {what_vi}; nội dung này cần được bổ sung từ báo cáo của "
                    "các đơn vị.", f"The review's data hold no {what_en}; this part is to be completed from the "
                                   "units' own reports.")


def _streaming(tables, lang) -> Section:
    s = Section(_t(lang, "1. Phân luồng học sinh sau THCS và sau THPT", "1. Streaming after THCS and after THPT"),
                tables=["uptake_by_year", "uptake_by_commune", "trend"])
    up = tables.get("uptake_by_year")
    if up is None:
        s.paragraphs.append(_absent(lang, "bảng học nghề theo năm", "uptake table"))
        return s
    for level in sorted(set(up["level"])):
        s.paragraphs += _findings(tables, lang, "uptake", "target", "communes", "trend", level=level)
    return s


def _counselors(tables, lang) -> Section:
    s = Section(_t(lang, "2. Đội ngũ giáo viên tư vấn hướng nghiệp (ưu tiên trường phổ thông dân tộc nội trú)",
                   "2. Career-counseling teachers (ethnic boarding schools first)"),
                tables=["coverage_by_year", "effect_overall", "event_study"])
    cov = tables.get("coverage_by_year")
    if cov is None:
        s.paragraphs.append(_absent(lang, "bảng giáo viên tư vấn", "counselor coverage table"))
        return s
    for level in sorted(set(cov["level"])):
        s.paragraphs += _findings(tables, lang, "coverage", "effect", level=level)
    eff = tables.get("effect_overall")
    if eff is not None and "estimator" in eff.columns:
        s.paragraphs.append(_t(
            lang, "Tác động được ước lượng bằng phương pháp Callaway–Sant'Anna, so sánh các trường đã có giáo viên tư "
                  "vấn với các trường chưa có trong cùng năm; ước lượng hiệu ứng cố định hai chiều (TWFE) chỉ dùng để "
                  "đối chiếu (xem Phụ lục 2).",
            "The effect is estimated with the Callaway–Sant'Anna method, comparing schools with a trained counselor "
            "with schools not yet covered in the same year; the two-way fixed-effects (TWFE) estimate is shown as a "
            "diagnostic only (see Appendix 2)."))
    return s


def _labour(tables, lang) -> Section:
    s = Section(_t(lang, "3. Khảo sát nhu cầu lao động", "3. Labour-demand surveys"), tables=["labour_alignment"])
    if tables.get("labour_alignment") is None:
        s.paragraphs.append(_absent(lang, "số liệu khảo sát nhu cầu lao động", "labour-demand survey"))
    else:
        s.paragraphs += _findings(tables, lang, "labour")
    return s


def _network(tables, lang) -> Section:
    s = Section(_t(lang, "4. Mạng lưới cơ sở giáo dục nghề nghiệp", "4. The vocational training network"),
                tables=["vocational_network"])
    if tables.get("vocational_network") is None:
        s.paragraphs.append(_absent(lang, "số liệu cơ sở giáo dục nghề nghiệp", "vocational-network data"))
    else:
        s.paragraphs += _findings(tables, lang, "network")
    return s


def _equity(tables, lang) -> Section:
    s = Section(_t(lang, "5. Bảo đảm tiếp cận bình đẳng (ưu tiên các xã có đông đồng bào Khmer)",
                   "5. Equal access (Khmer communes first)"), tables=["equity_gaps", "uptake_by_group"])
    if tables.get("equity_gaps") is None:
        s.paragraphs.append(_absent(lang, "bảng chênh lệch theo nhóm", "equity table"))
    else:
        s.paragraphs += _findings(tables, lang, "equity")
    return s


def _shortcomings(tables, lang) -> Section:
    s = Section(_t(lang, "II. TỒN TẠI, HẠN CHẾ VÀ NGUYÊN NHÂN", "II. SHORTCOMINGS AND THEIR CAUSES"))
    up, cov = tables.get("uptake_by_year"), tables.get("coverage_by_year")
    k = 0
    if up is not None:
        for level in sorted(set(up["level"])):
            r = _last(up, level)
            if r is not None and _status(r) == "not_met":
                k += 1
                gap = (float(r["target"]) - float(r["target_rate"])) * 100
                s.paragraphs.append(_t(
                    lang, f"{k}. Tỷ lệ học nghề sau {level} năm {int(r['year'])} ({i18n.pct(r['target_rate'], lang)}) "
                          f"còn thấp hơn chỉ tiêu {i18n.pct(r['target'], lang, 0)} là {i18n.pp(gap, lang)}.",
                    f"{k}. Vocational uptake after {level} in {int(r['year'])} ({i18n.pct(r['target_rate'], lang)}) "
                    f"was {i18n.pp(gap, lang)} short of the {i18n.pct(r['target'], lang, 0)} target."))
    if cov is not None:
        for level in sorted(set(cov["level"])):
            r = _last(cov, level)
            if r is not None and float(r["coverage_rate"]) < 1:
                k += 1
                n_not = int(r.get("not_covered", 0) or 0) if not i18n._missing(r.get("not_covered")) else None
                s.paragraphs.append(_t(
                    lang, f"{k}. Năm {int(r['year'])} còn {i18n.integer(n_not, lang) if n_not is not None else 'một số'} "
                          f"trường {level} chưa có giáo viên tư vấn hướng nghiệp đã qua đào tạo (đạt "
                          f"{i18n.pct(r['coverage_rate'], lang)}).",
                    f"{k}. In {int(r['year'])}, {i18n.integer(n_not, lang) if n_not is not None else 'some'} {level} "
                    f"schools still had no trained career-counseling teacher (coverage {i18n.pct(r['coverage_rate'], lang)})."))
    eq = tables.get("equity_gaps")
    if eq is not None:
        adj = eq[eq["adjusted"].map(i18n._truthy)] if "adjusted" in eq.columns else eq
        for _, r in adj.sort_values(["level", "dimension"]).iterrows():
            if r["ci_high"] < 0:
                k += 1
                grp, ref = i18n.value_label("group", r["group"], lang), i18n.value_label("group", r["reference"], lang)
                if r["dimension"] in ("sex", "poverty", "disadvantaged"):  # common nouns, not names
                    grp, ref = grp.lower(), ref.lower()
                s.paragraphs.append(_t(
                    lang, f"{k}. Sau {r['level']}, học sinh {grp} vào học nghề ít hơn học sinh {ref} "
                          f"{i18n.pp(-r['gap_pp'], lang)} trong cùng trường và cùng năm.",
                    f"{k}. After {r['level']}, {grp} students entered vocational training "
                    f"{i18n.pp(-r['gap_pp'], lang)} less often than {ref} students in the same school and year."))
    eff = tables.get("effect_overall")
    if eff is not None:
        for level in sorted(set(eff["level"])):
            r = _recommended(eff, level)
            if r is not None and not i18n._missing(r.get("ci_low")) and r["ci_low"] <= 0 <= r["ci_high"]:
                k += 1
                s.paragraphs.append(_t(
                    lang, f"{k}. Chưa chứng minh được tác động của giáo viên tư vấn lên tỷ lệ học nghề sau {level} "
                          f"(KTC 95 %: {i18n.ci(r['ci_low'], r['ci_high'], lang)} điểm %), có thể do số trường còn "
                          "ít hoặc thời gian áp dụng còn ngắn.",
                    f"{k}. The effect of counselors on uptake after {level} is not yet shown (95 % CI "
                    f"{i18n.ci(r['ci_low'], r['ci_high'], lang)} pp), possibly because there are few schools or "
                    "little time since they started."))
    dq = tables.get("data_quality")
    if dq is not None and "severity" in dq.columns:
        warn = dq[dq["severity"] == "warning"]
        n_warn = int(pd.to_numeric(warn["count"], errors="coerce").fillna(0).sum())
        if n_warn:
            k += 1
            what = "; ".join(dict.fromkeys(i18n.value_label("check", c, lang).lower() for c in warn["check"]))
            s.paragraphs.append(_t(
                lang, f"{k}. Số liệu báo cáo của các trường còn {i18n.integer(n_warn, lang)} điểm cần rà soát ({what}).",
                f"{k}. The schools' reports still have {i18n.integer(n_warn, lang)} points to check ({what})."))
    if k == 0:
        s.paragraphs.append(_t(lang, "Không có chỉ tiêu nào chưa đạt trong các bảng số liệu của kỳ sơ kết.",
                               "No target of the review's tables was missed."))
    s.paragraphs.append(_t(
        lang, "Nguyên nhân: các con số trên cho biết mức độ và nơi còn hạn chế; nguyên nhân cụ thể (nhận thức của phụ "
              "huynh, điều kiện kinh tế, khoảng cách đến cơ sở đào tạo, năng lực đội ngũ) cần được các đơn vị bổ "
              "sung khi hoàn thiện báo cáo.",
        "Causes: the numbers above show how far and where targets were missed; the specific causes (parents' views, "
        "household economics, distance to training, staff capacity) are for the units to add when finalising."))
    return s


def _directions(tables, lang, params) -> Section:
    s = Section(_t(lang, "III. PHƯƠNG HƯỚNG, NHIỆM VỤ ĐẾN NĂM 2030", "III. DIRECTIONS AND TASKS TO 2030"),
                tables=["projections"])
    s.paragraphs += _findings(tables, lang, "projection")
    pr = tables.get("projections")
    if pr is not None and {"plan", "indicator", "estimate"} <= set(pr.columns):
        full = pr[(pr["plan"] == "full_coverage") & pr["estimate"].notna()]
        for _, r in full.sort_values(["level", "year"]).groupby("level").tail(1).iterrows():
            s.paragraphs.append(_t(
                lang, f"Nếu mọi trường {r['level']} có giáo viên tư vấn đã qua đào tạo, "
                      f"{i18n.value_label('indicator', r['indicator'], lang).lower()} năm {int(r['year'])} dự báo "
                      f"{i18n.pct(r['estimate'], lang)}.",
                f"If every {r['level']} school had a trained counselor, "
                f"{i18n.value_label('indicator', r['indicator'], lang).lower()} in {int(r['year'])} is projected at "
                f"{i18n.pct(r['estimate'], lang)}."))
    s.paragraphs.append(_t(
        lang, "Nhiệm vụ trọng tâm: (1) bảo đảm mọi trường THCS, THPT và trường phổ thông dân tộc nội trú có giáo viên "
              "tư vấn hướng nghiệp đã qua đào tạo; (2) gắn kế hoạch tuyển sinh của các cơ sở giáo dục nghề nghiệp với "
              "kết quả khảo sát nhu cầu lao động hằng năm; (3) ưu tiên hỗ trợ học sinh dân tộc Khmer, học sinh nữ và "
              "học sinh các xã khó khăn; (4) theo dõi các chỉ số của báo cáo này hằng năm bằng cùng bộ công cụ.",
        "Main tasks: (1) a trained career-counseling teacher in every THCS, THPT and ethnic boarding school; (2) "
        "align the vocational institutions' intake with the yearly labour-demand survey; (3) support Khmer students, "
        "girls and students of disadvantaged communes first; (4) follow this report's indicators every year with the "
        "same toolkit."))
    return s


def _recommendations(tables, lang) -> Section:
    s = Section(_t(lang, "IV. KIẾN NGHỊ, ĐỀ XUẤT", "IV. RECOMMENDATIONS"))
    up = tables.get("uptake_by_year")
    missed = []
    if up is not None:
        missed = [lv for lv in sorted(set(up["level"])) if (r := _last(up, lv)) is not None and _status(r) == "not_met"]
    if missed:
        s.paragraphs.append(_t(
            lang, f"1. Đề nghị cấp trên xem xét bố trí kinh phí đào tạo giáo viên tư vấn và hỗ trợ học nghề để đạt chỉ "
                  f"tiêu phân luồng sau {', '.join(missed)}.",
            f"1. The higher level is asked to fund counselor training and vocational-study support so that the "
            f"streaming targets after {', '.join(missed)} can be met."))
    s.paragraphs.append(_t(
        lang, f"{len(s.paragraphs) + 1}. Đề nghị ngành giáo dục và ngành lao động thống nhất mẫu báo cáo hướng đi của "
              "học sinh sau tốt nghiệp (theo chuẩn dữ liệu của bộ công cụ) để giảm tỷ lệ không rõ hướng đi.",
        f"{len(s.paragraphs) + 1}. The education and labour sectors are asked to agree one form for graduates' "
        "destinations (the toolkit's data contract) to cut the share of unknown destinations."))
    pt = tables.get("equity_gaps")
    if pt is not None and ((pt["dimension"] == "ethnicity") & (pt["ci_high"] < 0)).any():
        s.paragraphs.append(_t(
            lang, f"{len(s.paragraphs) + 1}. Đề nghị ưu tiên chính sách hỗ trợ học nghề cho học sinh dân tộc Khmer "
                  "tại các xã có đông đồng bào Khmer.",
            f"{len(s.paragraphs) + 1}. Vocational-study support for Khmer students in Khmer communes should come first."))
    return s


def report_sections(tables: Mapping[str, pd.DataFrame], lang: str, params: Any = None,
                    since: list[str] | None = None) -> list[Section]:
    """The body of the interim review (parts I-IV) written from the evidence tables; ``since``:
    sentences comparing with the previous review (``compare.since_last_review_text``), shown as
    task 6 of part I."""
    i18n.check_lang(lang)
    results = Section(_t(lang, "I. KẾT QUẢ THỰC HIỆN", "I. RESULTS BY THE TASKS OF THE PLAN"),
                      paragraphs=_findings(tables, lang, "data_quality"))
    results.children = [_streaming(tables, lang), _counselors(tables, lang), _labour(tables, lang),
                        _network(tables, lang), _equity(tables, lang)]
    if since:
        results.children.append(Section(_t(lang, "6. So với kỳ sơ kết trước", "6. Since the last review"),
                                        paragraphs=list(since)))
    return [results, _shortcomings(tables, lang), _directions(tables, lang, params), _recommendations(tables, lang)]

