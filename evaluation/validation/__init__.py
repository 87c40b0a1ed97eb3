"""Check a cohort data folder against the data contract and report every violation at once.

What is checked (the data contract, ``shared/data-contract.md``, rule by rule):

* files: each required table (``schools``, ``communes``, ``graduates``, ``counseling``) is present as
  ``NAME.csv`` or ``NAME.parquet`` (both at once is an error, so is an unreadable or empty file);
  an absent optional table (``students``, ``labour_demand``, ``vocational_supply``) is a note;
* columns: every required column present; every cell of the right type (whole number, number,
  true/false), every code from its code list, no empty cell where a value is required;
* ranges: counts >= 0 and at most ``MAX_COUNT``, ``0 <= trained_counselors <= counselors``,
  ``employed_12m <= graduated``, ``khmer_share`` in 0..1, graduation years inside the review cycle
  (when ``years`` is given) and every year plausible (1990 to next year); a level-year of
  ``graduates`` whose counts are all 0 (a sheet not filled in?) is a warning;
* numbers are written with the digits 0-9 (full-width digits such as "１２", typed with an Asian
  input method, are refused, not read as missing), at most 15 digits;
* codes (``merged_into_code``, ``residence_commune_code``, every id and code column) are codes:
  letters, digits, ``_ . -`` and no spaces; placeholders such as "-", "NA" or "N/A" are refused
  (leave the cell empty);
* formula-like text: no text cell starts with ``=``, ``+``, ``-``, ``@`` (or a tab / carriage
  return): a spreadsheet opening an evidence CSV would run it as a formula ("CSV injection",
  OWASP). The toolkit refuses such input here rather than altering it on output, so every CSV
  it writes holds the user's text unchanged;
* keys: ``schools.school_id``, ``communes.commune_code``, ``counseling`` school_id+year and the
  ``graduates`` cell key (school_id, year, level, [sex], [ethnicity], destination) unique;
* references: schools -> communes, graduates/counseling/students -> schools,
  labour_demand/vocational_supply -> communes;
* consistency: a graduates row's level is one its school teaches; a destination belongs to the row's
  level; the ``students`` microdata, when given, agree cell by cell with ``graduates``; the microdata
  hold no column that looks like a name, a national ID or a birth date (personal data).

Warnings (printed, never fail): school-years with graduates but no counseling row (*missing*, which is
not *uncovered*); level-years and school-years whose share of ``unknown`` destinations exceeds
``unknown_share_warning``; schools that report in some years and then stop or skip a year. Notes: optional
tables absent.

Messages about the ``students`` table never show a cell's value (``(not shown)``): a name or a
birth date typed into the wrong column must not travel into a report or a terminal.

Row numbers are the ones the user sees: in a CSV file, data row ``i`` (0-based) is **line** ``i + 2``
(the header is line 1; blank lines are counted, quoted fields spanning several lines are not); in a
Parquet file it is **row** ``i + 1``.

Why pandera (0.35, pandas backend) for the per-column rules: the rules are declarative (a column, its
type, its code list, its range), and pandera's ``DataFrameSchema`` states them as data, runs each check
as one vectorised operation over the whole column, and with ``lazy=True`` collects *every* failing cell
with its index into one ``failure_cases`` frame instead of stopping at the first -- exactly the
"all violations at once, with row and value" the contract asks for, and fast enough for ten million
student rows. Its messages are written for programmers (``isin(['THCS', 'THPT'])``), so each check
carries our own name and a sentence in the user's terms, and the failure cases are translated back
through them. pydantic (row-by-row models) would be orders of magnitude slower on microdata; Great
Expectations is far heavier and reports aggregates rather than each cell. Rules that span rows or
tables (keys, references, level/destination pairs, microdata agreement) are vectorised pandas
operations (``duplicated``, ``isin``, merges, group-bys) -- no Python loop over rows anywhere.

The package has one module per concern: :mod:`.report` (issues and their formatting),
:mod:`.schema` (per-column rules and coercion) and :mod:`.checks` (cross-row and cross-table rules,
warnings and the entry points). The rules themselves — code lists, table specs, keys and
references — are the data contract, :mod:`evaluation.contract`, which the importer and the
template read too.
"""
from ..contract import (PLAUSIBLE_YEARS, SCHOOL_LEVELS, TABLE_SPECS, VSIC_SECTIONS, ColumnSpec, _PERSONAL_RE,
                        plausible_years)
from .checks import _normalise_name, check_tables, read_folder, validate_folder, validate_tables
from .report import REPORT_COLUMNS, SEVERITIES, Issue, ValidationReport
from .schema import coerce_column, coerce_table

__all__ = ["validate_folder", "validate_tables", "check_tables", "read_folder", "ValidationReport", "Issue",
           "REPORT_COLUMNS", "SEVERITIES", "TABLE_SPECS", "ColumnSpec", "VSIC_SECTIONS", "SCHOOL_LEVELS",
           "PLAUSIBLE_YEARS", "plausible_years", "coerce_table", "coerce_column"]
