"""The review as library functions: one function per section, and every evidence table in process.

Each section takes the validated cohort and the parameters and returns its evidence tables and
figures as objects (:class:`SectionResult`); it writes nothing. The notebooks call these functions
and display what they return; the runner writes what they return into the bundle.

=========================  ===============================  ==========================================
section function           notebook                         evidence tables
=========================  ===============================  ==========================================
``data_quality``           01_data_quality                  data_quality
``uptake_and_targets``     02_uptake_and_targets            uptake_by_year, uptake_by_commune, uptake_by_group
``counseling_coverage``    03_counseling_coverage           coverage_by_year
``trends_and_projections`` 04_trends_and_projections        trend, projections
``counseling_effects``     05_counseling_effects            effect_overall, event_study
``equity``                 06_equity                        equity_gaps
``labour_and_network``     07_labour_and_network            labour_alignment, vocational_network (optional inputs)
``review_summary``         99_review_summary                findings
=========================  ===============================  ==========================================

For researchers: :func:`evidence_tables` returns every table of the bundle for a cohort folder,
with the values the bundle's CSVs hold for the same inputs::

    from evaluation.sections import evidence_tables
    tables = evidence_tables("data/sample", bootstrap_reps=99)
    tables["effect_overall"]
"""
from .api import SECTIONS, TABLE_SECTIONS, evidence_tables, run_sections
from .base import Review, SectionResult
from .coverage import counseling_coverage
from .effects import counseling_effects
from .equity import equity
from .labour import labour_and_network
from .quality import data_quality
from .summary import review_summary
from .trends import trends_and_projections
from .uptake import uptake_and_targets

__all__ = ["evidence_tables", "run_sections", "SECTIONS", "TABLE_SECTIONS", "Review", "SectionResult",
           "data_quality", "uptake_and_targets", "counseling_coverage", "trends_and_projections",
           "counseling_effects", "equity", "labour_and_network", "review_summary"]
