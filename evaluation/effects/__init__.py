"""Effect estimators: each takes the analysis table as it is and returns a read-only results object."""
from evaluation.effects.did import AggregateResults, DiDInputError, StaggeredDiDResults, staggered_did
from evaluation.effects.twfe import TwfeResults, twfe
from evaluation.effects.dose import dose_response
from evaluation.effects.heterogeneity import heterogeneity
from evaluation.effects.event_study import EventStudyResults, event_study
from evaluation.effects.bootstrap import BootstrapResult, wild_cluster_bootstrap
from evaluation.effects.recommend import Recommendation, recommend

__all__ = ["staggered_did", "StaggeredDiDResults", "AggregateResults", "DiDInputError",
           "twfe", "TwfeResults", "dose_response", "heterogeneity", "event_study", "EventStudyResults",
           "wild_cluster_bootstrap", "BootstrapResult", "recommend", "Recommendation"]
