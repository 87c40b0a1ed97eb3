"""Effect estimators: each takes the analysis table as it is and returns a read-only results object."""
from evaluation.effects.did import AggregateResults, DiDInputError, StaggeredDiDResults, staggered_did

__all__ = ["staggered_did", "StaggeredDiDResults", "AggregateResults", "DiDInputError"]
