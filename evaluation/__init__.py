"""Review toolkit for vocational streaming after THCS/THPT and school career counseling.

Data flows one way: cohort folder -> ``data.load_cohort`` (validated, typed tables) ->
``panel`` (one analysis table per unit) -> ``indicators`` / ``trends`` / ``effects`` ->
``evidence`` tables -> ``report``. The runner (``runner.run_review``) executes the notebooks
that call these steps and writes the evidence bundle.
"""
__version__ = "0.1.0"
