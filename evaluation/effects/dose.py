"""Dose response: the two-way fixed-effects linear model with a continuous exposure."""
from __future__ import annotations


import pandas as pd


__all__ = ["dose_response", "DOSE_ASSUMPTIONS"]
from evaluation.effects.twfe import TwfeResults, twfe


# ----------------------------------------------------------------------------------------
# dose
# ----------------------------------------------------------------------------------------
DOSE_ASSUMPTIONS = (
    "linearity: each additional unit of dose changes the rate by the same amount at every dose level",
    "no anticipation: the rate does not respond to a dose before it is received",
    "strong parallel trends (Callaway, Goodman-Bacon & Sant'Anna 2024): units at every dose would have "
    "followed the same trend as units at every other dose had they received it, so that comparisons across "
    "doses identify causal responses rather than selection into dose",
    "effects do not vary with time since first exposure (otherwise the two-way regression weights them "
    "with possibly negative weights, as with binary staggered adoption)",
)


def dose_response(data: pd.DataFrame, *, outcome: str = "rate", dose: str = "counselors_per_100",
                  unit: str = "school_id", time: str = "year", weights: str | None = "graduates",
                  cluster: str | None = "school_id", ssc_fixef_k: str = "nested",
                  drop_singletons: bool = True) -> TwfeResults:
    """Continuous-exposure two-way fixed-effects slope: change in the rate per unit of ``dose``.

    ``dose`` is the analysis panel's ``counselors_per_100`` (trained counselors per 100
    graduates) or ``share_counseled`` (students counseled / graduates, a fraction). The slope is
    in outcome units per dose unit (a rate per counselor per 100 graduates, or per 100 % of
    students counseled); ``to_frame(pp=True)`` gives percentage points per dose unit. Rows with a
    missing dose (counseling row missing) are dropped and counted in ``info["dropped_rows"]``.

    The slope is a causal average response only under these assumptions (stated in the notes):
    linearity; no anticipation; *strong* parallel trends across doses (Callaway, Goodman-Bacon &
    Sant'Anna 2024, "Difference-in-differences with a continuous treatment") -- standard parallel
    trends only identifies the average effect of the dose received, and slope comparisons then mix
    causal responses with selection into dose; and effects that do not change with exposure time.
    Same estimator and covariance as :func:`twfe` with ``model="lpm"``.
    """
    res = twfe(data, outcome=outcome, treatment=dose, unit=unit, time=time, weights=weights, cluster=cluster,
               model="lpm", ssc_fixef_k=ssc_fixef_k, drop_singletons=drop_singletons)
    estimand = f"average causal response: change in {outcome} per unit of {dose} (linear, strong parallel trends)"
    info = dict(res.info)
    info["estimand"] = estimand
    return TwfeResults(estimator="twfe_dose", estimand=estimand, params=res.params, std_errors=res.std_errors,
                       df=res.df, cov_type=res.cov_type, info=info,
                       notes=res.notes + tuple("Assumption: " + a for a in DOSE_ASSUMPTIONS), model=res.model)


