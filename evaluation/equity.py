"""Equity gaps in vocational uptake: by ethnicity, sex, poverty and disadvantaged area.

A gap is the difference in the vocational uptake rate between a group and the reference
group, in percentage points (group minus reference).

raw gap (``adjusted=False``)
    Weighted least squares of the cell rate on a constant and one dummy per group (the
    reference left out), weights = the cell's graduates. On cells this is exactly the linear
    probability model on the students, so the coefficient is the difference of the pooled
    rates, rate(group) - rate(reference).
adjusted gap (``adjusted=True``)
    The same regression with **school x year** fixed effects absorbed (one effect per school-year,
    a weighted within transformation, ``evaluation.effects.fixed_effects.Absorber``): the gap between
    students of the two groups **in the same school and year**, averaged over school-years with
    the regression's weights (school-years with only one of the groups carry no weight). An
    additive school + year model would instead also compare students across years of a school and
    across schools in a year, and let a school's year-specific shock leak into the gap when the
    group mix changes over time; the interacted effects cost nothing here (they are nested in the
    school clusters, so they add no term to the small-sample factor). A dimension that is constant within every
    school (``disadvantaged``: a school stands in one commune) is absorbed by the school
    effects and has only a raw gap; asking for its adjusted gap is an error that says so.
Inference
    Cluster-robust (CRV1) by school. Because a weighted regression on cells reproduces the
    student-level regression, its clustered scores are the students' scores summed; the
    small-sample factor G/(G-1) (N-1)/(N-K) therefore counts N in students (graduates), and K
    as ``evaluation.effects.fixed_effects.small_sample_factor`` does (fixest's default with absorbed
    effects). Intervals and p-values use the t distribution with G - 1 degrees of freedom.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .effects.fixed_effects import Absorber, small_sample_factor
from .results import EstimateResults

#: dimension -> (column of the cells, reference group, label of true / false for a bool column)
DIMENSIONS: dict[str, tuple[str, str, tuple[str, str] | None]] = {
    "ethnicity": ("ethnicity", "kinh", None),
    "sex": ("sex", "M", None),
    "poverty": ("poor_household", "not_poor", ("poor", "not_poor")),
    "disadvantaged": ("disadvantaged", "not_disadvantaged", ("disadvantaged", "not_disadvantaged")),
}
#: groups never compared (a missing value is not a group)
EXCLUDED_GROUPS: tuple[str, ...] = ("unknown",)
#: below this many clusters the results carry a warning note on cluster-robust inference
FEW_CLUSTERS = 20
EQUITY_COLUMNS: tuple[str, ...] = ("level", "dimension", "group", "reference", "gap_pp", "adjusted", "std_error",
                                   "ci_low", "ci_high", "p_value", "n", "n_cells", "n_clusters", "rate_group",
                                   "rate_reference")


def _labels(cells: pd.DataFrame, dimension: str) -> pd.Series:
    if dimension not in DIMENSIONS:
        raise ValueError(f"equity_gaps: dimension {dimension!r}: expected one of {', '.join(DIMENSIONS)}")
    col, _, bool_labels = DIMENSIONS[dimension]
    if col not in cells.columns:
        hint = " (it comes from the students microdata)" if dimension == "poverty" else ""
        raise ValueError(f"equity_gaps: the cells have no column {col} for dimension {dimension!r}{hint}")
    v = cells[col]
    if bool_labels is not None:
        return pd.Series(np.where(v.astype(bool).to_numpy(), bool_labels[0], bool_labels[1]), index=cells.index)
    return v.astype(str)


def gap_results(cells: pd.DataFrame, *, dimension: str, reference: str | None = None,
                groups: Sequence[str] | None = None, adjusted: bool = True, cluster: str = "school_id",
                unit: str = "school_id", time: str = "year", level: float = 0.95) -> EstimateResults:
    """The gaps of one dimension as a read-only results object.

    ``params`` indexed by group, in outcome units (a difference of rates, fraction);
    ``to_frame(pp=True)`` gives percentage points. ``info``: dimension, reference, adjusted,
    n (graduates used), n_cells, n_clusters, rates of each group (``rate_<group>``).
    See the module docstring for the model; ``equity_gaps`` is the tidy entry point.
    """
    for c in ("graduates", "vocational", cluster, *( (unit, time) if adjusted else ())):
        if c not in cells.columns:
            raise ValueError(f"equity_gaps: the cells have no column {c}")
    lab = _labels(cells, dimension)
    ref = reference if reference is not None else DIMENSIONS[dimension][1]
    present = [g for g in pd.unique(lab) if g != ref]
    if groups is None:
        groups = sorted(g for g in present if g not in EXCLUDED_GROUPS)
    else:
        groups = [str(g) for g in groups]
        absent = [g for g in groups if g not in present]
        if absent:
            raise ValueError(f"equity_gaps: group(s) {', '.join(absent)} of {dimension!r} not in the cells "
                             f"(present: {', '.join(sorted(map(str, pd.unique(lab))))})")
    if not (lab == ref).any():
        raise ValueError(f"equity_gaps: reference group {ref!r} of {dimension!r} not in the cells")
    if not groups:
        raise ValueError(f"equity_gaps: no group of {dimension!r} to compare with {ref!r}")
    keep = lab.isin([ref, *groups]).to_numpy() & (cells["graduates"].to_numpy() > 0)
    d = cells.loc[keep]
    lab = lab[keep]
    n = d["graduates"].to_numpy(dtype="float64")
    y = d["vocational"].to_numpy(dtype="float64") / n
    D = np.column_stack([(lab == g).to_numpy(dtype="float64") for g in groups])
    cl = pd.factorize(d[cluster])[0]
    G = int(cl.max()) + 1
    if G < 2:
        raise ValueError(f"equity_gaps: column {cluster} has a single cluster; cluster-robust errors need two or more")
    if adjusted:
        school = pd.factorize(d[unit])[0].astype(np.int64)
        # school x year effects: the gap within the same school and year (see the module docstring)
        fe = [pd.factorize(pd.MultiIndex.from_arrays([d[unit].to_numpy(), d[time].to_numpy()]))[0].astype(np.int64)]
        varies = pd.DataFrame({"u": school, "g": lab.to_numpy()}).groupby("u")["g"].nunique().max() > 1
        if not varies:
            raise ValueError(f"equity_gaps: {dimension!r} is constant within every {unit}: its adjusted gap is "
                             f"absorbed by the {unit} effects; report the raw gap (adjusted=False) only")
        Z = Absorber(fe, n).demean(np.column_stack([y, D]))
        yt, X = Z[:, 0], Z[:, 1:]
        names = list(groups)
        k = X.shape[1]
    else:
        fe = []
        yt = y
        X = np.column_stack([np.ones_like(y), D])
        names = ["(reference)", *groups]
        k = X.shape[1]
    XtWX = X.T @ (X * n[:, None])
    bread = np.linalg.pinv(XtWX)
    beta = bread @ (X.T @ (n * yt))
    e = yt - X @ beta
    factor, K = small_sample_factor(n_obs=int(n.sum()), k=k, fe_codes=fe, cluster_codes=cl)
    scores = X * (n * e)[:, None]
    sg = np.zeros((G, k))
    np.add.at(sg, cl, scores)
    V = factor * bread @ (sg.T @ sg) @ bread
    b = pd.Series(beta, index=names)
    se = pd.Series(np.sqrt(np.diag(V)), index=names)
    rates = {f"rate_{g}": float(d.loc[(lab == g).to_numpy(), "vocational"].sum() / n[(lab == g).to_numpy()].sum())
             for g in [ref, *groups]}
    lv = None
    if "level" in d.columns and d["level"].nunique() == 1:
        lv = str(d["level"].iloc[0])
    info = {"level": lv, "dimension": dimension, "reference": ref, "adjusted": bool(adjusted), "n": int(n.sum()),
            "n_cells": int(len(d)), "n_clusters": G, "ssc_factor": factor, "ssc_k": K, **rates}
    how = ("school x year effects absorbed" if adjusted else "difference of pooled rates")
    return EstimateResults(
        estimator="equity_gap_adjusted" if adjusted else "equity_gap_raw",
        estimand=f"gap in vocational uptake, {dimension}: group minus {ref} ({how})",
        params=b[list(groups)], std_errors=se[list(groups)], df=G - 1, cov_type=f"cluster (CRV1) by {cluster}",
        info=info, notes=(f"graduate-weighted linear probability model on cells; t({G - 1}) intervals",
                          *((f"only {G} clusters: cluster-robust intervals can be too narrow; read them with care",)
                            if G < FEW_CLUSTERS else ())),
        model={"beta": b, "vcov": pd.DataFrame(V, index=names, columns=names)})


def equity_gaps(cells: pd.DataFrame, *, dimension: str, reference: str | None = None,
                groups: Sequence[str] | None = None, adjusted: bool = True, cluster: str = "school_id",
                level: float = 0.95) -> pd.DataFrame:
    """Tidy gaps of one dimension: the evidence table ``equity_gaps`` (columns ``EQUITY_COLUMNS``).

    ``cells``: ``evaluation.panel.student_cells`` of one level (or any frame of counts with
    graduates, vocational, school_id, year and the dimension's column). ``dimension``:
    ``ethnicity`` (default reference ``kinh``; groups every other ethnicity except
    ``unknown``), ``sex`` (reference ``M``), ``poverty`` (``poor`` vs ``not_poor``, needs
    poor_household from the students microdata), ``disadvantaged`` (``disadvantaged`` vs
    ``not_disadvantaged``; raw only). gap_pp, std_error, ci_low, ci_high in percentage points;
    n = graduates in the compared groups; rate_group, rate_reference the pooled rates [fraction].
    """
    res = gap_results(cells, dimension=dimension, reference=reference, groups=groups, adjusted=adjusted,
                      cluster=cluster, level=level)
    tidy = res.to_frame(pp=True, level=level)
    info = res.info
    out = pd.DataFrame({
        "level": info["level"], "dimension": dimension, "group": tidy["term"].to_numpy(),
        "reference": info["reference"], "gap_pp": tidy["estimate_pp"].to_numpy(), "adjusted": bool(adjusted),
        "std_error": tidy["std_error"].to_numpy(), "ci_low": tidy["ci_low"].to_numpy(),
        "ci_high": tidy["ci_high"].to_numpy(), "p_value": tidy["p_value"].to_numpy(), "n": info["n"],
        "n_cells": info["n_cells"], "n_clusters": info["n_clusters"],
        "rate_group": [info[f"rate_{g}"] for g in tidy["term"]], "rate_reference": info[f"rate_{info['reference']}"],
    })
    return out.loc[:, list(EQUITY_COLUMNS)]


def equity_table(cells: pd.DataFrame, *, dimensions: Sequence[str] = ("ethnicity", "sex", "poverty", "disadvantaged"),
                 level: float = 0.95) -> tuple[pd.DataFrame, list[str]]:
    """Raw and adjusted gaps of every dimension the cells carry, stacked, and the notes.

    A dimension whose column is absent is skipped; ``disadvantaged`` gets its raw gap only
    (constant within school). Returns (frame with ``EQUITY_COLUMNS``, list of notes saying what
    was skipped and why) for the evidence table's notes.
    """
    frames, notes = [], []
    for dim in dimensions:
        col = DIMENSIONS[dim][0] if dim in DIMENSIONS else dim
        if col not in cells.columns:
            notes.append(f"{dim}: not in the data (column {col} absent); no gap computed")
            continue
        for adj in (False, True):
            if adj and dim == "disadvantaged":
                notes.append("disadvantaged: raw gap only; a school's area is constant, so school effects absorb it")
                continue
            try:
                frames.append(equity_gaps(cells, dimension=dim, adjusted=adj, level=level))
            except ValueError as exc:
                notes.append(f"{dim} ({'adjusted' if adj else 'raw'}): {exc}")
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype="float64") for c in EQUITY_COLUMNS}), notes
    return pd.concat(frames, ignore_index=True), notes
