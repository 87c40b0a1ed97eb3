"""Read-only results objects shared by every estimator.

A results object exposes ``params``, ``std_errors``, ``pvalues``, ``conf_int(level)``, a
``summary`` that renders as text and as HTML, and a tidy ``to_frame()`` with fixed column
names; it keeps the underlying fitted model (statsmodels or arrays) as ``model``.

Units: estimates are stored in the outcome's own units (a rate is a fraction 0..1).
``to_frame(pp=True)`` converts a rate effect to percentage points and names the columns as
the output contract does (``estimate_pp, std_error, ci_low, ci_high, p_value``).
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Mapping, NamedTuple, Protocol, runtime_checkable

import numpy as np
import pandas as pd
from scipy import stats

TIDY_COLUMNS = ("term", "estimate", "std_error", "ci_low", "ci_high", "p_value")
TIDY_COLUMNS_PP = ("term", "estimate_pp", "std_error", "ci_low", "ci_high", "p_value")


def _readonly(s: pd.Series) -> pd.Series:
    """A float Series whose buffer cannot be written (results objects are read-only)."""
    arr = np.array(s.to_numpy(dtype=float), dtype=float, copy=True)
    arr.flags.writeable = False
    return pd.Series(arr, index=s.index.copy(), name=s.name, copy=False)


@dataclass(frozen=True)
class TestResult:
    """A hypothesis test: statistic, p-value, degrees of freedom and the null it tests."""

    __test__ = False  # a results object, not a pytest test class

    name: str
    statistic: float
    p_value: float
    df: float | tuple[float, float] | None
    null: str
    distribution: str = "chi2"
    #: ``"ok"`` or ``"not_estimable"`` (statistic and p-value NaN; ``reason_vi``/``reason_en`` say why).
    status: str = "ok"
    reason_vi: str = ""
    reason_en: str = ""

    @property
    def computable(self) -> bool:
        """False when the test could not be computed (``status != "ok"`` or a NaN p-value)."""
        return self.status == "ok" and bool(np.isfinite(self.p_value))

    def __str__(self) -> str:
        if not self.computable:
            return f"{self.name}: not computable ({self.reason_en or 'no reason given'})"
        df = f", df={self.df}" if self.df is not None else ""
        return f"{self.name}: {self.distribution} = {self.statistic:.4g}{df}, p = {self.p_value:.4g} (H0: {self.null})"

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(str(self))}</p>"

    def to_dict(self) -> dict[str, Any]:
        return {"test": self.name, "statistic": self.statistic, "p_value": self.p_value,
                "df": self.df, "null": self.null, "distribution": self.distribution, "status": self.status,
                "reason_vi": self.reason_vi, "reason_en": self.reason_en}


@dataclass(frozen=True)
class Summary:
    """Text and HTML rendering of a results object (``print(res.summary)`` or display it)."""

    title: str
    table: pd.DataFrame
    notes: tuple[str, ...] = ()

    def as_text(self) -> str:
        lines = [self.title, "=" * len(self.title), self.table.to_string(float_format=lambda v: f"{v:.4f}")]
        lines += [f"Note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.as_text()

    def as_html(self) -> str:
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in self.notes)
        return (f"<div><strong>{html.escape(self.title)}</strong>"
                f"{self.table.to_html(float_format=lambda v: f'{v:.4f}')}"
                f"<ul>{notes}</ul></div>")

    def _repr_html_(self) -> str:
        return self.as_html()


class Reported(NamedTuple):
    """What an evidence table reports from a results object: ``frame``, a tidy frame in percentage
    points (``estimate_pp``, ``std_error``, ``ci_low``, ``ci_high``, ``p_value``; one row per term,
    or per event time for ``kind="dynamic"``), and ``facts``, the :class:`EstimateResults` whose
    ``info`` and ``tests`` describe it (N, clusters, comparison group, pre-trend tests)."""

    frame: pd.DataFrame
    facts: "EstimateResults"


@runtime_checkable
class Results(Protocol):
    """The interface every estimator's results object implements (``EstimateResults`` and its
    subclasses, ``StaggeredDiDResults``, ``AggregateResults``, ``BootstrapResult``).

    ``params``/``std_errors``/``pvalues`` by term, ``conf_int(level)``, a tidy ``to_frame(pp=)``,
    a ``summary`` that renders as text and HTML, ``_repr_html_`` for JupyterLab, and
    ``reported(kind)``: what an evidence table takes from it (``kind`` ``"simple"`` for one overall
    effect, ``"dynamic"`` for effects by event time). The evidence builders use only this.
    """

    @property
    def params(self) -> pd.Series: ...

    @property
    def std_errors(self) -> pd.Series: ...

    @property
    def pvalues(self) -> pd.Series: ...

    def conf_int(self, level: float = 0.95) -> pd.DataFrame: ...

    def to_frame(self, *, pp: bool = False) -> pd.DataFrame: ...

    @property
    def summary(self) -> "Summary": ...

    def _repr_html_(self) -> str: ...

    def reported(self, kind: str = "simple") -> Reported: ...


@dataclass(frozen=True)
class EstimateResults:
    """Point estimates with standard errors for a set of named terms.

    ``df`` is the degrees of freedom of the reference t distribution (``None``: normal).
    ``info`` holds descriptive facts (n_obs, n_units, n_clusters, comparison group, ...)
    in a read-only mapping; ``tests`` the hypothesis tests that go with the estimates.
    """

    estimator: str
    estimand: str
    params: pd.Series
    std_errors: pd.Series
    df: float | None = None
    cov_type: str = ""
    info: Mapping[str, Any] = field(default_factory=dict)
    tests: Mapping[str, TestResult] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    model: Any = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", _readonly(pd.Series(self.params, dtype=float)))
        object.__setattr__(self, "std_errors", _readonly(pd.Series(self.std_errors, dtype=float).reindex(self.params.index)))
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))
        object.__setattr__(self, "tests", MappingProxyType(dict(self.tests)))
        object.__setattr__(self, "notes", tuple(self.notes))

    # -- inference ---------------------------------------------------------------------
    def _dist(self):
        return stats.norm if self.df is None else stats.t(self.df)

    @property
    def tvalues(self) -> pd.Series:
        return self.params / self.std_errors

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * self._dist().sf(np.abs(self.tvalues)), index=self.params.index)

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        q = self._dist().ppf(0.5 + level / 2)
        return pd.DataFrame({"ci_low": self.params - q * self.std_errors,
                             "ci_high": self.params + q * self.std_errors})

    # -- presentation ------------------------------------------------------------------
    def to_frame(self, *, pp: bool = False, level: float = 0.95) -> pd.DataFrame:
        """Tidy frame: one row per term with the fixed columns ``TIDY_COLUMNS``.

        With ``pp=True`` estimates, errors and bounds are multiplied by 100 (a rate effect in
        percentage points) and the estimate column is named ``estimate_pp``.
        """
        ci = self.conf_int(level)
        k = 100.0 if pp else 1.0
        out = pd.DataFrame({
            "term": self.params.index.astype(str),
            "estimate": self.params.to_numpy() * k,
            "std_error": self.std_errors.to_numpy() * k,
            "ci_low": ci["ci_low"].to_numpy() * k,
            "ci_high": ci["ci_high"].to_numpy() * k,
            "p_value": self.pvalues.to_numpy(),
        })
        if pp:
            out = out.rename(columns={"estimate": "estimate_pp"})
        return out

    def reported(self, kind: str = "simple") -> Reported:
        """Every term in percentage points, with this object as the facts (see :class:`Results`)."""
        return Reported(self.to_frame(pp=True), self)

    @property
    def summary(self) -> Summary:
        table = self.to_frame().set_index("term")
        facts = [f"{k}: {v}" for k, v in self.info.items()]
        tests = [str(t) for t in self.tests.values()]
        title = f"{self.estimator} — {self.estimand}" + (f" [{self.cov_type}]" if self.cov_type else "")
        return Summary(title=title, table=table, notes=tuple(facts + tests + list(self.notes)))

    def __str__(self) -> str:
        return self.summary.as_text()

    def _repr_html_(self) -> str:
        return self.summary.as_html()
