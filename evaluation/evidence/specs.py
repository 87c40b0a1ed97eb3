"""The specs of every evidence table the review writes (metadata as data: keys, minimum columns,
titles, sheet names and default notes in Vietnamese and English)."""
from __future__ import annotations


import pandas as pd

from .registry import (TABLES, EvidenceError, TableSpec, register_table, _PP_NOTE_EN, _PP_NOTE_VI, _RATE_NOTE_EN,
                       _RATE_NOTE_VI, _SUPP_NOTE_EN, _SUPP_NOTE_VI, _TARGET_NOTE_EN, _TARGET_NOTE_VI)

def _check_one_recommended(df: pd.DataFrame, table_id: str) -> None:
    rec = df["recommended"].astype("boolean").fillna(False)
    for level, n in rec.groupby(df["level"].astype(str)).sum().items():
        if int(n) != 1:
            raise EvidenceError(f"evidence table {table_id}: level {level} has {int(n)} rows with recommended = true; "
                                "exactly one estimate per level must be the one the review reports")


def _register_contract_tables() -> None:
    specs = [
        TableSpec(
            "uptake_by_year", ("level", "year"),
            ("level", "year", "graduates", "vocational", "rate", "unknown_share", "target_rate", "target", "target_met"),
            "Tỷ lệ học nghề sau tốt nghiệp theo năm và cấp học, so với chỉ tiêu",
            "Vocational uptake after graduation by year and level, against the target",
            "Học nghề theo năm", "Uptake by year",
            (_RATE_NOTE_VI, _TARGET_NOTE_VI,
             "Mẫu số là toàn bộ học sinh tốt nghiệp của khóa; 'Tỷ lệ không rõ hướng đi' cho biết độ tin cậy của tỷ lệ."),
            (_RATE_NOTE_EN, _TARGET_NOTE_EN,
             "The denominator is every graduate of the cohort; the share with unknown destination tells how far the rate can be trusted.")),
        TableSpec(
            "uptake_by_commune", ("level", "year", "commune_code"),
            ("level", "year", "commune_code", "commune_name", "graduates", "vocational", "rate", "target_rate", "target",
             "target_met", "suppressed"),
            "Tỷ lệ học nghề theo xã, năm và cấp học, so với chỉ tiêu",
            "Vocational uptake by commune, year and level, against the target",
            "Học nghề theo xã", "Uptake by commune",
            (_RATE_NOTE_VI, _TARGET_NOTE_VI, _SUPP_NOTE_VI,
             "Học sinh được tính theo xã của trường nơi các em tốt nghiệp."),
            (_RATE_NOTE_EN, _TARGET_NOTE_EN, _SUPP_NOTE_EN,
             "Students are counted in the commune of the school they graduated from.")),
        TableSpec(
            "uptake_by_group", ("level", "year", "group_var", "group"),
            ("level", "year", "group_var", "group", "graduates", "vocational", "rate", "suppressed"),
            "Tỷ lệ học nghề theo giới tính và dân tộc",
            "Vocational uptake by sex and ethnicity",
            "Học nghề theo nhóm", "Uptake by group",
            (_RATE_NOTE_VI, "Tỷ lệ học nghề tính mọi trình độ nghề.", _SUPP_NOTE_VI),
            (_RATE_NOTE_EN, "Vocational uptake counts every vocational level.", _SUPP_NOTE_EN)),
        TableSpec(
            "coverage_by_year", ("level", "year"),
            ("level", "year", "schools", "covered", "missing", "coverage_rate", "target"),
            "Tỷ lệ trường có giáo viên tư vấn hướng nghiệp đã qua đào tạo",
            "Schools with a trained career-counseling teacher",
            "Phủ GV tư vấn theo năm", "Counselor coverage by year",
            (_RATE_NOTE_VI,
             "Một trường được tính là có GV tư vấn khi có ít nhất một giáo viên tư vấn hướng nghiệp đã qua đào tạo trong năm.",
             "'Số trường thiếu số liệu' là trường không có dòng số liệu tư vấn hướng nghiệp trong năm."),
            (_RATE_NOTE_EN,
             "A school counts as covered when it has at least one trained career-counseling teacher in the year.",
             "'Schools with missing data' have no counseling row for the year.")),
        TableSpec(
            "trend", ("level", "model"),
            ("level", "model", "estimate_pp_per_year", "std_error", "ci_low", "ci_high", "p_value", "recommended"),
            "Xu hướng tỷ lệ học nghề (điểm phần trăm mỗi năm)",
            "Trend of vocational uptake (percentage points per year)",
            "Xu hướng", "Trend",
            (_PP_NOTE_VI, "Xu hướng là thay đổi của tỷ lệ học nghề khi tăng thêm một năm. Dòng được báo cáo "
             "là hồi quy trên tỷ lệ của từng năm với khoảng tin cậy t(số năm - 3): "
             "một cú sốc chung cả huyện trong một năm tác động đến mọi trường cùng lúc nên năm, không phải trường, là "
             "đơn vị thông tin. Hồi quy nhị thức và mô hình xác suất tuyến tính (sai số theo cụm trường) chỉ để đối chiếu."),
            (_PP_NOTE_EN, "The trend is the change of the uptake rate for one more year. The reported row (recommended "
             "= true) is the regression on the annual rates (annual_ols) with t(years - 3) intervals: a district-wide "
             "shock in a year moves every school at once, so years, not schools, carry the information. The "
             "glm_binomial and lpm rows (school-clustered errors) are robustness checks."),
            _check_one_recommended),
        TableSpec(
            "effect_overall", ("level", "estimator"),
            ("level", "estimator", "estimate_pp", "std_error", "ci_low", "ci_high", "p_value", "n_units", "n_obs", "recommended"),
            "Tác động của việc có giáo viên tư vấn hướng nghiệp đã qua đào tạo đến tỷ lệ học nghề",
            "Effect of having a trained career-counseling teacher on vocational uptake",
            "Tác động tổng thể", "Overall effect",
            (_PP_NOTE_VI,
             "Ước lượng là chênh lệch tỷ lệ học nghề (điểm %) ở các trường đã có GV tư vấn so với khi chưa có, "
             "trung bình trên các trường và năm đã có GV tư vấn.",
             "Mỗi cấp học có đúng một ước lượng được báo cáo (cột 'Ước lượng được báo cáo'); lý do ghi ở dưới."),
            (_PP_NOTE_EN,
             "The estimate is the difference in uptake (pp) at schools with a trained counselor compared with "
             "without, averaged over covered schools and years.",
             "Each level has exactly one reported estimate (column 'recommended'); the reason is given below."),
            _check_one_recommended),
        TableSpec(
            "event_study", ("level", "estimator", "event_time"),
            ("level", "estimator", "event_time", "estimate_pp", "std_error", "ci_low", "ci_high"),
            "Tác động theo số năm kể từ khi trường có giáo viên tư vấn (nghiên cứu sự kiện)",
            "Effect by years since the school's first trained counselor (event study)",
            "Tác động theo năm", "Event study",
            (_PP_NOTE_VI,
             "Năm 0 là khóa đầu tiên trường có GV tư vấn; các năm âm là kiểm tra xu hướng trước: "
             "nếu giả định so sánh đúng, các hệ số này gần 0."),
            (_PP_NOTE_EN,
             "Year 0 is the school's first covered cohort; negative years are pre-trend checks: "
             "if the comparison is valid they are close to zero.")),
        TableSpec(
            "equity_gaps", ("level", "dimension", "group", "adjusted"),
            ("level", "dimension", "group", "reference", "gap_pp", "adjusted", "ci_low", "ci_high"),
            "Chênh lệch tỷ lệ học nghề giữa các nhóm (công bằng tiếp cận)",
            "Gaps in vocational uptake between groups (equal access)",
            "Chênh lệch giữa nhóm", "Equity gaps",
            (_PP_NOTE_VI,
             "Chênh lệch = tỷ lệ của nhóm trừ tỷ lệ của nhóm so sánh; số âm nghĩa là nhóm học nghề ít hơn.",
             "Mỗi nhóm có một dòng chênh lệch thô (so sánh trực tiếp) và, khi tính được, một dòng đã điều chỉnh "
             "('Đã điều chỉnh' = có): so sánh học sinh trong cùng trường và cùng năm (hiệu ứng cố định theo từng cặp trường x năm)."),
            (_PP_NOTE_EN,
             "Gap = group rate minus reference-group rate; negative means the group enters vocational education less.",
             "Each group has a raw gap row (direct comparison) and, where it can be estimated, an adjusted row "
             "(adjusted = true): students of the same school and year compared (school x year fixed effects).")),
        TableSpec(
            "data_quality", ("check", "table", "severity"),
            ("check", "table", "severity", "count", "detail"),
            "Kiểm tra chất lượng dữ liệu đầu vào",
            "Checks of the input data",
            "Chất lượng dữ liệu", "Data quality",
            ("Mỗi dòng là một quy tắc kiểm tra trên một tệp: 'Lỗi' làm dừng phân tích, 'Cảnh báo' cần xem lại nhưng "
             "không dừng.", "Chi tiết không chứa mã hoặc tên học sinh."),
            ("Each row is one check on one file: an 'error' stops the analysis, a 'warning' needs a look but does "
             "not stop it.", "Details contain no student key or name.")),
    ]
    for spec in specs:
        register_table(spec, replace=True)


_register_contract_tables()
#: The ids every full run writes (output contract).
CONTRACT_TABLE_IDS: tuple[str, ...] = tuple(TABLES)


def _register_plan_tables() -> None:
    specs = [
        TableSpec(
            "labour_alignment", ("survey_year", "trade", "qualification"),
            ("survey_year", "trade", "qualification", "demand", "places", "graduates", "ratio", "gap"),
            "Nhu cầu lao động của doanh nghiệp so với chỗ đào tạo nghề theo ngành và trình độ",
            "Enterprises' labour demand against vocational training places by trade and qualification",
            "Cung cầu lao động", "Labour demand vs supply",
            ("Nhu cầu: số lao động các doanh nghiệp được khảo sát cần tuyển (chỉ doanh nghiệp trả lời, nên là cận dưới).",
             "Số chỗ và số tốt nghiệp: của các cơ sở GDNN cùng ngành, ở trình độ nghề bằng trình độ yêu cầu, trong năm khảo sát; "
             "trình độ 'không yêu cầu' và 'đại học' không có trình độ nghề tương ứng nên để trống.",
             "Tỷ số = số chỗ / nhu cầu; chênh lệch = nhu cầu - số chỗ (dương: thiếu chỗ đào tạo, âm: thừa so với nhu cầu khảo sát)."),
            ("Demand: workers the surveyed enterprises need (respondents only, so a lower bound).",
             "Places and graduates: of the vocational institutions in the same trade at the vocational level equal to "
             "the qualification, in the survey year; 'no qualification' and 'university' have no vocational level and "
             "are left empty.",
             "Ratio = places / demand; gap = demand - places (positive: too few places, negative: places beyond the "
             "surveyed demand)."),
            formats=(("ratio", "number"), ("gap", "number")), suppression_blank=("graduates", "employed_12m")),
        TableSpec(
            "vocational_network", ("year", "institution_id", "trade", "level"),
            ("year", "institution_id", "trade", "level", "places", "enrolled", "fill_rate", "completion_rate",
             "employment_rate"),
            "Mạng lưới cơ sở GDNN: chỉ tiêu, tuyển sinh, hoàn thành và việc làm theo ngành, trình độ",
            "The vocational network: places, enrolment, completion and employment by trade and level",
            "Mạng lưới GDNN", "Vocational network",
            (_RATE_NOTE_VI,
             "Tỷ lệ tuyển đủ = tuyển mới / chỉ tiêu; tỷ lệ hoàn thành = tốt nghiệp / tuyển mới cùng năm (xấp xỉ khi quy mô ổn định); "
             "tỷ lệ có việc làm = có việc làm trong 12 tháng / tốt nghiệp."),
            (_RATE_NOTE_EN,
             "Fill rate = enrolled / places; completion rate = graduated / enrolled in the same year (an approximation "
             "when intake is stable); employment rate = employed within 12 months / graduated.")),
        TableSpec(
            "projections", ("level", "indicator", "year"),
            ("level", "indicator", "year", "estimate", "ci_low", "ci_high", "target"),
            "Dự báo tỷ lệ học nghề, học tiếp và tỷ lệ trường có GV tư vấn đến năm 2030, so với chỉ tiêu",
            "Projected uptake, transition and counselor coverage to 2030, against the targets",
            "Dự báo 2030", "Projections to 2030",
            (_RATE_NOTE_VI,
             "Dự báo nếu xu hướng và tác động của giai đoạn tiếp tục: mô hình xác suất tuyến tính có trọng số số học sinh, "
             "hiệu ứng cố định trường, xu hướng năm, năm dịch COVID và tác động theo số năm kể từ khi trường có GV tư vấn; "
             "khoảng là khoảng dự báo 95 % cho tỷ lệ thực tế của năm đó (gồm cú sốc chung của năm mới và sai số theo "
             "trường và theo năm); đạt chỉ tiêu: 'Đạt' khi cả cận dưới đạt, 'Chưa đạt' khi cả cận trên không đạt, "
             "'Chưa xác định' khi khoảng chứa chỉ tiêu.",
             "Hậu tố '_full_coverage': mọi trường chưa có GV tư vấn được bố trí từ năm kế hoạch; không hậu tố: giữ nguyên hiện trạng. "
             "'counselor_coverage' là số đếm (không có sai số); '_pace' giả định các trường chưa có GV tư vấn có GV với tốc độ "
             "trung bình của giai đoạn."),
            (_RATE_NOTE_EN,
             "Projection if the trend and effects of the period continued: graduate-weighted linear probability model "
             "with school fixed effects, a year trend, the COVID years and the effect by years since the school's first "
             "trained counselor; the interval is a 95 % prediction interval for the year's realised rate (the new "
             "year's district-wide shock included, school and year uncertainty); 'target_met': met (even the low end "
             "reaches the target), not_met (even the high end falls short), not_determined (the interval straddles it).",
             "Suffix '_full_coverage': every school without a trained counselor gets one from the plan year; no suffix: "
             "status quo. 'counselor_coverage' is counted (no sampling error); '_pace' assumes uncovered schools adopt "
             "at the period's average pace."),
            formats=(("estimate", "rate"), ("ci_low", "rate"), ("ci_high", "rate"), ("std_error", "number"),
                     ("target_met", "text"))),  # three-valued: met / not_met / not_determined
    ]
    for spec in specs:
        register_table(spec, replace=True)


_register_plan_tables()
#: The extra tables of the labour, network and next-period sections (skipped without their inputs).
PLAN_TABLE_IDS: tuple[str, ...] = ("labour_alignment", "vocational_network", "projections")


def _register_sensitivity_tables() -> None:
    register_table(TableSpec(
        "pretrend_sensitivity", ("level", "estimand", "restriction", "M"),
        ("level", "estimand", "restriction", "M", "ci_low", "ci_high", "status", "reason_vi", "reason_en"),
        "Độ nhạy của tác động với vi phạm xu hướng song song (Rambachan & Roth 2023)",
        "Sensitivity of the effect to violations of parallel trends (Rambachan & Roth 2023)",
        "Độ nhạy xu hướng trước", "Pre-trend sensitivity",
        (_PP_NOTE_VI,
         "Khoảng 95 % cho tác động trung bình năm 0-2 sau khi có GV tư vấn (ước lượng Callaway-Sant'Anna "
         "theo thời gian sự kiện, năm gốc chung) khi xu hướng của trường có và chưa có GV tư vấn được phép lệch nhau: "
         "độ lớn tương đối: mỗi năm sau, độ lệch thay đổi tối đa M̄ lần thay đổi lớn nhất của giai đoạn trước "
         "(khoảng C-LF: kết hợp kiểm định có điều kiện và kiểm định bất lợi nhất, như gói HonestDiD); "
         "độ trơn: độ dốc của độ lệch thay đổi tối đa M điểm % mỗi năm "
         "(khoảng độ dài cố định tối ưu); không giới hạn: khoảng gốc. Ở M̄ = 0 khoảng độ lớn tương đối hơi khác "
         "khoảng gốc vì kiểm định kết hợp dành một phần nhỏ mức ý nghĩa (κ = α/10) cho bước đầu."),
        (_PP_NOTE_EN,
         "95 % intervals for the average post-coverage effect (estimand = post_average; Callaway-Sant'Anna event study "
         "with a universal base year) when the trends of covered and not-yet-covered schools may diverge: "
         "relative_magnitude: each post year the divergence changes by at most M̄ times the largest pre-period change "
         "(the conditional-least-favourable hybrid interval, as the HonestDiD package computes it); "
         "smoothness: the divergence's slope changes by at most M pp a year "
         "(optimal fixed-length interval). 'none': the original interval. At M̄ = 0 the relative-magnitude interval "
         "differs slightly from it because the hybrid test spends a small part of the level (κ = α/10) on a first stage."),
        formats=(("M", "number"), ("ci_low", "pp"), ("ci_high", "pp"))), replace=True)


_register_sensitivity_tables()
#: Tables of the pre-trend sensitivity analysis (written by the effects section; issue 12).
SENSITIVITY_TABLE_IDS: tuple[str, ...] = ("pretrend_sensitivity",)
