"""Student lists: refused without a key, pseudonymised, identifiers dropped, graduates derived.

The lists are built here from the synthetic sample (``write_sample(scale=0.1)``): every student
gets a made-up Vietnamese name, a date of birth and (in the THCS list) a 12-digit personal
identifier, so that the tests can look for them in everything the import writes.
"""
from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from evaluation.data import load_cohort
from evaluation.importer import KEY_ENV, ImportFailed, KeyMissing, import_files
from evaluation.importer.vntext import unicode_to_tcvn3
from evaluation.paths import DATA_DIR
from evaluation.sample import write_sample

KEY = "test-key-" + "7" * 32
SURNAMES = ["Nguyễn", "Trần", "Lê", "Thạch", "Sơn", "Kim", "Huỳnh", "Phạm", "Danh", "Võ"]
MIDDLES = ["Văn", "Thị", "Ngọc", "Minh", "Quốc", "Thanh", "Hoàng", "Bảo", "Mỹ", "Hữu"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Duyên", "Hưởng", "Khang", "Linh", "Mai", "Nhung", "Phúc", "Quyên", "Sang",
         "Tâm", "Thảo", "Trí", "Tuyết", "Vy", "Xuân", "Yến", "Đạt", "Hiếu", "Kha", "Lộc", "Nhi", "Phát", "Sô Phia",
         "Tài", "Út", "Vinh"]
SEX_VI = {"F": "Nữ", "M": "Nam"}
ETH_VI = {"kinh": "Kinh", "khmer": "Khmer", "hoa": "Hoa", "other": "Chăm", "unknown": "Không rõ"}
DEST_VI = {"thpt": "Học THPT", "gdtx": "GDTX", "voc_intermediate": "Trung cấp", "voc_elementary": "Sơ cấp",
           "employment": "Đi làm", "other": "Khác", "unknown": "Không rõ", "university": "Đại học",
           "voc_college": "Cao đẳng"}


def person(i: int, year: int) -> tuple[str, dt.date, str]:
    name = f"{SURNAMES[i % 10]} {MIDDLES[(i // 10) % 10]} {GIVEN[(i // 100) % 30]}"
    born = dt.date(year - 15, 1, 1) + dt.timedelta(days=(i // 3000) * 7 + i % 5)
    pid = f"084{(i * 7919) % 10**9:09d}"
    return name, born, pid


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    return write_sample(tmp_path_factory.mktemp("s") / "sample", scale=0.1)


def base_without_students(sample: Path, root: Path) -> Path:
    """The sample folder without its graduates and students (the import derives them)."""
    base = root / "base"
    base.mkdir()
    for p in sample.iterdir():
        if p.stem not in ("graduates", "students", "truth", "README"):
            shutil.copyfile(p, base / p.name)
    return base


def students_subset(sample: Path, n: int = 20) -> pd.DataFrame:
    """At most ``n`` students of each school, year and level of the sample (openpyxl reads about
    3,000 cells a second on the test machine: the lists stay small)."""
    st = pd.read_parquet(sample / "students.parquet")
    return st.groupby(["school_id", "year", "level"], group_keys=False).head(n).reset_index(drop=True)


def student_lists(sample: Path, root: Path, *, n: int = 20) -> tuple[list[Path], pd.DataFrame]:
    """Two workbooks (THCS with identifiers, THPT with names and birth dates only) and the
    personal data written into them."""
    st = students_subset(sample, n)
    names = pd.read_csv(sample / "schools.csv", dtype=str).set_index("school_id")["school_name"]
    files, people = [], []
    for level in ("THCS", "THPT"):
        s = st[st["level"] == level].reset_index(drop=True)
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet(f"DS HS tốt nghiệp {level}")
        ws.append([f"DANH SÁCH HỌC SINH TỐT NGHIỆP {level}"])
        ws.append([])
        head = ["STT", "Họ và tên", "Ngày sinh", "Nữ", "Dân tộc", "Trường", "Năm tốt nghiệp", "Hộ nghèo",
                   "Mã xã cư trú", "Được tư vấn cá nhân", "Hướng đi sau tốt nghiệp", "Số điện thoại", "Địa chỉ"]
        if level == "THCS":
            head.insert(1, "Mã định danh")
        ws.append(head)
        for i, r in enumerate(s.itertuples(index=False)):
            name, born, pid = person(i + (0 if level == "THCS" else 500_000), r.year)
            row = [i + 1, unicode_to_tcvn3(name) if i % 7 == 0 else name, born if i % 2 else born.strftime("%d/%m/%Y"),
                   "x" if r.sex == "F" else None, ETH_VI[r.ethnicity], names[r.school_id], r.year,
                   "x" if r.poor_household else None, r.residence_commune_code, "có" if r.counseled else "không",
                   DEST_VI[r.destination], f"09{i:08d}", f"Ấp {i % 9}, xã {i % 5}"]
            if level == "THCS":
                row.insert(1, pid)
            ws.append(row)
            people.append({"name": name, "born": born, "pid": pid if level == "THCS" else None,
                           "phone": f"09{i:08d}"})
        p = root / f"ds_hs_{level.lower()}.xlsx"
        wb.save(p)
        files.append(p)
    return files, pd.DataFrame(people)


def forms(text: str) -> set[str]:
    """The ways a text can appear in a written file."""
    import unicodedata

    out = {text, unicodedata.normalize("NFD", text), json.dumps(text)[1:-1], unicode_to_tcvn3(text)}
    return {f for f in out if f}


def secrets_of(people: pd.DataFrame) -> set[str]:
    s: set[str] = set()
    for r in people.itertuples(index=False):
        s |= forms(r.name)
        s |= {r.born.isoformat(), r.born.strftime("%d/%m/%Y"), r.phone}
        if isinstance(r.pid, str):
            s.add(r.pid)
    return s


def file_texts(folder: Path):
    """(path, text) of every file under ``folder``; zip containers (xlsx, docx) by member,
    Parquet as CSV text."""
    for p in sorted(folder.rglob("*")):
        if not p.is_file():
            continue
        if p.suffix in (".xlsx", ".docx", ".zip"):
            with zipfile.ZipFile(p) as z:
                for m in z.namelist():
                    yield f"{p}!{m}", z.read(m).decode("utf-8", "ignore")
        elif p.suffix == ".parquet":
            yield str(p), pd.read_parquet(p).to_csv()
        else:
            yield str(p), p.read_bytes().decode("utf-8", "ignore")


def leaks(folder: Path, secrets: set[str]) -> list[tuple[str, str]]:
    found = []
    for where, text in file_texts(folder):
        for s in secrets:
            if s in text:
                found.append((where, s))
    return found


# ------------------------------------------------------------------------------------------------
def test_refuses_without_a_key(tmp_path, sample, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    monkeypatch.delenv("EVALUATION_PSEUDONYM_KEY_FILE", raising=False)
    files, _ = student_lists(sample, tmp_path, n=20)
    with pytest.raises(KeyMissing) as e:
        import_files(files, tmp_path / "out", base=base_without_students(sample, tmp_path))
    assert e.value.messages == [
        "(student list): expected a secret pseudonymisation key before student records are imported: set the "
        "environment variable EVALUATION_PSEUDONYM_KEY (at least 16 characters, e.g. from `python -c \"import "
        "secrets; print(secrets.token_hex(32))\"`) or EVALUATION_PSEUDONYM_KEY_FILE (a file outside the "
        "repository), or pass --key-file; keep the same key for every import of the review so students can be "
        "linked [pseudonym_key]"]
    assert not (tmp_path / "out").exists()


def test_refuses_a_short_key_and_a_key_file_inside_the_repository(tmp_path, sample, monkeypatch):
    files, _ = student_lists(sample, tmp_path, n=20)
    base = base_without_students(sample, tmp_path)
    monkeypatch.setenv(KEY_ENV, "short")
    with pytest.raises(KeyMissing, match="at least 16 characters \\(the one from environment variable "
                                         "EVALUATION_PSEUDONYM_KEY has 5\\)"):
        import_files(files, tmp_path / "out", base=base)
    inside = DATA_DIR / f"key_for_test_{os.getpid()}.txt"  # data/ is inside the repository (git-ignored)
    inside.parent.mkdir(exist_ok=True)
    inside.write_text(KEY)
    try:
        with pytest.raises(KeyMissing, match="a key file outside the repository"):
            import_files(files, tmp_path / "out", base=base, key_file=inside)
    finally:
        inside.unlink()
    assert not (tmp_path / "out").exists()


def test_student_lists_pseudonymised_and_graduates_derived(tmp_path, sample, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    files, people = student_lists(sample, tmp_path)
    base = base_without_students(sample, tmp_path)
    res = import_files(files, tmp_path / "out", base=base)
    want = students_subset(sample)
    out = tmp_path / "out"
    assert sorted(p.name for p in out.iterdir()) == [
        "communes.csv", "counseling.csv", "graduates.csv", "import_report.json", "import_report.md",
        "labour_demand.csv", "schools.csv", "students.csv", "vocational_supply.csv"]
    assert leaks(out, secrets_of(people)) == []
    st = pd.read_csv(out / "students.csv", dtype=str)
    assert list(st.columns) == ["student_key", "school_id", "year", "level", "sex", "ethnicity", "poor_household",
                                "residence_commune_code", "counseled", "destination"]
    assert st["student_key"].str.fullmatch(r"P[0-9a-f]{20}").all() and st["student_key"].is_unique
    # every student record survived with its attributes; the derived graduates count them
    key = ["school_id", "year", "level", "sex", "ethnicity", "destination"]
    ours = load_cohort(out)
    got = ours.students.groupby(key).size().sort_index()
    ref = want.groupby(key).size().sort_index()
    pd.testing.assert_series_equal(got, ref, check_names=False)
    pd.testing.assert_series_equal(ours.graduates.set_index(key)["students"].sort_index(), ref, check_names=False)
    for col in ("poor_household", "counseled", "residence_commune_code"):
        a = ours.students.groupby(key)[col].agg(lambda x: sorted(x.astype(str))).sort_index()
        b = want.groupby(key)[col].agg(lambda x: sorted(x.astype(str))).sort_index()
        pd.testing.assert_series_equal(a, b, check_names=False)
    assert res.report["pseudonymisation"]["key_source"] == "environment variable EVALUATION_PSEUDONYM_KEY"
    # the same key gives the same pseudonyms; another key other ones
    again = import_files(files, tmp_path / "again", base=base)
    assert (tmp_path / "again" / "students.csv").read_bytes() == (out / "students.csv").read_bytes()
    monkeypatch.setenv(KEY_ENV, "another-key-" + "1" * 20)
    import_files(files, tmp_path / "other", base=base)
    other = pd.read_csv(tmp_path / "other" / "students.csv", dtype=str)
    assert set(other["student_key"]).isdisjoint(st["student_key"])
    assert again.report["pseudonymisation"]["key_fingerprint"] == res.report["pseudonymisation"]["key_fingerprint"]


def test_same_student_twice_is_reported_without_showing_who(tmp_path, sample, monkeypatch):
    monkeypatch.setenv(KEY_ENV, KEY)
    st = pd.read_parquet(sample / "students.parquet").head(3)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Học sinh"
    ws.append(["Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Mã trường", "Năm tốt nghiệp", "Cấp học",
               "Hướng đi"])
    for i, r in enumerate(st.itertuples(index=False)):
        ws.append(["Lê Thị Mai" if i < 2 else "Lê Văn Út", dt.date(2004, 3, 5), r.sex, r.ethnicity, r.school_id, r.year,
                   r.level, r.destination])
    p = tmp_path / "ds.xlsx"
    wb.save(p)
    with pytest.raises(ImportFailed) as e:
        import_files([p], tmp_path / "out", base=base_without_students(sample, tmp_path))
    assert e.value.messages[0] == (
        "ds.xlsx, sheet 'Học sinh', row 3: value (not shown): expected each student once: this student (same "
        "identifier, or same name and date of birth) is already on row 2 [student_duplicate]")
    # the same pass also reports what the contract misses on the other rows (no poverty or
    # counseling column in this list)
    assert sorted((i.row, i.column, i.check) for i in e.value.issues[1:]) == [
        (2, "counseled", "missing_value"), (2, "poor_household", "missing_value"),
        (4, "counseled", "missing_value"), (4, "poor_household", "missing_value")]
    assert "Lê Thị Mai" not in str(e.value) and "2004" not in str(e.value)
    assert not (tmp_path / "out").exists()
