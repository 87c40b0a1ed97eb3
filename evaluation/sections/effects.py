"""Section 05 · counseling effects: the effect of a trained counselor on uptake
(``effect_overall``, ``event_study``), with the checks a reader needs to trust it."""
from __future__ import annotations

import pandas as pd

from ..data import CohortData
from ..effects import dose_response, event_study, heterogeneity, recommend, staggered_did, twfe
from ..effects.bacon import bacon_decomposition
from ..effects.honest import cs_pretrend_sensitivity
from ..effects.recommend import small_cohort_note, small_cohorts
from ..evidence import effect_overall_table, event_study_table, pretrend_sensitivity_table
from ..params import ReviewParams
from ..research_tables import regression_table
from ..status import NotEstimable
from .base import Review, SectionResult, attempt, level_mde, level_mde_pp, present_levels

NOTEBOOK = "05_counseling_effects.ipynb"


def counseling_effects(cohort: CohortData, params: ReviewParams, *, review: Review | None = None,
                       figures: bool = True, details: bool = True) -> SectionResult:
    """Per level: the estimator the review reports (``effects.recommend``), two-way fixed effects
    (``effects.twfe``) with its wild cluster bootstrap, Callaway-Sant'Anna (``effects.staggered_did``
    with the inference ``recommend`` chooses: the delete-one-school jackknife, t(G-1))
    and the event study
    (``effects.event_study``) -> ``effect_overall`` and ``event_study``; figure ``event_study``.

    ``details`` adds what the notebook shows beside the tables: heterogeneity by Khmer commune,
    ethnic boarding school and sex, the dose response and the minimum detectable effect.
    """
    review = Review.of(cohort, params, review)
    p, panels = params, review.panels
    out = SectionResult("counseling_effects", NOTEBOOK)
    levels = present_levels(review)  # a level without graduates in the data has no rows
    recommendations = {level: recommend(panels[level], prefer_control=p.control_group) for level in levels}
    # an estimate the data cannot give is a NotEstimable (the table's row says why), never a failed review
    twfe_fits = {level: attempt(twfe, panels[level], cov_type="cluster") for level in levels}
    did_fits = {level: attempt(staggered_did, panels[level], outcome="rate", unit="school_id", time="year",
                               group="first_covered", control=recommendations[level].control or p.control_group,
                               inference=recommendations[level].inference)
                for level in levels}
    events = {level: attempt(event_study, panels[level], cov_type="cluster") for level in levels}
    # few-cluster inference: wild cluster bootstrap (WCR, Rademacher) of the TWFE estimate;
    # bootstrap_reps = 0 means none (the table then has no wild_* columns)
    boots = {level: attempt(twfe_fits[level].wild_bootstrap, reps=p.bootstrap_reps, seed=p.seed, pp=True)
             for level in levels if not isinstance(twfe_fits[level], NotEstimable)} if p.bootstrap_reps > 0 else {}
    boots = {k: v for k, v in boots.items() if not isinstance(v, NotEstimable)}
    pretrends = {level: (None if isinstance(events[level], NotEstimable) else events[level].pretrend) for level in levels}
    # TWFE is a diagnostic: why it differs (Goodman-Bacon weights), and the cohorts of one or two schools
    diag_vi, diag_en, bacon = [], [], {}
    for level in levels:
        try:  # a panel without variation in coverage has nothing to decompose
            decomposition = bacon_decomposition(panels[level])
        except ValueError:
            decomposition = None
        if decomposition is not None and not isinstance(did_fits[level], NotEstimable):
            bacon[level] = decomposition
            sent = decomposition.sentences(reported_pp=100 * float(did_fits[level].params["ATT"]))
            diag_vi.append(f"{level}: {sent['vi']}")
            diag_en.append(f"{level}: {sent['en']}")
        small_vi, small_en = small_cohort_note(small_cohorts(panels[level]))
        if small_en:
            diag_vi.append(f"{level}: {small_vi}")
            diag_en.append(f"{level}: {small_en}")
    out.add(effect_overall_table(
        [(level, name, fit, panels[level]["school_id"].nunique(), len(panels[level]))
         for level in levels for name, fit in (("twfe", twfe_fits[level]), ("callaway_santanna", did_fits[level]))],
        recommendations, _few_school_reasons(review, levels, recommendations), pretrend=pretrends,
        wild_bootstrap={(level, "twfe"): boots[level] for level in boots},
        notebook=NOTEBOOK, synthetic=review.synthetic, notes_vi=diag_vi, notes_en=diag_en,
        mde_pp={level: level_mde_pp(review, level) for level in levels}))
    event_table = out.add(event_study_table(
        [(level, name, fit) for level in levels
         for name, fit in (("twfe", events[level]), ("callaway_santanna", did_fits[level]))],
        pretrend={(level, "twfe"): pretrends[level] for level in levels},
        notebook=NOTEBOOK, synthetic=review.synthetic))
    # Rambachan-Roth bounds on the recommended (Callaway-Sant'Anna) event-study effect
    sens = pd.concat([cs_pretrend_sensitivity(panels[level], level,
                                              control=recommendations[level].control or p.control_group,
                                              inference=recommendations[level].inference)
                      for level in levels], ignore_index=True)
    out.add(pretrend_sensitivity_table(sens, notebook=NOTEBOOK, synthetic=review.synthetic))
    out.displays.update(recommendations=recommendations, wild_bootstrap=boots, bacon=bacon)
    fitted = {f"{level} {name}": fit for level in levels
              for name, fit in (("TWFE", twfe_fits[level]), ("CS", did_fits[level])) if not isinstance(fit, NotEstimable)}
    if fitted:  # the estimates side by side, esttab-style (estimate, SE in parentheses, N, clusters, FE rows)
        out.displays["regression_table"] = regression_table(
            fitted, terms=["treated", "ATT"], lang=p.lang,
            labels={"treated": "TWFE: có GV tư vấn" if p.lang == "vi" else "TWFE: covered",
                    "ATT": "Callaway-Sant'Anna: ATT"})
    if details:
        out.displays.update(_details(review))
    if figures:
        from .. import figures as fg

        out.figures["event_study"] = fg.event_study_plot(event_table.data, p.lang)
    return out


def _details(review: Review) -> dict[str, object]:
    from ..panel import school_year_group_panel

    p, panels, cohort = review.params, review.panels, review.cohort
    levels = present_levels(review)
    shown: dict[str, object] = {
        "heterogeneity": {(level, by): attempt(heterogeneity, panels[level], by=by)
                          for level in levels for by in ("khmer_commune", "ethnic_boarding")}}
    if "sex" in cohort.graduates.columns:
        shown["heterogeneity_by_sex"] = {
            level: attempt(heterogeneity, school_year_group_panel(cohort, level=level, by="sex", panel=panels[level],
                                                                  unknown_in_denominator=p.unknown_in_denominator,
                                                                  targets=review.targets), by="sex")
            for level in levels}
    else:
        shown["heterogeneity_by_sex"] = "no sex breakdown in the data / dữ liệu không chia theo giới"
    shown["dose_response"] = {level: attempt(dose_response, panels[level], dose="counselors_per_100")
                              for level in levels}
    shown["minimum_detectable_effect"] = {level: attempt(level_mde, review, level) for level in levels}
    return shown


def _few_school_reasons(review: Review, levels: list[str], recommendations: dict) -> dict[str, dict[str, str]]:
    """The reported reason of a level with a single school: that, in words, rather than the adoption rule."""
    out: dict[str, dict[str, str]] = {}
    for level in levels:
        n = int(review.panels[level]["school_id"].nunique())
        if n < 2 and recommendations[level].estimator == "none":
            out[level] = {"vi": f"chỉ có {n} trường {level}: chưa đủ số trường để ước lượng tác động của giáo viên tư "
                                f"vấn (cần các trường được và chưa được bao phủ để so sánh)",
                          "en": f"only {n} {level} school: too few schools to estimate the effect of a trained "
                                "counselor (covered and not yet covered schools are needed for a comparison)"}
    return out
