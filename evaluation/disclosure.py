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
    ``aggregates`` (one row per pooled total of ``aggregates``: its keys, ``graduates``,
    ``suppressed``), ``implied_by_totals`` (row positions of suppressed cells whose value the
    published totals alone fix), ``rounds`` of the audit."""

    suppressed: pd.Series
    primary: pd.Series
    complementary: pd.Series
    aggregates: pd.DataFrame = field(default_factory=pd.DataFrame)
    implied_by_totals: tuple = field(default=())
    rounds: int = 0

    def suppressed_aggregate(self, keys: Sequence[str], values: Sequence) -> bool:
        """Is the pooled total with ``keys`` = ``values`` suppressed (absent = not published)?"""
        a = self.aggregates
        if a.empty:
            return False
        a = a[a["aggregate"] == ",".join(keys)]
        m = np.ones(len(a), dtype=bool)
        for k, v in zip(keys, values):
            if k not in a.columns:
                return False
            m &= (a[k].astype(str) == str(v)).to_numpy()
        hit = a.loc[m, "suppressed"]
        return bool(hit.any()) if len(hit) else True


def primary_mask(size: Iterable[float], min_cell: int) -> np.ndarray:
    """Cells computed from fewer than ``min_cell`` students but at least one (a missing size
    counts as small)."""
    n = pd.to_numeric(pd.Series(list(size) if not isinstance(size, pd.Series) else size),
                      errors="coerce").astype("float64").to_numpy()
    return ~(n >= min_cell) & ~(n == 0)


def _group_frame(frame: pd.DataFrame, keys: Sequence[str]) -> list[tuple[tuple, np.ndarray]]:
    keys = list(keys)
    missing = [k for k in keys if k not in frame.columns]
    if missing:
        raise ValueError(f"disclosure: partition {keys}: the table has no column(s) {', '.join(missing)}")
    if not keys:
        return [((), np.arange(len(frame)))]
    out = []
    for key, idx in pd.Series(np.arange(len(frame))).groupby(
            [frame[k].astype(str).to_numpy() for k in keys], sort=True):
        out.append((key if isinstance(key, tuple) else (key,), idx.to_numpy()))
    return out


def _groups(frame: pd.DataFrame, partitions: Sequence[Sequence[str]]) -> list[np.ndarray]:
    return [idx for keys in partitions for _, idx in _group_frame(frame, keys) if len(idx) > 1]


def recoverable_cells(size: np.ndarray, values: np.ndarray, groups: Sequence[np.ndarray],
                      suppressed: np.ndarray, secrets: Sequence[np.ndarray] | None = None,
                      cache: dict | None = None) -> list[tuple[int, int, float, float]]:
    """The hidden quantities an attacker can recompute: ``(secret, value column, low, high)``.

    ``size`` (n cells), ``values`` (n cells x k outcome counts, the true values), ``groups``
    (index arrays of cells whose totals are published), ``suppressed`` (bool). ``secrets``:
    index arrays of hidden sums (default: each suppressed cell alone; ``secret`` in the result
    is the position in this list, or the cell itself by default). ``cache``: a dict kept between
    calls on the same table (a component whose cells and totals did not change is not solved
    again). Each secret's range under
    the published totals, the published cells and 0 <= value <= size is found by linear
    programming; a range holding a single integer is a recovered secret.
    """
    from scipy.optimize import linprog
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    sup = np.flatnonzero(suppressed)
    default = secrets is None
    if default:
        secrets = [np.array([c]) for c in sup]
    if not len(secrets):
        return []
    vals = np.asarray(values, dtype="float64").reshape(len(size), -1)
    pos = {int(c): i for i, c in enumerate(sup)}
    rows = [[pos[int(c)] for c in g if int(c) in pos] for g in groups]
    rows = [r for r in rows if r]
    # suppressed cells linked by a published total or by a secret form one component
    ii, jj = [], []
    for m in rows + [[pos[int(c)] for c in s if int(c) in pos] for s in secrets]:
        for a in m[1:]:
            ii.append(m[0])
            jj.append(a)
    n_sup = len(sup)
    comp = (connected_components(coo_matrix((np.ones(len(ii)), (ii, jj)), shape=(n_sup, n_sup)), directed=False)[1]
            if n_sup else np.zeros(0, dtype=int))
    hits: list[tuple[int, int, float, float]] = []
    for k in range(vals.shape[1]):
        systems: dict[int, tuple] = {}  # component -> (cells, local, A, b, bounds, true x, probe vertices)

        def system(cid: int):
            if cid in systems:
                return systems[cid]
            cells = np.flatnonzero(comp == cid)
            local = {int(p_): i for i, p_ in enumerate(cells)}
            eq_rows = [r for r in rows if r[0] in local]
            ub = np.array([size[sup[p_]] for p_ in cells], dtype="float64")
            x_true = np.array([vals[sup[p_], k] for p_ in cells])
            a = np.zeros((len(eq_rows), len(cells)))
            for r_i, r in enumerate(eq_rows):
                for p_ in r:
                    a[r_i, local[p_]] = 1.0
            b = a @ x_true
            bounds = list(zip(np.zeros(len(cells)), ub))
            probes = []
            if eq_rows:  # a few vertices far from the truth certify most cells at once
                rng = np.random.default_rng(len(cells))
                for _ in range(3):
                    res = linprog(rng.choice([-1.0, 1.0], size=len(cells)), A_eq=a, b_eq=b, bounds=bounds,
                                  method="highs")
                    if res.success:
                        probes.append(res.x)
            systems[cid] = (cells, local, eq_rows, a, b, bounds, ub, x_true, probes)
            return systems[cid]

        for si, secret in enumerate(secrets):
            label = int(secret[0]) if default else si
            hidden = [pos[int(c)] for c in secret if int(c) in pos]
            known = float(sum(vals[int(c), k] for c in secret if int(c) not in pos))
            if not hidden:  # every part published: the sum is in plain sight
                hits.append((label, k, known, known))
                continue
            cells, local, eq_rows, a, b, bounds, ub, x_true, probes = system(int(comp[hidden[0]]))
            c = np.zeros(len(cells))
            for h in hidden:
                c[local[h]] = 1.0
            truth = float(c @ x_true)
            key = (k, tuple(int(sup[p_]) for p_ in cells), tuple(int(sup[h]) for h in hidden),
                   tuple(tuple(int(sup[p_]) for p_ in r) for r in eq_rows))
            if cache is not None and key in cache:
                low, high = cache[key]
            elif not eq_rows:
                low, high = 0.0, float(c @ ub)
            elif any(abs(float(c @ v) - truth) >= 1 - 1e-7 for v in probes):
                low, high = -math.inf, math.inf  # two feasible values a unit apart: not recoverable
            else:
                hi = linprog(-c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
                if not hi.success:  # inconsistent inputs: count it as exposed
                    hits.append((label, k, math.nan, math.nan))
                    continue
                high = -hi.fun
                if high >= truth + 1 - 1e-7:
                    low = -math.inf
                else:
                    lo = linprog(c, A_eq=a, b_eq=b, bounds=bounds, method="highs")
                    if not lo.success:
                        hits.append((label, k, math.nan, math.nan))
                        continue
                    low = lo.fun
            if cache is not None:
                cache[key] = (low, high)
            if math.isfinite(low) and math.isfinite(high) and math.floor(high + 1e-7) - math.ceil(low - 1e-7) < 1:
                hits.append((label, k, known + low, known + high))
    return hits


def protect(frame: pd.DataFrame, *, min_cell: int, partitions: Sequence[Sequence[str]],
            size_col: str = "graduates", value_cols: Sequence[str] = ("vocational",),
            suppressed: Iterable[bool] | None = None, aggregates: Sequence[Sequence[str]] = (),
            small_by: Sequence[str] = (), max_rounds: int = 500) -> Protection:
    """The suppression pattern of one table: primary, then complementary until the audit
    recovers no hidden cell or hidden pooled total (the rule in the module docstring).

    ``frame`` holds the **true** values (before anything is blanked): ``size_col`` and the
    outcome counts ``value_cols`` (a missing value counts as 0). ``partitions``: lists of key
    columns; the cells sharing them add up to a total the bundle always publishes
    (``[["level", "year"]]`` for communes against ``uptake_by_year``). ``aggregates``: lists of
    key columns of pooled totals another table publishes unless they are small (``[["level",
    "group_var", "group"]]``: ``equity_gaps`` pools each group over the years); a pooled total
    of fewer than ``min_cell`` students is suppressed, and a pooled total that could be
    recomputed gets the next-smallest published pooled total of its family (same keys but the
    last) suppressed beside it. ``suppressed``: cells to suppress besides the primary ones.
    ``small_by``: further counts of people (``graduated`` beside ``enrolled``) under the same
    primary rule: a cell, or a pooled total (summed), with 1..min_cell-1 of them is small too.
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
    for c in small_by:
        prim |= primary_mask(frame[c], min_cell)
    sup = prim.copy()
    if suppressed is not None:
        sup |= np.asarray(list(suppressed), dtype=bool)
    # a total of fewer than min_cell students is itself suppressed where it is published
    groups = [g for g in _groups(frame, partitions) if not 0 < size[g].sum() < min_cell]
    # pooled totals: (keys, key values, family id, cells)
    aggs: list[tuple[list[str], tuple, tuple, np.ndarray]] = []
    for keys in aggregates:
        for key, idx in _group_frame(frame, keys):
            aggs.append((list(keys), key, (tuple(keys), key[:-1]), idx))
    agg_size = np.array([size[idx].sum() for *_, idx in aggs])
    agg_sup = (agg_size > 0) & (agg_size < min_cell)
    for c in small_by:
        counts = pd.to_numeric(frame[c], errors="coerce").to_numpy(dtype="float64")
        agg_sup |= np.array([primary_mask([counts[idx].sum()], min_cell)[0] for *_, idx in aggs], dtype=bool)

    def published_groups() -> list[np.ndarray]:
        return groups + [idx for (_, _, _, idx), s in zip(aggs, agg_sup) if not s]

    def next_smallest(candidates: Iterable[int]) -> int | None:
        best: tuple[float, int] | None = None
        for c in candidates:
            if not sup[c] and size[c] > 0 and (best is None or (size[c], c) < best):
                best = (size[c], int(c))
        return None if best is None else best[1]

    implied: set[int] = set()
    rounds = 0
    cache: dict = {}

    def plain(g: np.ndarray, k: int) -> bool:
        t = values[g, k].sum()
        return bool(t == 0 or t == size[g].sum())
    while rounds < max_rounds:
        rounds += 1
        changed = False
        pub = published_groups()
        # rule 2: a published total with exactly one suppressed cell (with students): hide the
        # next-smallest cell beside it, or, for a pooled total with no cell left, the total itself
        for g in pub:
            s = [c for c in g if sup[c] and size[c] > 0]
            if len(s) == 1:
                c = next_smallest(g)
                if c is not None:
                    sup[c] = True
                    changed = True
        for j, (_, _, _, idx) in enumerate(aggs):
            if not agg_sup[j] and sum(1 for c in idx if sup[c] and size[c] > 0) == 1 and next_smallest(idx) is None:
                agg_sup[j] = True
                changed = True
        if changed:
            continue
        # rule 3: the audit of every hidden cell and every hidden pooled total
        implied = set()
        member_of: dict[int, list[np.ndarray]] = {}
        for g in pub:
            for c in g:
                member_of.setdefault(int(c), []).append(g)
        hidden_aggs = [i for i in range(len(aggs)) if agg_sup[i]]
        secrets = [np.array([c]) for c in np.flatnonzero(sup)] + [aggs[i][3] for i in hidden_aggs]
        n_cells = int(sup.sum())
        found = set()
        for si, k, _lo, _hi in recoverable_cells(size, values, pub, sup, secrets, cache=cache):
            cells_of = secrets[si]
            # an always-published total of 0, or of all its students, fixes every member by itself:
            # no pattern can hide that (it is implied by the total), so it asks for no complement
            # (a pooled total that does so is hidden instead, below)
            if any(plain(g, k) for g in groups if set(cells_of.tolist()) <= set(g.tolist())):
                if si < n_cells:
                    implied.add(int(cells_of[0]))
                continue
            found.add(si)
        touched: set[int] = set()  # one addition per published total and per family a round
        for si in sorted(found):
            if si < n_cells:
                cell = int(secrets[si][0])
                if size[cell] == 0:
                    continue
                mine = member_of.get(cell, [])
                if any(id(g) in touched for g in mine):
                    continue
                c = next_smallest(int(x) for g in mine for x in g)
                if c is None:
                    # every cell beside it is hidden: a pooled total that holds it gives it away
                    # (a group of 8 all in vocational education); hide the smallest such total
                    holders = [j for j in range(len(aggs)) if not agg_sup[j] and cell in set(aggs[j][3].tolist())]
                    if holders:
                        j = min(holders, key=lambda j: (agg_size[j], j))
                        agg_sup[j] = True
                        touched.update(id(g) for g in mine)
                        changed = True
                    else:
                        implied.add(cell)
                    continue
                touched.update(id(g) for g in mine)
                sup[c] = True
                changed = True
            else:
                ai = hidden_aggs[si - n_cells]
                if agg_size[ai] == 0:
                    continue
                family = aggs[ai][2]
                if hash(family) in touched:
                    continue
                touched.add(hash(family))
                others = [j for j in range(len(aggs)) if aggs[j][2] == family and not agg_sup[j] and agg_size[j] > 0]
                if others:  # hide the next-smallest pooled total of the family beside it
                    j = min(others, key=lambda j: (agg_size[j], j))
                    agg_sup[j] = True
                    changed = True
                    continue
                # every pooled total of the family is hidden and still this one is known: its cells
                # are known from the always-published totals; hide one more cell of the family
                fam_cells = [int(x) for j in range(len(aggs)) if aggs[j][2] == family for x in aggs[j][3]
                             if j != ai]
                c = next_smallest(fam_cells)
                if c is None:
                    implied.update(int(x) for x in aggs[ai][3])
                    continue
                sup[c] = True
                changed = True
        if not changed:
            break
    index = frame.index
    agg_rows = [dict(zip(keys, key), **{"aggregate": ",".join(keys), size_col: agg_size[i],
                                        "suppressed": bool(agg_sup[i])})
                for i, (keys, key, _, _) in enumerate(aggs)]
    return Protection(suppressed=pd.Series(sup, index=index, name="suppressed"),
                      primary=pd.Series(prim, index=index, name="primary"),
                      complementary=pd.Series(sup & ~prim, index=index, name="complementary"),
                      aggregates=pd.DataFrame(agg_rows), implied_by_totals=tuple(sorted(implied)), rounds=rounds)


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


# ---------------------------------------------------------------------------------------------
# The tables of a review bundle
# ---------------------------------------------------------------------------------------------
#: Outcome counts of an uptake frame (``indicators.uptake``) the audit protects.
UPTAKE_COUNTS: tuple[str, ...] = ("vocational", "voc_target", "unknown")
#: Columns left empty in a suppressed row of an uptake frame: counts, rates and flags computed
#: from its students (the size ``graduates``, the number of schools and the target stay).
UPTAKE_BLANK: tuple[str, ...] = ("vocational", "voc_target", "unknown", "rate", "target_rate", "unknown_share",
                                 "target_met")
#: ``uptake_by_commune``: each level-year adds up to ``uptake_by_year``; each commune pooled over
#: the years is published by the per-school uptake a notebook shows (its schools add up to it)
#: unless hidden; the communes of an area type pooled over the years are ``equity_gaps``'
#: disadvantaged groups.
COMMUNE_PARTITIONS: tuple[tuple[str, ...], ...] = (("level", "year"),)
COMMUNE_AGGREGATES: tuple[tuple[str, ...], ...] = (("level", "commune_code"), ("level", "disadvantaged"))
#: ``uptake_by_group``: the groups of a variable add up to the level-year of ``uptake_by_year``;
#: each group pooled over the years is ``equity_gaps``' rate of that group.
GROUP_PARTITIONS: tuple[tuple[str, ...], ...] = (("level", "year", "group_var"),)
GROUP_AGGREGATES: tuple[tuple[str, ...], ...] = (("level", "group_var", "group"),)
#: ``equity_gaps`` columns computed from the students of the group or of the reference.
EQUITY_BLANK: tuple[str, ...] = ("gap_pp", "std_error", "ci_low", "ci_high", "p_value", "rate_group",
                                 "rate_reference")


def _with_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """Counts recovered from rates where a frame carries only rates (``voc_target`` from
    ``target_rate``, ``unknown`` from ``unknown_share``)."""
    df = frame.copy()
    n = pd.to_numeric(df["graduates"], errors="coerce")
    for count, rate in (("vocational", "rate"), ("voc_target", "target_rate"), ("unknown", "unknown_share")):
        if count not in df.columns and rate in df.columns:
            df[count] = (pd.to_numeric(df[rate], errors="coerce") * n).round()
    return df


def protect_uptake(frame: pd.DataFrame, *, min_cell: int, partitions: Sequence[Sequence[str]],
                   aggregates: Sequence[Sequence[str]] = (), blank: Sequence[str] = UPTAKE_BLANK,
                   suppressed: Iterable[bool] | None = None) -> tuple[pd.DataFrame, Protection]:
    """An uptake frame (true values, ``indicators.uptake`` with or without targets) with its
    small cells and their complements left empty, and the :class:`Protection` that decided it.
    The rows keep their order; ``suppressed`` is added."""
    df = _with_counts(frame)
    p = protect(df, min_cell=min_cell, partitions=partitions, aggregates=aggregates, suppressed=suppressed,
                value_cols=[c for c in UPTAKE_COUNTS if c in df.columns])
    return blank_suppressed(frame, p.suppressed.to_numpy(), blank), p


def protect_communes(frame: pd.DataFrame, *, min_cell: int) -> tuple[pd.DataFrame, Protection]:
    """``uptake_by_commune`` protected against ``uptake_by_year``, commune and area-type totals."""
    aggs = [a for a in COMMUNE_AGGREGATES if all(k in frame.columns for k in a)]
    return protect_uptake(frame, min_cell=min_cell, partitions=COMMUNE_PARTITIONS, aggregates=aggs)


def protect_groups(frame: pd.DataFrame, *, min_cell: int) -> tuple[pd.DataFrame, Protection]:
    """``uptake_by_group`` protected against ``uptake_by_year`` and the groups pooled over years."""
    return protect_uptake(frame, min_cell=min_cell, partitions=GROUP_PARTITIONS, aggregates=GROUP_AGGREGATES)


def protect_schools(frame: pd.DataFrame, *, min_cell: int, communes: Protection | None = None) -> pd.DataFrame:
    """Uptake per school (``indicators.uptake(panel, by=["level", "commune_code", "school_id"])``,
    pooled over the years) for display: the schools of a level add up to the level's total,
    the schools of a commune to the commune's; small schools and their complements empty, and
    every school of a commune whose pooled total ``communes`` (``protect_communes``) hid."""
    parts = [["level"]] + ([["level", "commune_code"]] if "commune_code" in frame.columns else [])
    extra = np.zeros(len(frame), dtype=bool)
    if communes is not None and not communes.aggregates.empty and "commune_code" in communes.aggregates.columns:
        a = communes.aggregates[communes.aggregates["aggregate"] == "level,commune_code"]
        hid = {(str(r["level"]), str(r["commune_code"])) for r in a[a["suppressed"]].to_dict("records")}
        extra = np.array([(str(lv), str(c)) in hid for lv, c in zip(frame["level"], frame["commune_code"])], dtype=bool)
    return protect_uptake(frame, min_cell=min_cell, partitions=parts, suppressed=extra)[0]


def equity_hidden_groups(cells: pd.DataFrame, *, min_cell: int, groups: Protection | None = None,
                         communes: Protection | None = None) -> set[tuple[str, str, str]]:
    """``(level, dimension, group)`` whose pooled rate ``equity_gaps`` must not publish.

    ``cells``: the student cells the gaps are computed from (``panel.student_cells``). The
    groups of each dimension, pooled over the years, add up to the level's total: primary and
    complementary suppression among them (with the reference group and ``unknown`` as cells),
    joined with the pooled totals the ``groups`` / ``communes`` protections hid (ethnicity, sex /
    disadvantaged), so the three tables agree.
    """
    from .equity import DIMENSIONS

    frames = []
    for dim, (col, _ref, labels) in DIMENSIONS.items():
        if col not in cells.columns:
            continue
        v = cells[col]
        g = (pd.Series(np.where(v.astype(bool).to_numpy(), labels[0], labels[1]), index=cells.index)
             if labels is not None else v.astype(str))
        pooled = (cells.assign(_g=g.to_numpy()).groupby(["level", "_g"], observed=True)[["graduates", "vocational"]]
                  .sum().reset_index().rename(columns={"_g": "group"}))
        pooled["dimension"] = dim
        frames.append(pooled)
    hidden: set[tuple[str, str, str]] = set()
    if frames:
        pooled = pd.concat(frames, ignore_index=True)
        p = protect(pooled, min_cell=min_cell, partitions=[["level", "dimension"]])
        for r, s in zip(pooled.itertuples(index=False), p.suppressed):
            if s:
                hidden.add((str(r.level), str(r.dimension), str(r.group)))
    for prot, dim_of in ((groups, {"ethnicity": "ethnicity", "sex": "sex", "poor_household": "poverty"}),
                         (communes, None)):
        if prot is None or prot.aggregates.empty:
            continue
        for r in prot.aggregates[prot.aggregates["suppressed"]].to_dict("records"):
            if r["aggregate"] not in ("level,group_var,group", "level,disadvantaged"):
                continue
            if dim_of is not None and r["aggregate"] == "level,group_var,group":
                dim = dim_of.get(str(r["group_var"]))
                if dim is not None:
                    grp = str(r["group"])
                    if dim == "poverty":
                        grp = {"True": "poor", "False": "not_poor"}.get(grp, grp)
                    hidden.add((str(r["level"]), dim, grp))
            elif r["aggregate"] == "level,disadvantaged":
                flag = str(r["disadvantaged"]) in ("True", "true", "1")
                hidden.add((str(r["level"]), "disadvantaged", "disadvantaged" if flag else "not_disadvantaged"))
    return hidden


def protect_equity(gaps: pd.DataFrame, hidden: set[tuple[str, str, str]]) -> pd.DataFrame:
    """``equity_gaps`` with every row whose group or reference is hidden left empty (the gap, its
    interval and the pooled rates) and ``suppressed`` added, as ``uptake_by_year`` does, only when
    a row is suppressed (the table is unchanged otherwise)."""
    sup = np.array([(str(r.level), str(r.dimension), str(r.group)) in hidden
                    or (str(r.level), str(r.dimension), str(r.reference)) in hidden
                    for r in gaps.itertuples(index=False)], dtype=bool)
    return blank_suppressed(gaps, sup, EQUITY_BLANK) if sup.any() else gaps


#: ``vocational_network``: the years of a trade and level add up to the network summary a
#: notebook shows (always published here: the summary is protected on its own).
NETWORK_PARTITIONS: tuple[tuple[str, ...], ...] = (("trade", "level"),)
#: The institutions of a year, trade and level add up to a row of ``labour_alignment`` (its
#: graduates and employed_12m), published unless that pooled total is hidden.
NETWORK_AGGREGATES: tuple[tuple[str, ...], ...] = (("year", "trade", "level"),)
#: Columns left empty in a suppressed row of the network: outcomes of its people.
NETWORK_BLANK: tuple[str, ...] = ("graduated", "employed_12m", "completion_rate", "employment_rate")
#: Columns left empty in a suppressed row of ``labour_alignment``: outcomes of the graduates.
ALIGNMENT_BLANK: tuple[str, ...] = ("graduates", "employed_12m")


def _network_protection(network: pd.DataFrame, *, min_cell: int, partitions: Sequence[Sequence[str]],
                        aggregates: Sequence[Sequence[str]]) -> Protection:
    """The pattern of a network frame: cells of fewer than ``min_cell`` enrolled or graduated (or
    an unknown count) and their complements, and the pooled totals of ``aggregates`` to hide.

    Two passes: first as if every pooled total were always published (the cells' pattern), then
    from that pattern with the pooled totals as totals that may be hidden themselves (a total of
    one institution's row that is hidden, or one an attacker could pin, is hidden beside it). The
    second pass only adds to the first.

    The bound of an outcome in the audit is the larger of enrolled and graduated (graduates of a
    longer programme can outnumber this year's intake)."""
    parts = [p for p in partitions if all(k in network.columns for k in p)]
    aggs = [a for a in aggregates if all(k in network.columns for k in a)]
    enrolled = pd.to_numeric(network["enrolled"], errors="coerce")
    graduated = pd.to_numeric(network["graduated"], errors="coerce")
    people = network.assign(_people=np.fmax(enrolled.to_numpy(dtype="float64"), graduated.to_numpy(dtype="float64")))
    kw = dict(min_cell=min_cell, size_col="_people", value_cols=("graduated", "employed_12m"),
              small_by=("enrolled", "graduated"))
    first = protect(people, partitions=[*aggs, *parts], **kw)
    if not aggs:
        return first
    return protect(people, partitions=parts, aggregates=aggs, suppressed=first.suppressed.to_numpy(), **kw)


def protect_network(network: pd.DataFrame, *, min_cell: int,
                    partitions: Sequence[Sequence[str]] = NETWORK_PARTITIONS,
                    aggregates: Sequence[Sequence[str]] = NETWORK_AGGREGATES) -> pd.DataFrame:
    """``labour.vocational_network`` (or ``labour.network_summary``, with ``partitions=[["level"]]``)
    with rows of fewer than ``min_cell`` enrolled or graduated, and their complements, left empty
    (graduated, employed within 12 months and their rates); ``suppressed`` added. Places and
    enrolment (planned and admitted numbers) stay."""
    p = _network_protection(network, min_cell=min_cell, partitions=partitions, aggregates=aggregates)
    return blank_suppressed(network, p.suppressed.to_numpy(), NETWORK_BLANK)


def protect_labour(alignment: pd.DataFrame, network: pd.DataFrame, *,
                   min_cell: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``labour_alignment`` and ``vocational_network`` protected together; both with ``suppressed``.

    A row of the alignment (survey year, trade, vocational level) is the network's institutions of
    that year, trade and level added up, so the two tables are one pattern
    (:func:`_network_protection` with those rows as pooled totals): an alignment row of fewer than
    ``min_cell`` graduates or enrolled (the one primary rule) is hidden, and so is one that would
    give a hidden institution away (a trade taught by one institution) or that a published
    institution row and the network summary would give away. A hidden alignment row loses its
    graduates and employed_12m; demand, places, ratio and gap (not outcomes of people) stay.
    Rows without supply (qualifications ``none`` and ``university``, years the supply table does
    not cover) have nothing to hide."""
    p = _network_protection(network, min_cell=min_cell, partitions=NETWORK_PARTITIONS,
                            aggregates=NETWORK_AGGREGATES)
    net = blank_suppressed(network, p.suppressed.to_numpy(), NETWORK_BLANK)
    hidden: set[tuple[str, str, str]] = set()
    if not p.aggregates.empty:
        a = p.aggregates[(p.aggregates["aggregate"] == "year,trade,level") & p.aggregates["suppressed"]]
        hidden = {(str(int(r["year"])), str(r["trade"]), str(r["level"])) for r in a.to_dict("records")}
    sup = np.array([(str(int(y)), str(t), str(q)) in hidden for y, t, q in
                    zip(alignment["survey_year"], alignment["trade"], alignment["qualification"])], dtype=bool)
    return blank_suppressed(alignment, sup, ALIGNMENT_BLANK), net
