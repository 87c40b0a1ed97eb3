"""Per-column rules (pandera schemas built from ``contract.TABLE_SPECS``) and coercion to typed columns."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandas.api import types as ptypes

from ..contract import (CONTROL_CHARACTERS, FORMULA_STARTS, NOT_SHOWN, PERSONAL_VALUE, TRUE_WORDS, FALSE_WORDS, SCHOOL_LEVELS, plausible_years, MAX_COUNT, _CODE_RE,
    PLACEHOLDERS, _INT_RE, Kind, ColumnSpec, TABLE_SPECS)
from .report import _Collector, _as_text

def _true(s: pd.Series) -> pd.Series:
    return pd.Series(True, index=s.index)


def _is_textual(s: pd.Series) -> bool:
    return not (ptypes.is_numeric_dtype(s) or ptypes.is_bool_dtype(s))


def _int_ok(s: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(s):
        return s.isna()
    if ptypes.is_integer_dtype(s):
        return _true(s)
    if ptypes.is_float_dtype(s):
        v = s.to_numpy(dtype="float64", na_value=np.nan)
        with np.errstate(invalid="ignore"):  # at most 15 digits, as written text (1e300 is no count)
            return pd.Series(np.isnan(v) | (np.isfinite(v) & (v == np.floor(v)) & (np.abs(v) < 1e15)), index=s.index)
    return s.astype("str").str.fullmatch(_INT_RE).fillna(True).astype(bool)


def _float_ok(s: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(s):
        return s.isna()
    if ptypes.is_numeric_dtype(s):
        return _true(s)
    t = s.astype("str")
    ascii_ = t.str.fullmatch(r"[\x00-\x7f]*").fillna(True).astype(bool)
    return ((pd.to_numeric(t.where(ascii_), errors="coerce").notna() & ascii_) | t.isna()).astype(bool)


def _bool_ok(s: pd.Series) -> pd.Series:
    if ptypes.is_bool_dtype(s):
        return _true(s)
    if ptypes.is_numeric_dtype(s):
        return (s.isin([0, 1]) | s.isna()).astype(bool)
    t = s.astype("str").str.lower()
    return (t.isin(TRUE_WORDS + FALSE_WORDS) | t.isna()).astype(bool)


def _codes_ok(codes: tuple[str, ...], *, school_levels: bool = False) -> Callable[[pd.Series], pd.Series]:
    def check(s: pd.Series) -> pd.Series:
        if not _is_textual(s):
            return s.isna()
        t = s.astype("str")
        if school_levels:
            t = _normalise_school_levels(t)
        return (t.isin(codes) | t.isna()).astype(bool)

    return check


def _by_value(s: pd.Series, test: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``test`` run once per distinct value of ``s`` (codes and names repeat: a column of two
    million school ids holds a few dozen values); True where the cell is missing."""
    codes, uniques = pd.factorize(s)
    ok_u = test(pd.Series(np.asarray(uniques, dtype=object)).astype(str)).to_numpy(dtype=bool)
    ok = np.ones(len(s), dtype=bool)
    have = codes >= 0
    ok[have] = ok_u[codes[have]]
    return pd.Series(ok, index=s.index)


def _no_formula(s: pd.Series) -> pd.Series:
    if not _is_textual(s):
        return _true(s)
    return _by_value(s, lambda t: ~t.str.startswith(FORMULA_STARTS))


def _no_control(s: pd.Series) -> pd.Series:
    if not _is_textual(s):
        return _true(s)
    return _by_value(s, lambda t: ~t.str.contains(CONTROL_CHARACTERS))


def _no_personal_text(s: pd.Series) -> pd.Series:
    if not _is_textual(s):
        return _true(s)
    return _by_value(s, lambda t: ~t.str.contains(PERSONAL_VALUE))


def _pseudonymous_key(s: pd.Series) -> pd.Series:
    """Vectorised over every row (keys are all distinct): not an identity or phone number or a date
    as a whole, and no spaces (a name)."""
    if not _is_textual(s):
        return _true(s)
    t = s.astype("str")
    bad = t.str.fullmatch(PERSONAL_VALUE) | t.str.contains(r"\s")
    return ~bad.fillna(False).astype(bool)


def _code_ok(s: pd.Series) -> pd.Series:
    if not _is_textual(s):
        return _true(s)

    def test(t: pd.Series) -> pd.Series:
        formula = t.str.startswith(FORMULA_STARTS)  # reported once, by _no_formula
        return t.str.fullmatch(_CODE_RE) & ~t.str.lower().isin(PLACEHOLDERS) | formula

    return _by_value(s, test)


def _normalise_school_levels(t: pd.Series) -> pd.Series:
    t = t.str.replace(" ", "", regex=False)
    return t.where(t != "THPT,THCS", "THCS,THPT")


_KIND_TEST = {"int": _int_ok, "float": _float_ok, "bool": _bool_ok}
_KIND_EXPECTED = {
    "int": "a whole number written with the digits 0-9, at most 15 digits (e.g. 12)",
    "float": "a number with a decimal point, written with the digits 0-9 (e.g. 0.25)",
    "bool": "true or false (also accepted: 1/0, yes/no)",
}


def _codes_text(codes: Iterable[str]) -> str:
    return "one of: " + ", ".join(codes)


def _n(v: float) -> str:
    """A bound as people write it: 10000000, not 1e+07."""
    return str(int(v)) if float(v).is_integer() else f"{v:g}"


def _range_text(spec: ColumnSpec) -> str:
    if spec.min is not None and spec.max is not None:
        return f"a value between {_n(spec.min)} and {_n(spec.max)}"
    if spec.min is not None:
        return f"a value of at least {spec.min:g}" if spec.min else "a value of 0 or more"
    return f"a value of at most {spec.max:g}"


# -- coercion (one column to its contract type; cells that do not parse become missing) ----------
def coerce_column(s: pd.Series, kind: Kind) -> pd.Series:
    """``s`` converted to the contract type of ``kind``.

    str -> pandas string dtype; int -> int64 (``Int64`` when a cell is missing or does not parse);
    float -> float64; bool -> bool (``boolean`` when a cell is missing or does not parse). Already
    typed columns pass through without a copy.
    """
    if kind == "str":
        if ptypes.is_string_dtype(s) and not isinstance(s.dtype, pd.CategoricalDtype) and s.dtype != object:
            return s
        if ptypes.is_float_dtype(s):
            ok = _int_ok(s) & s.notna()
            if bool(ok.sum() == s.notna().sum()):
                return s.astype("Int64").astype("str")
        return s.astype("str")
    if kind == "int":
        if ptypes.is_unsigned_integer_dtype(s) and len(s) and s.max() > np.iinfo(np.int64).max:
            # never wrapped round to a negative int64 (18446744073709551615 -> -1): held at the int64
            # maximum, it fails the range rules as the number it is
            s = s.clip(upper=np.iinfo(np.int64).max).astype("int64")
        if ptypes.is_integer_dtype(s) and not ptypes.is_bool_dtype(s):
            if s.dtype == np.dtype("int64"):
                return s
            return s.astype("int64") if not s.hasnans else s.astype("Int64")
        ok = _int_ok(s)
        if ptypes.is_numeric_dtype(s) and not ptypes.is_bool_dtype(s):
            num = s.astype("float64").where(ok)
        elif ptypes.is_bool_dtype(s):
            num = pd.Series(np.nan, index=s.index)
        else:
            num = pd.to_numeric(s.astype("str").where(ok), errors="coerce")
        if num.notna().all():
            return num.astype("int64")
        return num.round().astype("Int64")
    if kind == "float":
        if ptypes.is_bool_dtype(s):
            return pd.Series(np.nan, index=s.index, dtype="float64")
        if ptypes.is_numeric_dtype(s):
            return s.astype("float64")
        return pd.to_numeric(s.astype("str"), errors="coerce").astype("float64")
    if kind == "bool":
        if ptypes.is_bool_dtype(s):
            return s if s.dtype == np.dtype(bool) or s.hasnans else s.astype(bool)
        if ptypes.is_numeric_dtype(s):
            out = pd.Series(pd.NA, index=s.index, dtype="boolean")
            out[s == 1] = True
            out[s == 0] = False
        else:
            t = s.astype("str").str.lower()
            out = pd.Series(pd.NA, index=s.index, dtype="boolean")
            out[t.isin(TRUE_WORDS)] = True
            out[t.isin(FALSE_WORDS)] = False
        return out.astype(bool) if out.notna().all() else out
    raise ValueError(f"unknown column kind {kind!r}")


def coerce_table(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A copy of table ``name`` with every contract column converted to its type (bad cells
    missing); extra columns are kept as they are."""
    out = df.copy(deep=False)
    for spec in TABLE_SPECS[name]:
        if spec.name in out.columns:
            col = coerce_column(out[spec.name], spec.kind)
            if spec.codes is SCHOOL_LEVELS:
                col = _normalise_school_levels(col)
            out[spec.name] = col
    return out


# -- pandera schemas -----------------------------------------------------------------------------
@dataclass
class _CheckMeta:
    check: str
    expected: str


@dataclass
class _Schema:
    schema: pa.DataFrameSchema
    meta: dict[str, list[_CheckMeta]] = field(default_factory=dict)


def _raw_schema(name: str) -> _Schema:
    """Presence, emptiness, type and code rules on the table as read (strings for CSV)."""
    cols, meta = {}, {}
    for spec in TABLE_SPECS[name]:
        checks, m = [], []
        if spec.kind in _KIND_TEST:
            checks.append(pa.Check(_KIND_TEST[spec.kind], name=f"type_{spec.kind}"))
            m.append(_CheckMeta("type", _KIND_EXPECTED[spec.kind]))
        if spec.codes is not None:
            checks.append(pa.Check(_codes_ok(spec.codes, school_levels=spec.codes is SCHOOL_LEVELS), name="code"))
            m.append(_CheckMeta("code", _codes_text(spec.codes)))
        if spec.kind == "str" and spec.codes is None and spec.name != "student_key":  # keys never leave the toolkit
            checks.append(pa.Check(_no_formula, name="formula"))
            m.append(_CheckMeta("formula_text", "text that does not start with =, +, -, @, a tab or a line break (a "
                                                "spreadsheet would run it as a formula when the evidence is opened); "
                                                "remove the first character"))
            checks.append(pa.Check(_no_control, name="control"))
            m.append(_CheckMeta("control_character", "text without control characters (invisible characters, often "
                                                     "copied from a PDF or Word file, that the workbook and Word "
                                                     "reports cannot hold); retype the cell"))
        if spec.personal == "text":
            checks.append(pa.Check(_no_personal_text, name="personal"))
            m.append(_CheckMeta("personal_value", "no personal data here: the cell looks like a phone number, a "
                                                  "citizen identity number or a date of birth; remove it"))
        if spec.personal == "key":
            checks.append(pa.Check(_pseudonymous_key, name="personal"))
            m.append(_CheckMeta("personal_value", "a pseudonymous key, not a person's identity number, phone number, "
                                                  "date of birth or name; make the keys with 'python -m evaluation "
                                                  "import', which pseudonymises student lists"))
        if spec.code:
            checks.append(pa.Check(_code_ok, name="code_form"))
            m.append(_CheckMeta("code_form", "a code: letters and digits (also _ . - /), no spaces, not a placeholder "
                                             "such as '-' or 'NA' (leave the cell empty when there is none)"))
        cols[spec.name] = pa.Column(None, checks=checks, nullable=spec.nullable, required=spec.required,
                                    name=spec.name)
        meta[spec.name] = m
    return _Schema(pa.DataFrameSchema(cols, strict=False, coerce=False, name=name), meta)


def _typed_schema(name: str, years: list[int] | None) -> _Schema | None:
    """Range rules on the typed table (cells that did not parse are missing and skipped here)."""
    cols, meta = {}, {}
    for spec in TABLE_SPECS[name]:
        checks, m = [], []
        if spec.min is not None or spec.max is not None:
            lo, hi = spec.min, spec.max
            checks.append(pa.Check(lambda s, lo=lo, hi=hi: _in_range(s, lo, hi), name="range"))
            m.append(_CheckMeta("range", _range_text(spec)))
        if spec.max_count:
            checks.append(pa.Check(lambda s: _in_range(s, None, MAX_COUNT), name="max_count"))
            m.append(_CheckMeta("range", f"a count of at most {MAX_COUNT} (a larger number is a typing error)"))
        if spec.year and not (spec.cycle_year and years):  # the cycle's own years say more
            lo, hi = plausible_years()
            checks.append(pa.Check(lambda s, lo=lo, hi=hi: _in_range(s, lo, hi), name="year"))
            m.append(_CheckMeta("year_range", f"a calendar year between {lo} and {hi}"))
        if spec.cycle_year and years:
            ys = sorted({int(y) for y in years})
            span = f"{ys[0]}-{ys[-1]}" if ys == list(range(ys[0], ys[-1] + 1)) else ", ".join(map(str, ys))
            checks.append(pa.Check(lambda s, ys=ys: s.isin(ys) | s.isna(), name="cycle"))
            m.append(_CheckMeta("year_range", f"a graduation year of the review cycle ({span})"))
        if checks:
            cols[spec.name] = pa.Column(None, checks=checks, nullable=True, required=False, name=spec.name)
            meta[spec.name] = m
    if not cols:
        return None
    return _Schema(pa.DataFrameSchema(cols, strict=False, coerce=False, name=name), meta)


def _in_range(s: pd.Series, lo: float | None, hi: float | None) -> pd.Series:
    ok = pd.Series(True, index=s.index)
    if lo is not None:
        ok &= (s >= lo).fillna(True).astype(bool)
    if hi is not None:
        ok &= (s <= hi).fillna(True).astype(bool)
    return ok


def _run_schema(sch: _Schema, df: pd.DataFrame, table: str, raw: pd.DataFrame, out: _Collector) -> None:
    """Run a pandera schema lazily and translate its failure cases into issues."""
    try:
        sch.schema.validate(df, lazy=True, inplace=True)
        return
    except pa.errors.SchemaErrors as exc:
        fc = exc.failure_cases
    fc = fc.reset_index(drop=True)
    for (ctx, column, check, num), g in fc.groupby(
            [fc["schema_context"], fc["column"].fillna(""), fc["check"].astype(str),
             fc["check_number"].fillna(-1).astype(int)], sort=False, dropna=False):
        if check == "column_in_dataframe":
            for missing in g["failure_case"].astype(str):
                out.add(check="missing_column", table=table, column=missing, value=None,
                        expected=f"a column named '{missing}' (see the data contract for table {table})")
            continue
        rows = pd.to_numeric(g["index"], errors="coerce")
        have_rows = rows.notna()
        idx = rows[have_rows].astype("int64").to_numpy()
        if check == "not_nullable":
            out.add(check="missing_value", table=table, rows=idx, column=column, value="",
                    expected="a value (this column may not be empty)")
            continue
        metas = sch.meta.get(column, [])
        if 0 <= num < len(metas):
            meta = metas[num]
            values = _as_text(raw.loc[idx, column]) if column in raw.columns else g.loc[have_rows, "failure_case"].astype(str)
            if meta.check == "personal_value":
                values = pd.Series(NOT_SHOWN, index=values.index)
            elif meta.check == "code_form":  # not a code: free text typed in a code column, perhaps a name
                values = values.where(~values.str.contains(r"\s"), NOT_SHOWN)
            out.add(check=meta.check, table=table, rows=idx, column=column, value=values.to_numpy(),
                    expected=meta.expected)
        else:  # a pandera failure we did not foresee: keep its own words rather than hide it
            out.add(check="schema", table=table, rows=idx if len(idx) else None, column=column or None,
                    value=g.loc[have_rows, "failure_case"].astype(str).to_numpy() if len(idx) else None,
                    expected=f"to pass pandera check {check}")
