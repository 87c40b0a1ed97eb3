"""The two tables researchers expect beside the evidence: a regression table and a balance table.

* :func:`regression_table` — models side by side in the esttab / modelsummary style: one column
  per model, the estimate of each term with its standard error in parentheses underneath (and,
  optionally, significance stars), then the number of observations, of clusters, the fixed
  effects absorbed (``Yes``/``No`` rows) and the covariance type. Numbers are read from the
  results objects (``params``, ``std_errors``, ``pvalues``, ``info``); nothing is re-estimated.
* :func:`balance_table` — the iebaltab-style baseline balance of two groups of schools (by default
  schools covered by a trained counselor in the last year against schools not yet covered),
  measured in the baseline year: for each characteristic the N, mean and standard deviation of
  each group, the difference of means with its standard error and the p-value of the t test of
  no difference (OLS of the characteristic on the group dummy, as iebaltab does by default),
  and the normalised difference (difference / sqrt of the mean of the two variances).

Both return a :class:`ResearchTable`: ``to_frame()`` (strings, ready to print or save),
``data`` (the numbers), a text ``__str__`` and an HTML ``_repr_html_`` for JupyterLab, in
Vietnamese or English (``evaluation.i18n`` formats every number).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import i18n

__all__ = ["ResearchTable", "regression_table", "balance_table", "FE_OF_ESTIMATOR"]

#: Fixed effects absorbed by each estimator of ``evaluation.effects`` (unit, time).
FE_OF_ESTIMATOR: dict[str, tuple[str, ...]] = {"twfe": ("school", "year"), "twfe_logit": ("school", "year"),
                                              "event_study": ("school", "year"), "dose": ("school", "year"),
                                              "heterogeneity": ("school", "year")}
_FE_LABEL = {"school": ("Hiệu ứng cố định trường", "School fixed effects"),
             "year": ("Hiệu ứng cố định năm", "Year fixed effects"),
             "commune": ("Hiệu ứng cố định xã", "Commune fixed effects")}
_ROW = {"n_obs": ("Số quan sát (N)", "Observations"), "n_clusters": ("Số cụm (trường)", "Clusters (schools)"),
        "cov_type": ("Sai số chuẩn", "Standard errors"), "term": ("", ""),
        "group": ("Nhóm", "Group"), "variable": ("Đặc điểm", "Characteristic"),
        "n": ("N", "N"), "mean_sd": ("Trung bình (độ lệch chuẩn)", "Mean (SD)"),
        "diff": ("Chênh lệch", "Difference"), "p": ("Giá trị p", "p-value"),
        "normdiff": ("Chênh lệch chuẩn hóa", "Normalised difference")}


def _t(key: str, lang: str) -> str:
    vi, en = _ROW[key]
    return vi if lang == "vi" else en


@dataclass(frozen=True)
class ResearchTable:
    """A formatted research table: ``to_frame()`` strings, ``data`` numbers, ``notes``."""

    title: str
    frame: pd.DataFrame
    data: pd.DataFrame
    notes: tuple[str, ...] = field(default_factory=tuple)

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def __str__(self) -> str:
        body = self.frame.to_string()
        return "\n".join([self.title, body, *self.notes])

    def _repr_html_(self) -> str:
        html = self.frame.to_html(escape=True, border=0, classes="research-table")
        notes = "".join(f"<p><small>{n}</small></p>" for n in self.notes)
        return f"<div><strong>{self.title}</strong>{html}{notes}</div>"


# --------------------------------------------------------------------------- regression table
def _stars(p: float) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.1 else ""


def regression_table(models: Mapping[str, Any] | Sequence[Any], *, terms: Sequence[str] | None = None,
                     labels: Mapping[str, str] | None = None, pp: bool = True, digits: int = 2,
                     stars: bool = False, fixed_effects: Mapping[str, Sequence[str]] | None = None,
                     lang: str = "en") -> ResearchTable:
    """Models side by side: estimate, (SE), N, clusters, fixed-effect rows, covariance type.

    ``models``: results objects by column name (or a list, named "(1)", "(2)", …), each with
    ``params``, ``std_errors``, ``pvalues`` and ``info`` (``n_obs``, ``n_clusters``).
    ``terms``: the terms to show, in order (default: every term of every model); ``labels``
    renames them. ``pp``: effects estimated on a rate (fraction) shown in percentage points
    (x 100). ``fixed_effects``: the fixed effects each model absorbed, by column name (default:
    read from the estimator's name, :data:`FE_OF_ESTIMATOR`). ``stars``: * p < 0.1, ** p < 0.05,
    *** p < 0.01 (off by default: the intervals say more).
    """
    i18n.check_lang(lang)
    if not isinstance(models, Mapping):
        models = {f"({k})": m for k, m in enumerate(models, start=1)}
    if not models:
        raise ValueError("regression_table: no models")
    scale = 100.0 if pp else 1.0
    all_terms: list[str] = []
    for m in models.values():
        all_terms += [t for t in m.params.index if t not in all_terms]
    shown = list(terms) if terms is not None else all_terms
    fe_given = dict(fixed_effects or {})
    fe_kinds: list[str] = []
    fe_by_model: dict[str, tuple[str, ...]] = {}
    for name, m in models.items():
        est = str(getattr(m, "estimator", "") or (m.info.get("estimator", "") if hasattr(m, "info") else ""))
        fe = tuple(fe_given.get(name, FE_OF_ESTIMATOR.get(est, ())))
        fe_by_model[name] = fe
        fe_kinds += [f for f in fe if f not in fe_kinds]
    rows: list[tuple[str, list[str]]] = []
    data_rows = []
    for term in shown:
        est_row, se_row = [], []
        for name, m in models.items():
            if term in m.params.index:
                b, se = float(m.params[term]) * scale, float(m.std_errors[term]) * scale
                p = float(m.pvalues[term]) if hasattr(m, "pvalues") else np.nan
                est_row.append(i18n.num(b, lang, digits) + (_stars(p) if stars else ""))
                se_row.append(f"({i18n.num(se, lang, digits)})")
                data_rows.append({"model": name, "term": term, "estimate": b, "std_error": se, "p_value": p})
            else:
                est_row.append("")
                se_row.append("")
        label = (labels or {}).get(term, term)
        rows += [(label, est_row), (label + " ", se_row)]
    info = {name: (dict(m.info) if hasattr(m, "info") else {}) for name, m in models.items()}
    rows.append((_t("n_obs", lang), [i18n.integer(info[n].get("n_obs"), lang) for n in models]))
    rows.append((_t("n_clusters", lang), [i18n.integer(info[n].get("n_clusters"), lang) for n in models]))
    for f in fe_kinds:
        vi, en = _FE_LABEL.get(f, (f"Hiệu ứng cố định {f}", f"{f} fixed effects"))
        rows.append((vi if lang == "vi" else en,
                     [i18n.text("yes" if f in fe_by_model[n] else "no", lang) for n in models]))
    rows.append((_t("cov_type", lang), [i18n.translate(getattr(m, "cov_type", "") or "–", lang)
                                        for m in models.values()]))
    frame = pd.DataFrame([r for _, r in rows], index=[lbl.rstrip() if k % 2 == 0 or k >= 2 * len(shown) else ""
                                                      for k, (lbl, _) in enumerate(rows)], columns=list(models))
    notes = [("Sai số chuẩn trong ngoặc đơn" if lang == "vi" else "Standard errors in parentheses")
             + ((" (điểm %)." if lang == "vi" else " (percentage points).") if pp else ".")]
    if stars:
        notes.append("* p < 0,1; ** p < 0,05; *** p < 0,01." if lang == "vi" else "* p < 0.1; ** p < 0.05; *** p < 0.01.")
    title = "Bảng hồi quy" if lang == "vi" else "Regression table"
    return ResearchTable(title, frame, pd.DataFrame(data_rows), tuple(notes))


# --------------------------------------------------------------------------- balance table
def balance_table(schools: pd.DataFrame, *, group: str, variables: Sequence[str],
                  group_labels: tuple[str, str] | None = None, labels: Mapping[str, str] | None = None,
                  lang: str = "en", digits: int = 2) -> ResearchTable:
    """iebaltab-style balance of two groups of units, one row per characteristic.

    ``schools``: one row per unit (e.g. the baseline year of the school-year panel, see
    :func:`baseline_balance`); ``group``: a boolean (or 0/1) column, True for the first group.
    For each of ``variables``: N, mean and SD of each group, the difference of means (first
    minus second), its standard error and p-value from OLS of the variable on the group dummy
    (pooled variance, as iebaltab's default), and the normalised difference.
    """
    i18n.check_lang(lang)
    missing = [c for c in [group, *variables] if c not in schools.columns]
    if missing:
        raise ValueError(f"balance_table: the frame lacks column(s) {', '.join(missing)}")
    g = schools[group].astype(bool)
    names = group_labels or (("Nhóm 1", "Nhóm 2") if lang == "vi" else ("Group 1", "Group 2"))
    out_rows, data = [], []
    for v in variables:
        x = pd.to_numeric(schools[v], errors="coerce").astype(float)
        a, b = x[g].dropna().to_numpy(), x[~g].dropna().to_numpy()
        if len(a) < 2 or len(b) < 2:
            raise ValueError(f"balance_table: variable {v!r} has fewer than two units in a group")
        diff = a.mean() - b.mean()
        n1, n2 = len(a), len(b)
        pooled = ((n1 - 1) * a.var(ddof=1) + (n2 - 1) * b.var(ddof=1)) / (n1 + n2 - 2)
        se = float(np.sqrt(pooled * (1 / n1 + 1 / n2)))
        tstat = diff / se if se > 0 else np.nan
        p = float(2 * stats.t.sf(abs(tstat), n1 + n2 - 2)) if np.isfinite(tstat) else np.nan
        norm = diff / np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2) if (a.var(ddof=1) + b.var(ddof=1)) > 0 else np.nan
        data.append({"variable": v, "n_1": n1, "mean_1": a.mean(), "sd_1": a.std(ddof=1), "n_2": n2,
                     "mean_2": b.mean(), "sd_2": b.std(ddof=1), "difference": diff, "std_error": se, "p_value": p,
                     "normalised_difference": norm})
        f = lambda z: i18n.num(z, lang, digits)  # noqa: E731
        out_rows.append([i18n.integer(n1, lang), f"{f(a.mean())} ({f(a.std(ddof=1))})", i18n.integer(n2, lang),
                         f"{f(b.mean())} ({f(b.std(ddof=1))})", f"{f(diff)} ({f(se)})", i18n.pvalue(p, lang),
                         f(norm)])
    cols = [f"{names[0]}: N", f"{names[0]}: {_t('mean_sd', lang)}", f"{names[1]}: N",
            f"{names[1]}: {_t('mean_sd', lang)}", f"{_t('diff', lang)} (SE)", _t("p", lang), _t("normdiff", lang)]
    if lang == "vi":
        cols[4] = f"{_t('diff', lang)} (sai số chuẩn)"
    frame = pd.DataFrame(out_rows, index=[(labels or {}).get(v, v) for v in variables], columns=cols)
    notes = ("Chênh lệch = nhóm 1 trừ nhóm 2; giá trị p của kiểm định t (hồi quy OLS lên biến nhóm, phương sai "
             "gộp); chênh lệch chuẩn hóa = chênh lệch / căn bậc hai trung bình hai phương sai." if lang == "vi" else
             "Difference = group 1 minus group 2; p-value of the t test (OLS on the group dummy, pooled variance); "
             "normalised difference = difference / square root of the mean of the two variances.",)
    title = "Bảng cân bằng ban đầu" if lang == "vi" else "Baseline balance"
    return ResearchTable(title, frame, pd.DataFrame(data), notes)


_BALANCE_VARS = ("graduates", "rate", "khmer_share", "disadvantaged", "ethnic_boarding", "counselors")


def baseline_balance(panel: pd.DataFrame, *, level: str | None = None, baseline_year: int | None = None,
                     by_year: int | None = None, variables: Sequence[str] | None = None,
                     lang: str = "en") -> ResearchTable:
    """Schools covered by a trained counselor in ``by_year`` (default: the panel's last year)
    against schools not yet covered then, compared on their characteristics in
    ``baseline_year`` (default: the first year), from the school-year analysis panel
    (``evaluation.panel.school_year_panel``). Schools already covered at baseline are left out
    (their baseline is not pre-treatment)."""
    df = panel if level is None else panel[panel["level"] == level]
    if df.empty:
        raise ValueError(f"baseline_balance: no rows of level {level}")
    base = baseline_year if baseline_year is not None else int(df["year"].min())
    last = by_year if by_year is not None else int(df["year"].max())
    at_base = df[df["year"] == base].drop_duplicates("school_id").set_index("school_id")
    covered_then = df[df["year"] == last].set_index("school_id")["covered"].reindex(at_base.index)
    covered_base = at_base["covered"].fillna(False).astype(bool)
    keep = ~covered_base & covered_then.notna()
    frame = at_base.loc[keep].assign(_covered=covered_then[keep].astype(bool))
    vars_ = [v for v in (variables or _BALANCE_VARS) if v in frame.columns]
    labels = {v: i18n.column_label(v, lang) for v in vars_}
    names = ((f"Có GV tư vấn năm {last}", f"Chưa có GV tư vấn năm {last}") if lang == "vi" else
             (f"Covered in {last}", f"Not yet covered in {last}"))
    tbl = balance_table(frame.reset_index(), group="_covered", variables=vars_, group_labels=names, labels=labels,
                        lang=lang)
    note = (f"Đặc điểm đo năm {base}; không tính các trường đã có GV tư vấn năm {base}." if lang == "vi" else
            f"Characteristics measured in {base}; schools already covered in {base} are left out.")
    return ResearchTable(tbl.title + (f" ({level})" if level else ""), tbl.frame, tbl.data, tbl.notes + (note,))
