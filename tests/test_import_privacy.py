"""A full review run on imported student lists writes no name, birth date or raw identifier.

The student lists (made-up names, birth dates, 12-digit identifiers, phone numbers) are built from
the small synthetic sample, imported with the sample's other tables as base (graduates are
derived from the students), and the whole review -- every notebook and the human report -- is
run on the imported folder. Then every file of the import and of the evidence bundle is scanned:
text files as they are, workbooks and Word files member by member, Parquet as CSV text. Each
secret is searched in NFC, NFD, JSON-escaped and TCVN3 forms.
"""
from __future__ import annotations

import pytest

from evaluation.importer import KEY_ENV, import_files
from evaluation.params import load_params
from evaluation.runner import run_review

from test_import_students import KEY, base_without_students, file_texts, leaks, secrets_of, student_lists


@pytest.mark.slow
def test_review_on_imported_student_lists_leaks_nothing(tmp_path, monkeypatch):
    from evaluation.sample import write_sample

    monkeypatch.setenv(KEY_ENV, KEY)
    sample = write_sample(tmp_path / "sample", scale=0.1)
    files, people = student_lists(sample, tmp_path)
    cohort = tmp_path / "imported"
    import_files(files, cohort, base=base_without_students(sample, tmp_path), years=range(2018, 2026))
    params = load_params(None, data=str(cohort), out=str(tmp_path / "bundle"), bootstrap_reps=99)
    assert run_review(params, jobs=2, progress=False, report=True) == 0
    secrets = secrets_of(people)
    assert len(secrets) > 3 * len(people)
    scanned = [w for w, _ in file_texts(tmp_path / "bundle")] + [w for w, _ in file_texts(cohort)]
    assert any(w.endswith(".html") for w in scanned) and any(".docx!" in w for w in scanned)
    assert leaks(cohort, secrets) == []
    assert leaks(tmp_path / "bundle", secrets) == []
