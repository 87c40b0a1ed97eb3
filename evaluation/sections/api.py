"""``evidence_tables``: every evidence table of the review, in process, as the bundle holds it."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pandas as pd

from ..data import CohortData
from ..evidence import EvidenceTable, frame_from_csv_bytes
from ..params import ReviewParams, load_params
from .base import Review, SectionResult
from .coverage import counseling_coverage
from .effects import counseling_effects
from .equity import equity
from .labour import labour_and_network
from .quality import data_quality
from .summary import review_summary
from .trends import trends_and_projections
from .uptake import uptake_and_targets

#: The review's sections in the order of the report (the summary, which reads their tables, comes last).
SECTIONS: dict[str, Callable[..., SectionResult]] = {
    "data_quality": data_quality,
    "uptake_and_targets": uptake_and_targets,
    "counseling_coverage": counseling_coverage,
    "trends_and_projections": trends_and_projections,
    "counseling_effects": counseling_effects,
    "equity": equity,
    "labour_and_network": labour_and_network,
}

#: Table id -> the section function that makes it (the README's map from a number to its code).
TABLE_SECTIONS: dict[str, str] = {
    "data_quality": "data_quality",
    "uptake_by_year": "uptake_and_targets", "uptake_by_commune": "uptake_and_targets",
    "uptake_by_group": "uptake_and_targets",
    "coverage_by_year": "counseling_coverage",
    "trend": "trends_and_projections", "projections": "trends_and_projections",
    "effect_overall": "counseling_effects", "event_study": "counseling_effects",
    "pretrend_sensitivity": "counseling_effects",
    "equity_gaps": "equity",
    "labour_alignment": "labour_and_network", "vocational_network": "labour_and_network",
    "findings": "review_summary",
}


def as_published(table: EvidenceTable) -> pd.DataFrame:
    """The table exactly as the bundle's CSV holds it, read back with ``evidence.read_table``'s types
    (the CSV bytes are made in memory; nothing is written)."""
    return frame_from_csv_bytes(table.to_csv_bytes(), table.meta()["columns"])


def run_sections(cohort: CohortData, params: ReviewParams, *, figures: bool = False,
                 details: bool = False) -> dict[str, SectionResult]:
    """Run every section in process on one cohort, sharing the derived tables (one :class:`Review`);
    the summary last, from the other sections' tables as published. Returns section name -> result."""
    review = Review(cohort, params)
    results: dict[str, SectionResult] = {}
    for name, section in SECTIONS.items():
        kw: dict[str, Any] = {"review": review, "figures": figures}
        if name == "counseling_effects":
            kw["details"] = details
        results[name] = section(cohort, params, **kw)
    published = {tid: as_published(t) for r in results.values() for tid, t in r.tables.items()}
    results["review_summary"] = review_summary(published, synthetic=review.synthetic, lang=params.lang)
    return results


def evidence_tables(data: str | Path | CohortData, params: str | Path | ReviewParams | None = None,
                    **overrides: Any) -> dict[str, pd.DataFrame]:
    """Every evidence table of the review, keyed by table id, computed in process; writes nothing.

    ``data``: a cohort folder (validated and loaded as the runner does: invalid data raises
    ``evaluation.data.CohortValidationError`` listing every problem) or an already loaded
    ``CohortData``. ``params``: a parameters file (default: the shipped
    ``params/cang_long_2018_2025.yaml``) or a ``ReviewParams``; ``overrides``: any parameter keys
    (``bootstrap_reps=99``, ``min_cell=10``, ...; an unknown key is an error naming it).

    The frames hold exactly the values the bundle's ``evidence/<id>.csv`` holds for the same inputs
    and parameters (the same writer makes the CSV bytes, read back with ``evidence.read_table``'s
    types). Tables of sections whose optional inputs are absent are not in the result.
    """
    from ..data import load_cohort
    from ..params import DEFAULT_PARAMS_FILE, parse_params
    from ..sample import ensure_sample

    if isinstance(params, ReviewParams):
        p = parse_params({**params.to_yaml_dict(), **overrides}, source="evidence_tables(params=...)")
    else:
        p = load_params(DEFAULT_PARAMS_FILE if params is None else params, **overrides)
    if isinstance(data, CohortData):
        cohort = data
    else:
        if Path(data).resolve() != p.data_path.resolve():
            p = parse_params({**p.to_yaml_dict(), "data": str(Path(data).resolve())}, source="evidence_tables(data=...)")
        ensure_sample(p)
        cohort = load_cohort(p.data_path, years=p.years, unknown_share_warning=p.unknown_share_warning)
    results = run_sections(cohort, p)
    out: dict[str, pd.DataFrame] = {}
    for r in results.values():
        for tid, table in r.tables.items():
            out[tid] = as_published(table)
    return out
