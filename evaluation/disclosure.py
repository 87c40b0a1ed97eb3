"""Statistical disclosure control of published tables: primary and complementary suppression.

Why: a table that hides a small cell but publishes the total of its row (in the same table or
in another table of the bundle, e.g. the district total of ``uptake_by_year`` beside the
communes of ``uptake_by_commune``) gives the hidden cell away by subtraction. Statistical
offices therefore follow primary suppression with *complementary* (secondary) suppression
(NCES Statistical Standard 4-2 "Maintaining confidentiality"; ONS "Disclosure control policy for
tables"; Hundepool et al., *Statistical Disclosure Control*, 2012, ch. 4 "cell suppression").

The rule applied here, for one table of cells (one row per cell, its size ``size_col`` =
students, its outcome counts ``value_cols``) and the **groups** of cells whose totals are
published somewhere in the bundle (``partitions``: each a list of key columns; the cells sharing
those keys add up to a published total):

1. **Primary**: a cell with 0 < size < ``min_cell`` is suppressed.
2. **Complementary**: in a group where exactly one cell is suppressed, the published total minus
   the published cells gives it back: the next-smallest cell of the group (fewest students,
   size > 0; ties by the table's order) is suppressed too.
3. **Audit**: the pattern is attacked the way a reader would attack it: for every suppressed
   cell and every outcome count, the smallest and largest value consistent with all published
   totals, all published cells and 0 <= count <= size (the sizes stay published) are computed by
   linear programming. A cell whose range holds one integer only is recoverable; the
   next-smallest unsuppressed cell of a group containing it is suppressed.
4. Steps 2-3 repeat until no suppressed cell is recoverable, or a recoverable cell has no cell
   left to hide beside it: then every cell with students in all its groups is already
   suppressed, and what is known about it follows from the published total alone (a total of
   0, or a total equal to all students), not from the pattern; :func:`protect` reports such
   cells in ``implied_by_totals``.

A suppressed cell keeps its size (the number of students, as the output contract asks) and
loses every outcome count, rate and flag computed from its students.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["Protection", "protect", "recoverable_cells", "primary_mask", "blank_suppressed"]


@dataclass(frozen=True)
class Protection:
    """The outcome of :func:`protect`: ``suppressed`` (bool per row, aligned with the frame),
    ``primary`` (the cells below ``min_cell``), ``complementary`` (added to protect them),
    ``implied_by_totals`` (suppressed cells whose value the published totals alone fix)."""

    suppressed: pd.Series
    primary: pd.Series
    complementary: pd.Series
    implied_by_totals: tuple = field(default=())
    rounds: int = 0


def primary_mask(size: Iterable[float], min_cell: int) -> np.ndarray:
    """Cells computed from fewer than ``min_cell`` students but at least one (a missing size
    counts as small)."""
    n = pd.to_numeric(pd.Series(list(size) if not isinstance(size, pd.Series) else size),
                      errors="coerce").astype("float64").to_numpy()
    return ~(n >= min_cell) & ~(n == 0)


def _groups(frame: pd.DataFrame, partitions: Sequence[Sequence[str]]) -> list[np.ndarray]:
    out: list[np.ndarray] = []
    for keys in partitions:
        keys = [k for k in keys]
        missing = [k for k in keys if k not in frame.columns]
        if missing:
            raise ValueError(f"disclosure: partition {keys}: the table has no column(s) {', '.join(missing)}")
        if not keys:
            out.append(np.arange(len(frame)))
            continue
        codes = frame[keys].astype(str).agg("\x1f".join, axis=1) if len(keys) > 1 else frame[keys[0]].astype(str)
        for _, idx in pd.Series(np.arange(len(frame))).groupby(codes.to_numpy(), sort=False):
            if len(idx) > 1:
                out.append(idx.to_numpy())
    return out


def recoverable_cells(size: np.ndarray, values: np.ndarray, groups: Sequence[np.ndarray],
                      suppressed: np.ndarray) -> list[tuple[int, int, float, float]]:
    """The suppressed cells an attacker can recompute: ``(cell, value column, low, high)``.

    ``size`` (n cells), ``values`` (n cells x k outcome counts, the true values), ``groups``
    (index arrays of cells whose totals are published), ``suppressed`` (bool). For each
    connected set of suppressed cells, each outcome's range under the published totals and
    0 <= value <= size is found by linear programming; a range holding a single integer is a
    recovered cell.
    """
    from scipy.optimize import linprog
    from scipy.sparse.csgraph import connected_components
    from scipy.sparse import coo_matrix

    sup = np.flatnonzero(suppressed)
    if len(sup) == 0:
        return []
    pos = {c: i for i, c in enumerate(sup)}
    rows: list[list[int]] = []  # each group restricted to suppressed cells (as positions)
    gidx: list[np.ndarray] = []
    for g in groups:
        members = [pos[c] for c in g if c in pos]
        if members:
            rows.append(members)
            gidx.append(g)
    # connected components of suppressed cells linked by a common group
    ii, jj = [], []
    for m in rows:
        for a in m[1:]:
            ii.append(m[0])
            jj.append(a)
    graph = coo_matrix((np.ones(len(ii)), (ii, jj)), shape=(len(sup), len(sup)))
    _, comp = connected_components(graph, directed=False)
    hits: list[tuple[int, int, float, float]] = []
    vals = np.asarray(values, dtype="float64").reshape(len(size), -1)
    for k in range(vals.shape[1]):
        for cid in np.unique(comp):
            cells = np.flatnonzero(comp == cid)
            local = {p: i for i, p in enumerate(cells)}
            eq_rows = [r for r in rows if local.get(r[0]) is not None]
            ub = np.array([size[sup[p]] for p in cells], dtype="float64")
            if not eq_rows:
                for p in cells:
                    if ub[local[p]] == 0:
                        hits.append((int(sup[p]), k, 0.0, 0.0))
                continue
            a = np.zeros((len(eq_rows), len(cells)))
            b = np.zeros(len(eq_rows))
            for r_i, r in enumerate(eq_rows):
                for p in r:
                    a[r_i, local[p]] = 1.0
                b[r_i] = sum(vals[sup[p], k] for p in r)
            bounds = list(zip(np.zeros(len(cells)), ub))
            for p in cells:
                c = np.zeros(len(cells))
                c[local[p]] = 1.0
                lo = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
                hi = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
                if not (lo.success and hi.success):  # inconsistent inputs: treat as exposed
                    hits.append((int(sup[p]), k, math.nan, math.nan))
                    continue
                low, high = lo.fun, -hi.fun
                if math.floor(high + 1e-7) - math.ceil(low - 1e-7) < 1:
                    hits.append((int(sup[p]), k, float(low), float(high)))
    return hits


def protect(frame: pd.DataFrame, *, min_cell: int, partitions: Sequence[Sequence[str]],
            size_col: str = "graduates", value_cols: Sequence[str] = ("vocational",),
            suppressed: Iterable[bool] | None = None, max_rounds: int = 1000) -> Protection:
    """The suppression pattern of one table: primary, then complementary until the audit
    recovers no cell (the rule in the module docstring).

    ``frame`` holds the **true** values (before anything is blanked): ``size_col`` and the
    outcome counts ``value_cols`` (a missing value counts as 0). ``partitions``: lists of key
    columns; the cells sharing them add up to a total the bundle publishes (``[["level",
    "year"]]`` for communes against ``uptake_by_year``). ``suppressed``: cells to suppress
    besides the primary ones.
    """
    if min_cell < 1:
        raise ValueError(f"disclosure: min_cell {min_cell!r}: expected an integer >= 1")
    if size_col not in frame.columns:
        raise ValueError(f"disclosure: the table has no column {size_col}")
    n = len(frame)
    size = pd.to_numeric(frame[size_col], errors="coerce").fillna(0).astype("float64").to_numpy()
    vcols = [c for c in value_cols if c in frame.columns]
    values = (np.column_stack([pd.to_numeric(frame[c], errors="coerce").fillna(0).astype("float64").to_numpy()
                               for c in vcols]) if vcols else np.zeros((n, 0)))
    prim = primary_mask(frame[size_col], min_cell)
    sup = prim.copy()
    if suppressed is not None:
        sup |= np.asarray(list(suppressed), dtype=bool)
    groups = _groups(frame, partitions)
    member_of: dict[int, list[int]] = {}
    for gi, g in enumerate(groups):
        for c in g:
            member_of.setdefault(int(c), []).append(gi)

    def next_smallest(gis: Iterable[int]) -> int | None:
        best: tuple[float, int] | None = None
        for gi in gis:
            for c in groups[gi]:
                if not sup[c] and size[c] > 0 and (best is None or (size[c], c) < best):
                    best = (size[c], int(c))
        return None if best is None else best[1]

    implied: set[int] = set()
    rounds = 0
    while rounds < max_rounds:
        rounds += 1
        changed = False
        # rule 2: a group with exactly one suppressed cell (with students)
        for gi, g in enumerate(groups):
            s = [c for c in g if sup[c] and size[c] > 0]
            if len(s) == 1:
                c = next_smallest([gi])
                if c is not None:
                    sup[c] = True
                    changed = True
        if changed:
            continue
        # rule 3: the audit
        implied = set()
        for cell, _k, _lo, _hi in recoverable_cells(size, values, groups, sup):
            if size[cell] == 0:
                continue
            c = next_smallest(member_of.get(cell, []))
            if c is None:
                implied.add(cell)
                continue
            sup[c] = True
            changed = True
            break  # one cell at a time: the smallest addition that might fix it
        if not changed:
            break
    index = frame.index
    return Protection(suppressed=pd.Series(sup, index=index, name="suppressed"),
                      primary=pd.Series(prim, index=index, name="primary"),
                      complementary=pd.Series(sup & ~prim, index=index, name="complementary"),
                      implied_by_totals=tuple(sorted(implied)), rounds=rounds)


def blank_suppressed(frame: pd.DataFrame, suppressed: Iterable[bool], columns: Sequence[str]) -> pd.DataFrame:
    """A copy with ``columns`` (those present) left empty in suppressed rows and the boolean
    column ``suppressed``; integer columns become nullable ``Int64``, booleans ``boolean``."""
    out = frame.copy()
    sup = np.asarray(list(suppressed), dtype=bool)
    for c in columns:
        if c not in out.columns:
            continue
        col = out[c]
        if pd.api.types.is_bool_dtype(col) or isinstance(col.dtype, pd.BooleanDtype):
            col = col.astype("boolean")
        elif pd.api.types.is_integer_dtype(col):
            col = col.astype("Int64")
        elif not pd.api.types.is_float_dtype(col):
            col = col.astype(object)
        col = col.copy()
        col[sup] = np.nan if pd.api.types.is_float_dtype(col) else pd.NA
        out[c] = col
    out["suppressed"] = sup
    return out
