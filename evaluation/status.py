"""The status convention of every estimate the review reports.

Every table that carries an estimate (``trend``, ``effect_overall``, ``event_study``,
``equity_gaps``, ``projections``, ...) has a ``status`` column and a short reason in Vietnamese
and English (``reason_vi``, ``reason_en``):

``ok``
    a finite estimate with a finite interval.
``not_estimable``
    the data cannot give this estimate (too few schools, no comparison schools, one cohort, no
    variation, collinear terms, no graduates, ...). Estimate and interval are empty.
``not_informative``
    estimable, but the 95 % interval is too wide to say anything useful: its half-width exceeds
    ``max(minimum detectable effect, NOT_INFORMATIVE_PP)`` percentage points (see
    :func:`informative_status`). The estimate is shown, findings say it is not conclusive.

An estimator that cannot produce an estimate raises :class:`NotEstimable` (a ``ValueError``, so
older callers that caught ``ValueError`` keep working) carrying both reasons; a section catches it
and turns it into a row with ``status = not_estimable`` instead of failing the review.
"""
from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["OK", "NOT_ESTIMABLE", "NOT_INFORMATIVE", "STATUSES", "NotEstimable", "informative_status",
           "NOT_INFORMATIVE_PP", "status_fields", "REASONS"]

OK = "ok"
NOT_ESTIMABLE = "not_estimable"
NOT_INFORMATIVE = "not_informative"
STATUSES = (OK, NOT_ESTIMABLE, NOT_INFORMATIVE)

#: Floor of the "too wide" rule in percentage points: an interval of +-10 pp on an uptake rate of
#: 20-40 % cannot tell a useful effect (the 2018-2025 targets move uptake by a few pp a year) from none.
NOT_INFORMATIVE_PP = 10.0


class NotEstimable(ValueError):
    """An estimate the data cannot give; ``reason_vi``/``reason_en`` say why in words for a reader."""

    def __init__(self, reason_vi: str, reason_en: str, *, code: str = ""):
        super().__init__(reason_en)  # the message names the function (``twfe: ...``) for a developer
        self.reason_vi = reason_vi
        self.reason_en = re.sub(r"^[a-z_]+: ", "", reason_en)  # a reader gets the reason without it
        self.code = code

    def fields(self) -> dict[str, str]:
        """``{"status": "not_estimable", "reason_vi": ..., "reason_en": ...}`` for a table row."""
        return status_fields(NOT_ESTIMABLE, self.reason_vi, self.reason_en)


#: Reasons shared by several estimators: code -> (vi, en).
REASONS: dict[str, tuple[str, str]] = {
    "too_few_schools": ("chưa đủ số trường để ước lượng", "too few schools to estimate"),
    "no_comparison": ("không có trường so sánh (chưa được bao phủ) để ước lượng tác động",
                      "no comparison schools (not yet covered) to estimate the effect"),
    "no_treated": ("không có trường nào được bao phủ tư vấn trong các năm có dữ liệu",
                   "no school is covered by a trained counselor in any year of the data"),
    "one_cohort": ("chỉ có một năm dữ liệu (một khóa tốt nghiệp)", "only one year (one graduating cohort) of data"),
    "no_variation": ("không có biến thiên trong dữ liệu", "no variation in the data"),
    "collinear": ("các biến giải thích trùng lặp tuyến tính", "the explanatory terms are collinear"),
    "no_graduates": ("không có học sinh tốt nghiệp", "no graduates"),
    "no_pre_period": ("không có năm nào trước khi bao phủ", "no year before coverage started"),
    "bootstrap_off": ("không chạy bootstrap (bootstrap_reps = 0)", "no bootstrap run (bootstrap_reps = 0)"),
}


def not_estimable(code: str, detail_vi: str = "", detail_en: str = "") -> NotEstimable:
    """A :class:`NotEstimable` with a shared reason (``REASONS[code]``) and optional details."""
    vi, en = REASONS[code]
    return NotEstimable(vi + (f" ({detail_vi})" if detail_vi else ""), en + (f" ({detail_en})" if detail_en else ""),
                        code=code)


def status_fields(status: str, reason_vi: str = "", reason_en: str = "") -> dict[str, str]:
    if status not in STATUSES:
        raise ValueError(f"status {status!r}: expected one of {', '.join(STATUSES)}")
    return {"status": status, "reason_vi": reason_vi, "reason_en": reason_en}


def _finite(*xs: Any) -> bool:
    try:
        return all(x is not None and math.isfinite(float(x)) for x in xs)
    except (TypeError, ValueError):
        return False


def informative_status(estimate_pp: Any, ci_low_pp: Any, ci_high_pp: Any, *, mde_pp: Any = None,
                       bound_pp: float = NOT_INFORMATIVE_PP) -> dict[str, str]:
    """Status of one estimate in percentage points (``estimate_pp`` with its 95 % interval).

    - not finite estimate or interval -> ``not_estimable``;
    - interval half-width > ``max(mde_pp, bound_pp)`` -> ``not_informative`` (an interval wider than the
      smallest effect the design could detect, and wider than a plausible effect of +-``bound_pp``, cannot
      tell an effect worth having from none; ``mde_pp`` None or not finite: ``bound_pp`` alone);
    - otherwise ``ok``.
    Returns ``{"status", "reason_vi", "reason_en"}``.
    """
    if not _finite(estimate_pp, ci_low_pp, ci_high_pp):
        return status_fields(NOT_ESTIMABLE, "ước lượng hoặc khoảng tin cậy không xác định",
                             "the estimate or its interval is undefined")
    half = (float(ci_high_pp) - float(ci_low_pp)) / 2.0
    limit = float(bound_pp)
    if _finite(mde_pp):
        limit = max(limit, float(mde_pp))
    if half > limit:
        return status_fields(
            NOT_INFORMATIVE,
            f"khoảng tin cậy 95 % quá rộng (±{half:.1f} điểm %, ngưỡng ±{limit:.1f}): chưa kết luận được",
            f"the 95 % interval is too wide (±{half:.1f} pp, threshold ±{limit:.1f}): nothing can be concluded")
    return status_fields(OK)


#: The "too wide" bound of each estimate table (percentage points, or pp per year for ``trend``); see
#: :func:`informative_status`. A trend whose 95 % interval spans more than +-2 pp a year cannot tell the
#: plan's pace (about +1 pp a year) from none; effects, gaps and projected rates use +-10 pp.
TABLE_BOUNDS_PP: dict[str, float] = {"trend": 2.0, "effect_overall": NOT_INFORMATIVE_PP,
                                     "event_study": NOT_INFORMATIVE_PP, "equity_gaps": NOT_INFORMATIVE_PP,
                                     "projections": NOT_INFORMATIVE_PP}


def add_status(frame, *, estimate: str, ci_low: str = "ci_low", ci_high: str = "ci_high", scale: float = 1.0,
               bound_pp: float = NOT_INFORMATIVE_PP, mde_pp: Any = None, reference: str | None = None):
    """``frame`` with ``status``, ``reason_vi``, ``reason_en`` filled where ``status`` is empty (rows that
    already carry a status keep it): :func:`informative_status` of ``estimate`` and its interval times
    ``scale`` (100 for fractions); rows flagged by the boolean column ``reference`` are normalised
    reference periods (``not_estimable``, "reference period, normalised to 0"). Returns a copy."""
    out = frame.copy()
    for c in ("status", "reason_vi", "reason_en"):
        if c not in out.columns:
            out[c] = None
    for i in range(len(out)):
        if isinstance(out["status"].iat[i], str) and out["status"].iat[i]:
            continue
        if reference is not None and reference in out.columns and bool(out[reference].iat[i]):
            st = status_fields(NOT_ESTIMABLE, "kỳ tham chiếu, chuẩn hóa bằng 0", "reference period, normalised to 0")
        else:
            v = [out[c].iat[i] for c in (estimate, ci_low, ci_high)]
            v = [float(x) * scale if _finite(x) else float("nan") for x in v]
            st = informative_status(*v, mde_pp=mde_pp, bound_pp=bound_pp)
        for k, val in st.items():
            out.iat[i, out.columns.get_loc(k)] = val
    for c in ("reason_vi", "reason_en"):
        out[c] = out[c].fillna("").astype(str)
    out["status"] = out["status"].astype(str)
    return out


def clip_interval_pp(frame, cols=("ci_low", "ci_high"), bound: float = 100.0):
    """Interval bounds in percentage points clipped to the possible range -100..100 (a difference of two
    rates cannot lie outside it). Call after :func:`add_status`, whose width test sees the unclipped interval
    (such a row is ``not_informative``). Returns a copy."""
    out = frame.copy()
    for c in cols:
        if c in out.columns:
            out[c] = out[c].astype(float).clip(-bound, bound)
    return out
