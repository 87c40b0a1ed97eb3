"""One module for every label and number format: Vietnamese decimal comma, %, pp, labels of codes."""
from __future__ import annotations

import pytest

from evaluation import i18n


@pytest.mark.parametrize("fn,args,vi,en", [
    (i18n.pct, (0.32194,), "32,2 %", "32.2 %"),
    (i18n.pct, (0.4, ), "40,0 %", "40.0 %"),
    (i18n.pp, (3.442,), "3,4 điểm %", "3.4 pp"),
    (i18n.pp, (-0.64,), "-0,6 điểm %", "-0.6 pp"),
    (i18n.integer, (38269,), "38.269", "38,269"),
    (i18n.integer, (6.0,), "6", "6"),
    (i18n.num, (1234.56, ), "1234,6", "1234.6"),
    (i18n.pvalue, (0.0004,), "< 0,001", "< 0.001"),
    (i18n.pvalue, (0.0947,), "0,095", "0.095"),
])
def test_numbers_in_both_languages(fn, args, vi, en):
    assert fn(*args, "vi") == vi and fn(*args, "en") == en


def test_missing_values_and_formats_by_unit():
    assert i18n.pct(None, "vi") == i18n.MISSING == "–"
    assert i18n.format_value(float("nan"), "rate", "vi") == "–"
    assert i18n.format_value(0.322, "rate", "vi") == "32,2 %"
    assert i18n.format_value(6.0, "count", "en") == "6"
    assert i18n.format_value(2.0, "pp", "vi") == "2,0"
    assert i18n.format_value(True, "bool", "vi") == "Có" and i18n.format_value("false", "bool", "en") == "No"
    assert i18n.ci(-0.636, 7.52, "vi") == "-0,6 đến 7,5" and i18n.ci(-0.636, 7.52, "en") == "-0.6 to 7.5"
    with pytest.raises(ValueError, match="lang"):
        i18n.text("table", "fr")


def test_every_code_of_the_sample_bundle_has_a_label():
    cases = [("estimator", "callaway_santanna"), ("model", "glm_binomial"), ("model", "lpm"), ("plan", "status_quo"),
             ("check", "counseling_missing"), ("qualification", "intermediate"), ("level", "college"),
             ("reference", "not_poor"), ("group", "khmer"), ("dimension", "poverty"), ("measure", "voc_uptake"),
             ("method", "projection_lpm"), ("target_standing", "verified"), ("indicator", "voc_uptake_full_coverage")]
    for kind, code in cases:
        vi, en = i18n.value_label(kind, code, "vi"), i18n.value_label(kind, code, "en")
        assert vi != code and not i18n.stray_words(vi, "vi"), (kind, code, vi)
        assert en != code, (kind, code)
    assert i18n.value_label("estimator", "nobody_knows", "vi") == "nobody_knows"


def test_free_text_is_translated_phrase_by_phrase():
    t = i18n.translate("ATT under homogeneous effects; biased under staggered adoption with dynamic effects", "vi")
    assert t.startswith("ATT khi tác động đồng nhất") and not i18n.stray_words(t, "vi")
    assert i18n.translate("Directive 26-CT/TU of Trà Vinh provincial party committee (19/10/2022)", "vi") == \
        "Chỉ thị 26-CT/TU của Tỉnh ủy Trà Vinh (19/10/2022)"
    d = i18n.translate("column school_id, year; expected a counseling row for each school-year with graduates "
                       "(the school-year counts as missing, not as uncovered)", "vi")
    assert d.startswith("cột mã trường, năm; cần một dòng tư vấn") and not i18n.stray_words(d, "vi")
    assert i18n.translate("delete-one-cluster jackknife", "en") == "delete-one-cluster jackknife"
    assert i18n.localize("6 cảnh báo (counseling_missing, unknown_share); ngưỡng (min_cell)", "vi") == \
        "6 cảnh báo (thiếu số liệu tư vấn của trường-năm, tỷ lệ không rõ hướng đi cao); ngưỡng (ngưỡng ẩn ô)"


def test_the_stray_word_scanner_finds_english_and_codes_but_not_names():
    s = "Tỷ lệ học nghề intermediate college theo Decision 522, counselor_coverage và voc_*; ATT, TWFE, KTC 95 %"
    assert i18n.stray_words(s, "vi") == ["intermediate", "college", "Decision", "counselor_coverage", "voc_*"]
    assert i18n.stray_words("Xem evidence/uptake_by_year.csv, xã Đại Phước, Callaway–Sant'Anna", "vi") == []
    assert i18n.stray_words("Uptake rose; bảng của trường", "en") == ["bảng", "của", "trường"]
    assert i18n.stray_words("Trade Cơ khí", "en", allow=["Cơ khí"]) == []


def test_glossary_defines_the_terms_the_issue_names():
    vi = dict(i18n.glossary("vi"))
    for term in ("ATT", "TWFE", "KTC 95 %", "Điểm % (điểm phần trăm)"):
        assert term in vi and vi[term]
    assert len(i18n.glossary("en")) == len(vi)
