"""Which effect estimate the review reports, decided by rules written in code.

Rules, applied in this order to the adoption pattern of the panel (``first_treated``: the first
treated year of each unit, 0 = never treated in the data):

1. No unit is ever treated within the panel -> ``"none"``: there is no effect to estimate.
2. No credible comparison -> ``"none"``: no never-treated unit, and no treated cohort has a
   later-treated cohort still untreated in one of its post-treatment years (not-yet-treated), or
   every treated unit was already treated in the panel's first year (no pre-period).
3. Staggered adoption (more than one adoption cohort among the units treated within the panel)
   -> ``"callaway_santanna"``: two-way fixed effects then compares later- with earlier-treated
   units and is biased when effects change with exposure (Goodman-Bacon 2021; de Chaisemartin &
   D'Haultfoeuille 2020); the group-time ATTs are robust. Comparison group: never-treated units
   when there are any, else not-yet-treated.
4. A single adoption cohort and the caller reports effects that vary with exposure
   (``effects_vary_by_exposure=True``, e.g. the event study's lags differ) ->
   ``"callaway_santanna"`` (rule ``single_cohort_dynamic``), to report the dynamic profile.
5. Otherwise (one cohort) -> ``"callaway_santanna"`` as well (rule ``single_cohort``). Even with a
   single adoption date the CS simple average is not the two-way estimate: CS compares each
   post year with the year before coverage, TWFE with the mean of all pre years (and weights
   school-years by graduates); they agree only without sampling noise (0.054 against 0.044 in a
   simulation; ``tests/test_recommend.py`` shows both cases).

Two-way fixed effects is never the reported estimate: it is a diagnostic, explained by its
Goodman-Bacon decomposition (:mod:`evaluation.effects.bacon`). ``"twfe"`` stays in
``ESTIMATORS`` so that callers that name it keep working, but ``recommend`` never returns it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from evaluation.effects.fixed_effects import _require_columns

__all__ = ["recommend", "Recommendation", "ESTIMATORS", "effect_status", "recommended_inference", "small_cohorts", "small_cohort_note",
           "PLAUSIBLE_EFFECT_PP", "SMALL_COHORT_MAX"]

ESTIMATORS = ("twfe", "callaway_santanna", "none")


@dataclass(frozen=True)
class Recommendation:
    """The estimator the review reports (``estimator`` in ``ESTIMATORS``), why (English and Vietnamese),
    the comparison group for ``callaway_santanna`` (``"never"``/``"notyet"``) and the rule that fired."""

    estimator: str
    reason_en: str
    reason_vi: str
    control: str | None = None
    rule: str = ""
    cohorts: tuple[int, ...] = ()
    n_never_treated: int = 0
    #: the small-sample inference for ``staggered_did`` (``did.RECOMMENDED_INFERENCE``, or
    #: ``did.SMALL_COHORT_INFERENCE`` when a cohort has one or two schools, listed in ``small_cohorts``)
    inference: str = "jackknife"
    small_cohorts: tuple[tuple[int, int], ...] = ()

    def __str__(self) -> str:
        return f"{self.estimator}: {self.reason_en}"

    def _repr_html_(self) -> str:
        import html

        return f"<p><strong>{html.escape(self.estimator)}</strong>: {html.escape(self.reason_en)}</p>"


def recommend(panel: pd.DataFrame, *, unit: str = "school_id", time: str = "year",
              first_treated: str = "first_covered", effects_vary_by_exposure: bool = False,
              prefer_control: str | None = None) -> Recommendation:
    """Apply the rules of the module docstring to ``panel`` (the analysis panel or any unit x time frame),
    and choose the small-sample inference (``recommended_inference``). See ``_recommend`` for the options."""
    import dataclasses

    rec = _recommend(panel, unit=unit, time=time, first_treated=first_treated,
                     effects_vary_by_exposure=effects_vary_by_exposure, prefer_control=prefer_control)
    if rec.estimator != "callaway_santanna":
        return rec
    small = small_cohorts(panel, unit=unit, first_treated=first_treated)
    inference = recommended_inference(panel, unit=unit, first_treated=first_treated)
    vi, en = small_cohort_note(small)
    return dataclasses.replace(rec, inference=inference, small_cohorts=tuple(small.items()),
                               reason_en=rec.reason_en + (f" {en}" if en else ""),
                               reason_vi=rec.reason_vi + (f" {vi}" if vi else ""))


def recommended_inference(panel: pd.DataFrame, *, unit: str = "school_id",
                          first_treated: str = "first_covered") -> str:
    """``did.SMALL_COHORT_INFERENCE`` when some adoption cohort has one or two schools, else
    ``did.RECOMMENDED_INFERENCE``; both are the delete-one-school jackknife with t(G-1) (chosen out of sample,
    evidence in ``did``)."""
    from evaluation.effects.did import RECOMMENDED_INFERENCE, SMALL_COHORT_INFERENCE

    return SMALL_COHORT_INFERENCE if small_cohorts(panel, unit=unit, first_treated=first_treated) \
        else RECOMMENDED_INFERENCE


def _recommend(panel: pd.DataFrame, *, unit: str = "school_id", time: str = "year",
               first_treated: str = "first_covered", effects_vary_by_exposure: bool = False,
               prefer_control: str | None = None) -> Recommendation:
    """Apply the rules of the module docstring to ``panel`` (the analysis panel or any unit x time frame).

    ``prefer_control`` (``"never"`` or ``"notyet"``, e.g. the review's ``control_group`` parameter) is
    the comparison group to use when the data allow it: ``"never"`` needs never-treated units,
    ``"notyet"`` (not-yet-treated units, never-treated ones included, as R ``did`` defines it) needs
    either. Without a preference: never-treated units when there are any, else not-yet-treated.
    """
    if prefer_control not in (None, "never", "notyet"):
        raise ValueError(f"recommend: prefer_control must be 'never', 'notyet' or None, got {prefer_control!r}")
    where = "recommend"
    _require_columns(panel, [unit, time, first_treated], where=where)
    df = panel[[unit, time, first_treated]].dropna()
    if df.empty:
        raise ValueError(f"{where}: no row with {unit}, {time} and {first_treated} all present")
    per_unit = df.groupby(unit, observed=True)[first_treated].agg(["nunique", "first"])
    if (per_unit["nunique"] > 1).any():
        u = per_unit.index[per_unit["nunique"] > 1][0]
        raise ValueError(f"{where}: column {first_treated!r} must be constant within {unit}; {unit}={u!r} has "
                         f"values {sorted(df.loc[df[unit] == u, first_treated].unique().tolist())}")
    years = np.sort(df[time].unique())
    t_min, t_max = years.min(), years.max()
    g = per_unit["first"].astype(float)
    never = (g == 0) | (g > t_max)  # treated only after the panel ends: untreated throughout
    treated = ~never
    always = treated & (g <= t_min)
    cohorts = tuple(int(c) for c in np.sort(g[treated & ~always].unique()))
    n_never = int(never.sum())

    if not treated.any():
        return Recommendation("none", "No school is covered in any year of the data: there is no effect to estimate.",
                              "Không có trường nào được bao phủ tư vấn trong các năm có dữ liệu: không có tác động "
                              "nào để ước lượng.", rule="no_treated", n_never_treated=n_never)
    # a usable comparison: never-treated units, or a later cohort untreated in some post year of an earlier one
    notyet = any(later > c for c in cohorts for later in cohorts)
    if not cohorts or (n_never == 0 and not notyet):
        why = ("every covered school was already covered in the first year (no pre-period)" if not cohorts else
               "every school is covered from the same year and no school remains uncovered")
        why_vi = ("mọi trường được bao phủ đều đã được bao phủ ngay từ năm đầu (không có giai đoạn trước)"
                  if not cohorts else "mọi trường đều được bao phủ từ cùng một năm và không còn trường nào chưa "
                                      "được bao phủ")
        return Recommendation("none", f"No credible comparison: {why}, so no group shows what would have happened "
                              "without counseling. Report descriptive trends only.",
                              f"Không có nhóm so sánh đáng tin cậy: {why_vi}, nên không có nhóm nào cho biết điều gì "
                              "sẽ xảy ra nếu không có tư vấn. Chỉ báo cáo xu hướng mô tả.",
                              rule="no_comparison", cohorts=cohorts, n_never_treated=n_never)
    if prefer_control == "notyet" or (prefer_control is None and n_never == 0) or n_never == 0:
        control = "notyet"
    else:
        control = "never"
    control_en = ("never-covered schools" if control == "never"
                  else "not-yet-covered schools (never-covered ones included)")
    control_vi = ("các trường chưa từng được bao phủ" if control == "never"
                  else "các trường chưa được bao phủ tại thời điểm so sánh (kể cả trường chưa từng được bao phủ)")
    if len(cohorts) > 1:
        years_txt = ", ".join(str(c) for c in cohorts)
        return Recommendation(
            "callaway_santanna",
            f"Adoption is staggered ({len(cohorts)} adoption years: {years_txt}); two-way fixed effects would compare "
            "later- with earlier-covered schools and is biased when the effect grows with exposure, so the review "
            f"reports the Callaway-Sant'Anna estimate with {control_en} as the comparison group.",
            f"Các trường áp dụng tư vấn vào các năm khác nhau ({len(cohorts)} năm bắt đầu: {years_txt}); hồi quy hiệu "
            "ứng cố định hai chiều sẽ so sánh trường áp dụng muộn với trường áp dụng sớm và bị chệch khi tác động tăng "
            "theo thời gian tiếp cận, nên báo cáo dùng ước lượng Callaway-Sant'Anna với nhóm so sánh là "
            f"{control_vi}.",
            control=control, rule="staggered", cohorts=cohorts, n_never_treated=n_never)
    # one adoption cohort: CS as well (rule 4/5). Its simple ATT compares each post year with the year before
    # coverage; TWFE compares post years with the mean of all pre years (and weights school-years by graduates),
    # so the two numbers differ in any real sample (0.054 against 0.044 in a simulation). TWFE stays a diagnostic.
    if effects_vary_by_exposure:
        return Recommendation(
            "callaway_santanna",
            f"All covered schools started in {cohorts[0]}, but the effect varies with years of exposure; the review "
            f"reports the Callaway-Sant'Anna estimate (comparison: {control_en}) to show the dynamic profile. Two-way "
            "fixed effects compares the post-coverage years with the average of all earlier years, so it is not the "
            "same number and is shown only as a diagnostic.",
            f"Mọi trường được bao phủ đều bắt đầu năm {cohorts[0]}, nhưng tác động thay đổi theo số năm tiếp cận; báo "
            f"cáo dùng ước lượng Callaway-Sant'Anna (nhóm so sánh: {control_vi}) để thể hiện diễn biến theo thời gian. "
            "Hồi quy hiệu ứng cố định hai chiều so sánh các năm sau bao phủ với trung bình mọi năm trước, nên cho con "
            "số khác và chỉ được dùng để đối chiếu.",
            control=control, rule="single_cohort_dynamic", cohorts=cohorts, n_never_treated=n_never)
    return Recommendation(
        "callaway_santanna",
        f"All covered schools started in the same year ({cohorts[0]}) and {control_en} provide the comparison: the "
        "Callaway-Sant'Anna estimate (each post-coverage year against the year before coverage) is reported; the "
        "two-way fixed-effects estimate uses the average of all earlier years as its baseline and is shown only as "
        "a diagnostic.",
        f"Mọi trường được bao phủ đều bắt đầu cùng một năm ({cohorts[0]}) và {control_vi} là nhóm so sánh: báo cáo "
        "dùng ước lượng Callaway-Sant'Anna (mỗi năm sau bao phủ so với năm ngay trước bao phủ); ước lượng hiệu ứng cố "
        "định hai chiều lấy trung bình mọi năm trước làm mốc và chỉ được dùng để đối chiếu.",
        control=control, rule="single_cohort", cohorts=cohorts, n_never_treated=n_never)


# ------------------------------------------------------------------------------------------------------------
# status of the reported effect: informative or not, and cohorts too small to carry their own noise
# ------------------------------------------------------------------------------------------------------------
#: The largest effect of school counseling on vocational uptake the review treats as plausible [pp]: the
#: shipped sample plants 2-4 pp; a design that cannot detect 5 pp with 80 % power cannot tell a plausible
#: effect from none.
PLAUSIBLE_EFFECT_PP = 5.0
#: Cohorts (adoption years) with at most this many schools are flagged: their estimate rests on one or two
#: schools' own noise, which the analytic influence-function error leaves out (one school: it is exactly 0).
SMALL_COHORT_MAX = 2


def effect_status(estimate_pp: float, se_pp: float, df: float | None, *, plausible_pp: float = PLAUSIBLE_EFFECT_PP,
                  alpha: float = 0.05, power: float = 0.8) -> dict[str, Any]:
    """Status of the reported effect: ``ok``, ``not_informative`` or ``not_estimable``, with reasons and the MDE.

    The minimum detectable effect of this fit's design is ``MDE = (q_{1-alpha/2} + q_{power}) x SE`` with q the
    quantiles of the fit's reference distribution (t(df), normal when ``df`` is None): the smallest true effect
    the test detects with ``power``. When it exceeds ``plausible_pp`` (``PLAUSIBLE_EFFECT_PP``) the estimate is
    shown but ``not_informative``: the design (typically THPT's ~7 schools) cannot tell a plausible effect from
    none, whatever the point estimate. A non-finite estimate or SE is ``not_estimable``.
    Returns ``{"status", "reason_vi", "reason_en", "mde_pp"}``.
    """
    try:
        est, se = float(estimate_pp), float(se_pp)
    except (TypeError, ValueError):
        est, se = float("nan"), float("nan")
    if not (np.isfinite(est) and np.isfinite(se) and se > 0):
        return {"status": "not_estimable", "mde_pp": float("nan"),
                "reason_vi": "không ước lượng được tác động hoặc sai số chuẩn của nó",
                "reason_en": "the effect or its standard error cannot be estimated"}
    from scipy import stats

    dist = stats.norm if df is None else stats.t(df)
    mde = float((dist.ppf(1 - alpha / 2) + dist.ppf(power)) * se)
    if mde > plausible_pp:
        return {"status": "not_informative", "mde_pp": mde,
                "reason_vi": (f"thiết kế chỉ phát hiện được tác động từ {mde:.1f} điểm % trở lên (độ mạnh "
                              f"{power:.0%}), lớn hơn mức hợp lý {plausible_pp:.0f} điểm %: chưa kết luận được").replace(".", ","),
                "reason_en": (f"the design detects only effects of {mde:.1f} pp or more ({power:.0%} power), above the "
                              f"plausible {plausible_pp:.0f} pp: nothing can be concluded")}
    return {"status": "ok", "mde_pp": mde, "reason_vi": "", "reason_en": ""}


def small_cohorts(panel: pd.DataFrame, *, unit: str = "school_id", first_treated: str = "first_covered",
                  max_size: int = SMALL_COHORT_MAX) -> dict[int, int]:
    """Adoption cohorts with at most ``max_size`` units: ``{first treated year: number of units}`` (0 = never
    treated is not a cohort). Flag them in the report: see ``small_cohort_note``."""
    per_unit = panel.dropna(subset=[first_treated]).groupby(unit, observed=True)[first_treated].first().astype(float)
    counts = per_unit[per_unit > 0].value_counts()
    return {int(g): int(k) for g, k in sorted(counts.items()) if k <= max_size}


def small_cohort_note(cohorts: dict[int, int]) -> tuple[str, str]:
    """(vi, en) sentence flagging cohorts of one or two schools; empty strings when there are none."""
    if not cohorts:
        return "", ""
    txt = ", ".join(f"{g} ({k})" for g, k in cohorts.items())
    return (f"Các năm bắt đầu chỉ có một hoặc hai trường (năm (số trường): {txt}): ước lượng của các nhóm này dựa "
            "vào biến động riêng của một hai trường; sai số chuẩn dùng jackknife bỏ từng trường để tính biến động đó.",
            f"Adoption years with one or two schools (year (schools): {txt}): these cohorts' estimates rest on one or "
            "two schools' own noise; the delete-one-school jackknife standard error carries it (the analytic one "
            "leaves it out).")
