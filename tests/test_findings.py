"""Findings are sentences generated from the evidence tables: checked against hand-counted numbers."""
from __future__ import annotations

import pytest

from evaluation import evidence as ev
from evaluation.findings import findings_markdown, findings_table, review_findings

from evidence_fixtures import make_stage, uptake_by_year_frame


@pytest.fixture(scope="module")
def stage(tmp_path_factory):
    return make_stage(tmp_path_factory.mktemp("stage"), figures=False)


def _by(findings, topic, level):
    return next(f for f in findings if f.topic == topic and f.level == level)


def test_uptake_sentences_state_first_and_last_year(stage):
    f = review_findings(stage)
    thcs = _by(f, "uptake", "THCS")
    # THCS: 120/400 = 30.0 % in 2023, 160/420 = 38.1 % in 2025 (tests/evidence_fixtures.py)
    assert thcs.sentence_en.startswith("Vocational uptake (any level) after THCS rose from 30.0 % (2023) to 38.1 % (2025)")
    assert "tăng từ 30,0 % (2023) lên 38,1 % (2025)" in thcs.sentence_vi
    assert thcs.value == pytest.approx(160 / 420)
    target = _by(f, "target", "THPT")  # college only: 36/300 = 12.0 % against 45 %
    assert "12.0 %: the 45 % target was not met" in target.sentence_en
    assert "chưa đạt chỉ tiêu 45 %" in target.sentence_vi


def test_commune_count_leaves_out_suppressed_cells(stage):
    f = review_findings(stage)
    thpt = _by(f, "communes", "THPT")
    # 2025: three communes, Xã Đại Phước (3 graduates) suppressed; none of the other two reaches 40 %
    assert "met in 0 of 2 communes with a target (3 communes in all) (1 suppressed for too few students)" in thpt.sentence_en
    assert "0/2 xã" in thpt.sentence_vi


def test_effect_sentence_follows_the_interval(stage):
    f = review_findings(stage)
    clear = _by(f, "effect", "THCS")  # 6.0 pp, CI 3.06 to 8.94
    assert "raised vocational uptake by 6.0 pp (95 % CI 3.1 to 8.9" in clear.sentence_en
    assert "làm tăng tỷ lệ học nghề 6,0 điểm %" in clear.sentence_vi
    unclear = _by(f, "effect", "THPT")  # 2.0 pp, CI -0.94 to 4.94
    assert "no clear effect" in unclear.sentence_en and "chưa phát hiện được tác động rõ ràng" in unclear.sentence_vi


def test_equity_uses_adjusted_gaps(stage):
    f = [x for x in review_findings(stage) if x.topic == "equity" and x.level == "THCS"]
    assert [x.value for x in f] == [-3.5, -4.0]  # adjusted Khmer gap, adjusted poverty gap; the raw -6.0 is not used
    assert "3.5 pp lower than of Kinh students within the same school and year" in f[0].sentence_en


def test_findings_table_is_a_checked_evidence_table(stage, tmp_path):
    f = review_findings(stage)
    table = findings_table(f, notebook="99_review_summary.ipynb", synthetic=True)
    assert list(table.data["order"]) == list(range(1, len(f) + 1))
    ev.write_table(table, tmp_path)
    ev.build_index(tmp_path)
    back = ev.read_table(tmp_path, "findings")
    assert back["sentence_vi"].tolist() == [x.sentence_vi for x in f]
    assert findings_markdown(f, "en").startswith("1. The input data pass every rule")


def test_absent_tables_give_no_sentence(tmp_path):
    t = ev.uptake_by_year_table(uptake_by_year_frame(), min_cell=5)
    ev.write_table(t, tmp_path)
    ev.build_index(tmp_path)
    assert {x.topic for x in review_findings(tmp_path)} == {"uptake", "target"}
