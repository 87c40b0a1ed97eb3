"""The message catalogue shared by import and validate: Vietnamese by default, English on request,
and no message of the sources without its Vietnamese wording."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import evaluation
from evaluation.importer.issues import ImportFailed, ImportIssue
from evaluation.messages import CATALOGUE, has_translation, translate

PACKAGE = Path(evaluation.__file__).parent
SOURCES = sorted((PACKAGE / "importer").glob("*.py")) + sorted((PACKAGE / "validation").glob("*.py")) + [PACKAGE / "contract.py"]


def _literal_messages(path: Path) -> list[tuple[int, str]]:
    """Every constant message text of a source file: ``expected=`` arguments, ``CellError``,
    ``_fail`` and ``_key_issue`` texts, the validation's kind texts."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            args = [k.value for k in node.keywords if k.arg == "expected"]
            if name in ("CellError", "_key_issue") and node.args:
                args.append(node.args[0])
            if name == "_fail" and len(node.args) >= 3:
                args.append(node.args[2])
            out += [(a.lineno, a.value) for a in args if isinstance(a, ast.Constant) and isinstance(a.value, str)]
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "_KIND_EXPECTED":
            out += [(v.lineno, v.value) for v in node.value.values]
    return out


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_literal_message_has_its_vietnamese(path):
    missing = [(line, text) for line, text in _literal_messages(path) if not has_translation(text)]
    assert missing == []


def test_placeholders_agree():
    """The Vietnamese uses only what the English message holds (it may leave out "line"/"row")."""
    for en, vi in CATALOGUE:
        assert set(re.findall(r"\{(\w+)\}", vi)) <= set(re.findall(r"\{(\w+)\}", en)), en


def test_translation_keeps_the_data_and_translates_fixed_phrases():
    assert translate("the sum of the destination columns on the same row (350); the total and its parts "
                     "disagree") == "giá trị bằng tổng các cột hướng đi trên cùng dòng (350); cột tổng và các phần " \
                                    "không khớp"
    assert translate("a level: one of THCS, THPT (or their Vietnamese names)") == \
        "cấp học: một trong THCS, THPT (hoặc tên tiếng Việt)"
    assert translate("a whole number (e.g. 12)", "en") == "a whole number (e.g. 12)"
    assert translate("something nobody wrote down") == "(chưa có bản dịch) something nobody wrote down"


def test_an_import_failure_in_both_languages():
    i = ImportIssue(check="total_row", file="bc.xlsx", sheet="Tốt nghiệp THCS", row=17, column="E (Vào GDTX)",
                    value="256", expected="the sum of the rows it totals: the rows above sum to 266; the total row "
                                          "disagrees with its parts")
    e = ImportFailed([i])
    assert e.format("vi") == (
        "Không nhập được: 1 lỗi; không ghi gì.\n  bc.xlsx, trang tính 'Tốt nghiệp THCS', dòng 17, cột E (Vào GDTX): "
        "giá trị '256': cần giá trị bằng tổng các dòng mà nó cộng: các dòng phía trên cộng lại là 266; dòng tổng "
        "không khớp với các phần [total_row]")
    assert e.format("en") == str(e)


def test_unreadable_table_messages_are_vietnamese_through_and_through(tmp_path):
    """Why a table file cannot be read (``evaluation.io``) is translated inside 'a readable ...; {reason}'."""
    from evaluation.io import TableReadError, read_table

    cases = {"graduates.csv": "school_id;year;level\nS1;2020;THCS\n", "schools.csv": "",
             "communes.csv": "commune_code,name\n1,a,b\n", "counseling.csv": "school_id,year,school_id\nS1,2020,S2\n"}
    for name, text in cases.items():
        d = tmp_path / name.split(".")[0]
        d.mkdir()
        (d / name).write_text(text, encoding="utf-8")
        with pytest.raises(TableReadError) as e:
            read_table(d, name.split(".")[0])
        msg = f"a readable CSV file; {e.value.reason}"
        vi = translate(msg, "vi")
        assert vi.startswith("một tệp CSV đọc được; ") and "(chưa có bản dịch)" not in vi, vi
        assert not any(w in vi for w in ("the file", "column", "line ", "separated", "keep")), vi
