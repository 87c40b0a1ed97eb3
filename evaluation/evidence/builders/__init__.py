"""One builder per evidence table, grouped by the review section that makes it.

Each builder takes indicator frames or results objects (never copied numbers) and returns a
checked :class:`~evaluation.evidence.EvidenceTable` with its notes.
"""
from ._common import apply_suppression, value_label
from .equity import equity_gaps_table
from .estimates import effect_overall_table, event_study_table, pretrend_sensitivity_table, trend_table
from .plan import labour_alignment_table, projections_table, vocational_network_table
from .quality import data_quality_table
from .uptake import coverage_by_year_table, uptake_by_commune_table, uptake_by_group_table, uptake_by_year_table

__all__ = ["apply_suppression", "value_label", "equity_gaps_table", "effect_overall_table", "event_study_table",
           "trend_table", "pretrend_sensitivity_table", "labour_alignment_table", "projections_table", "vocational_network_table",
           "data_quality_table", "coverage_by_year_table", "uptake_by_commune_table", "uptake_by_group_table",
           "uptake_by_year_table"]
