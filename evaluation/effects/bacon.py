"""Why two-way fixed effects differs from the reported effect: the Goodman-Bacon (2021) decomposition.

TWFE is a diagnostic in this review, never the finding (``recommend`` never picks it). With staggered
adoption its coefficient is a weighted average of every 2x2 difference-in-differences between timing
groups (Goodman-Bacon 2021, Theorem 1), including comparisons that use **already-covered** schools as
controls; when the effect grows with exposure those comparisons subtract part of the effect, which is why
TWFE recovered about half of a 4 pp effect in simulation.

Setting: a balanced panel (units observed in every period; others are left out and counted), the
unweighted OLS of ``outcome`` on the treatment indicator with unit and period effects, treatment
absorbing (once treated, treated). Timing groups: units with the same first treated period; units never
treated in the panel form the group ``U`` (D-bar = 0); units treated from the first period are
"always treated" (D-bar = 1). With n_k the share of units in group k, D-bar_k the share of periods it
is treated, n_kl = n_k / (n_k + n_l) and V^D the variance of the two-way demeaned treatment:

- earlier k vs later (or never) l, in the periods before l is treated ("earlier_vs_later" /
  "treated_vs_never"): weight ((n_k + n_l)(1 - D_l))^2 n_kl (1 - n_kl) ((D_k - D_l)/(1 - D_l))
  ((1 - D_k)/(1 - D_l)) / V^D;
- later l vs earlier k, in the periods after k is treated, k the control ("later_vs_earlier", the
  already-treated comparisons): weight ((n_k + n_l) D_k)^2 n_kl (1 - n_kl) (D_l / D_k)
  ((D_k - D_l) / D_k) / V^D;

each 2x2 estimate being the difference of the two groups' changes in mean outcome from the window's pre to
post periods. The weights sum to 1 and the weighted sum of the 2x2 estimates is the TWFE coefficient
exactly (tested on hand-built panels and against the fixed-effects engine).

Reference: Goodman-Bacon, A. (2021), "Difference-in-differences with variation in treatment timing",
Journal of Econometrics 225(2), 254-277; R package ``bacondecomp``.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

__all__ = ["bacon_decomposition", "BaconDecomposition", "COMPARISON_TYPES"]

COMPARISON_TYPES = ("treated_vs_never", "earlier_vs_later", "later_vs_earlier")


@dataclass(frozen=True)
class BaconDecomposition:
    """The 2x2 comparisons (``table``: type, treated, control, estimate, weight), the TWFE coefficient they
    reproduce (``twfe``), and the units left out to balance the panel. Outcome units (x 100 for pp)."""

    table: pd.DataFrame
    twfe: float
    n_units: int
    n_periods: int
    dropped_units: int = 0
    notes: tuple[str, ...] = field(default=())

    def by_type(self) -> pd.DataFrame:
        """Weight and weighted mean estimate per comparison type (type, weight, estimate, n_comparisons)."""
        rows = []
        for t in COMPARISON_TYPES:
            g = self.table.loc[self.table["type"] == t]
            w = float(g["weight"].sum())
            rows.append({"type": t, "weight": w, "n_comparisons": int(len(g)),
                         "estimate": float((g["weight"] * g["estimate"]).sum() / w) if w > 0 else float("nan")})
        return pd.DataFrame(rows)

    def _repr_html_(self) -> str:
        """Weights and estimates by comparison type (pp), then the diagnostic sentence."""
        bt = self.by_type().assign(weight=lambda d: d["weight"].round(3), estimate_pp=lambda d: (100 * d["estimate"]).round(2))
        sent = self.sentences()["en"]
        return (f"<div><strong>Goodman-Bacon decomposition of TWFE ({100 * self.twfe:.2f} pp)</strong>"
                f"{bt.drop(columns='estimate').to_html(index=False, border=0)}<p><small>{sent}</small></p></div>")

    def __str__(self) -> str:
        return (f"Goodman-Bacon decomposition of TWFE ({100 * self.twfe:.2f} pp)\n"
                + self.by_type().to_string(index=False) + "\n" + self.sentences()["en"])

    @property
    def weight_already_treated(self) -> float:
        """Share of TWFE's weight on comparisons whose controls are already treated."""
        return float(self.table.loc[self.table["type"] == "later_vs_earlier", "weight"].sum())

    def sentences(self, *, reported_pp: float | None = None) -> dict[str, str]:
        """One diagnostic sentence each in Vietnamese and English (percentage points)."""
        bt = self.by_type().set_index("type")
        share = 100 * self.weight_already_treated
        late = bt.loc["later_vs_earlier", "estimate"] * 100
        clean_w = bt.loc[["treated_vs_never", "earlier_vs_later"], "weight"].sum()
        clean = (float((bt.loc[["treated_vs_never", "earlier_vs_later"], "weight"]
                        * bt.loc[["treated_vs_never", "earlier_vs_later"], "estimate"]).sum() / clean_w) * 100
                 if clean_w > 0 else float("nan"))
        tw = 100 * self.twfe
        def v(x: float) -> str:
            return f"{x:.1f}".replace(".", ",")

        rep_en = f" against the reported {reported_pp:.1f} pp" if reported_pp is not None else ""
        rep_vi = f" so với ước lượng được báo cáo {v(reported_pp)} điểm %" if reported_pp is not None else ""
        en = (f"Two-way fixed effects gives {tw:.1f} pp{rep_en} because {share:.0f} % of its weight comes from "
              f"comparisons that use already-covered schools as controls (their average {late:.1f} pp); the "
              f"comparisons with not-yet- or never-covered schools average {clean:.1f} pp. It is a diagnostic, "
              "not the effect.")
        vi = (f"Hồi quy hiệu ứng cố định hai chiều cho {v(tw)} điểm %{rep_vi} vì {share:.0f} % trọng số của nó đến "
              f"từ các so sánh lấy trường đã có GV tư vấn làm nhóm đối chứng (trung bình {v(late)} điểm %); các so "
              f"sánh với trường chưa có hoặc không có GV tư vấn trung bình {v(clean)} điểm %. Đây là phép kiểm "
              "tra, không phải tác động.")
        return {"vi": vi, "en": en}


def _did(y: np.ndarray, a: np.ndarray, b: np.ndarray, pre: np.ndarray, post: np.ndarray) -> float:
    """(mean_a,post - mean_a,pre) - (mean_b,post - mean_b,pre) over units a / b (boolean) and periods pre / post."""
    ya, yb = y[a], y[b]
    return float((ya[:, post].mean() - ya[:, pre].mean()) - (yb[:, post].mean() - yb[:, pre].mean()))


def bacon_decomposition(data: pd.DataFrame, *, outcome: str = "rate", unit: str = "school_id", time: str = "year",
                        first_treated: str = "first_covered") -> BaconDecomposition:
    """Goodman-Bacon decomposition of the unweighted TWFE coefficient of ``outcome`` on the treatment implied by
    ``first_treated`` (0 or later than the last period = never treated), module docstring.

    Units not observed in every period (or with a missing outcome) are left out to balance the panel
    (``dropped_units``). Raises ``ValueError`` naming the column when the data cannot be decomposed.
    """
    for c in (outcome, unit, time, first_treated):
        if c not in data.columns:
            raise ValueError(f"bacon_decomposition: the data have no column {c!r}")
    d = data[[unit, time, first_treated, outcome]].dropna()
    periods = np.sort(d[time].unique())
    T = len(periods)
    if T < 2:
        raise ValueError(f"bacon_decomposition: column {time!r} has {T} period(s); two or more are needed")
    counts = d.groupby(unit)[time].nunique()
    full = counts.index[counts == T]
    dropped = int((counts < T).sum())
    d = d.loc[d[unit].isin(full)]
    if d.duplicated([unit, time]).any():
        raise ValueError(f"bacon_decomposition: several rows per ({unit}, {time})")
    wide = d.pivot(index=unit, columns=time, values=outcome).loc[:, periods]
    g = d.groupby(unit)[first_treated].first().reindex(wide.index).astype(float).to_numpy()
    y = wide.to_numpy(dtype=float)
    N = len(g)
    g = np.where((g <= 0) | (g > periods[-1]), np.inf, np.maximum(g, periods[0]))  # never: inf; before: first
    D = (periods[None, :] >= g[:, None]).astype(float)
    if D.std() == 0:
        raise ValueError("bacon_decomposition: the treatment does not vary (every unit treated, or none)")
    # TWFE by two-way demeaning (balanced panel)
    Dt = D - D.mean(1, keepdims=True) - D.mean(0, keepdims=True) + D.mean()
    yt = y - y.mean(1, keepdims=True) - y.mean(0, keepdims=True) + y.mean()
    VD = float((Dt ** 2).mean())
    beta = float((Dt * yt).sum() / (Dt ** 2).sum())
    groups = np.unique(g)
    share = {k: float(np.mean(g == k)) for k in groups}
    dbar = {k: float(D[g == k][0].mean()) for k in groups}
    rows = []
    for i, k in enumerate(groups):
        for l in groups[i + 1:]:  # k treated strictly earlier than l (l may be never: inf)
            nk, nl = share[k], share[l]
            Dk, Dl = dbar[k], dbar[l]
            nkl = nk / (nk + nl)
            a, b = g == k, g == l
            lab_k = "always" if Dk == 1 else str(int(k))
            lab_l = "never" if np.isinf(l) else str(int(l))
            if Dk < 1:  # k vs l in the periods before l is treated
                win = periods < l
                pre, post = win & (periods < k), win & (periods >= k)
                if pre.any() and post.any():
                    w = ((nk + nl) * (1 - Dl)) ** 2 * nkl * (1 - nkl) * ((Dk - Dl) / (1 - Dl)) * ((1 - Dk) / (1 - Dl)) / VD
                    rows.append({"type": "treated_vs_never" if np.isinf(l) else "earlier_vs_later", "treated": lab_k,
                                 "control": lab_l, "estimate": _did(y, a, b, pre, post), "weight": w})
            if Dl > 0:  # l vs the already-treated k in the periods from k's treatment on
                win = periods >= k
                pre, post = win & (periods < l), win & (periods >= l)
                if pre.any() and post.any():
                    w = ((nk + nl) * Dk) ** 2 * nkl * (1 - nkl) * (Dl / Dk) * ((Dk - Dl) / Dk) / VD
                    rows.append({"type": "later_vs_earlier", "treated": str(int(l)), "control": lab_k,
                                 "estimate": _did(y, b, a, pre, post), "weight": w})
    table = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])
    notes = (f"{dropped} unit(s) not observed in every period left out (the decomposition needs a balanced panel)",) \
        if dropped else ()
    return BaconDecomposition(table=table, twfe=beta, n_units=N, n_periods=T, dropped_units=dropped, notes=notes)
