"""Districts unlike the shipped sample, for tests and benchmarks: seeded, valid cohort folders with knobs.

The shipped sample (``evaluation.sample``) is one district of a fixed design. A district office may
have one THPT school, no school that was never covered, every school covered in the same year,
schools that open, close, merge (the 2025 commune merger) or miss a year, a year without graduates,
no Khmer students, or much smaller cohorts. ``DistrictSpec`` sets each of these; ``write_district``
writes a cohort folder that passes ``python -m evaluation validate``; ``FAMILIES`` names the cases the
robustness tests and ``benchmarks/bench_completion.py`` run over, and ``family_spec(name, seed)``
draws one district of a family.

Data-generating process (per level; rates are fractions, ``*_pp`` percentage points)
    Communes: the sample's 14 Càng Long units and synthetic Khmer shares (``sample.make_communes``);
    ``no_khmer`` sets every share to 0 (no Khmer graduate at all). Schools: ``sample.make_schools``
    (THCS spread over the communes, THPT in the sample's pattern), plus an optional DTNT school
    (levels THCS,THPT) and an optional tiny THCS school (3-10 graduates a year) alone in a commune.
    Cohorts: graduates ~ Poisson(mu), mu uniform on the sample's ranges times ``size`` (THCS 100-220,
    THPT 250-450, DTNT 40-70); split by sex (F 0.49 / 0.53) and ethnicity (the commune's Khmer share,
    hoa 0.01, other 0.005, kinh the rest) multinomially.
    Uptake: ``P(voc) = base_s + trend*(year - first) + dip*[2020, 2021] + shock_year + u_{s,year}
    + effect(e) + delta_s*[e >= 0] + khmer_gap*[khmer] + female_gap*[F]``, clipped to [0.01, 0.99];
    base_s ~ N(base, 4 pp); ``shock_year`` ~ N(0, ``shock_sd_pp``) shared by every school of the
    district; ``u`` an AR(1) school noise with ``ar_rho`` and marginal sd ``ar_sd_pp``;
    ``effect(e) = effect_pp + effect_slope_pp * min(e, 5)`` for ``e = year - first_covered >= 0``;
    ``delta_s`` ~ N(0, ``effect_sd_pp``) (effects that vary by school). Vocational graduates get
    the sample's vocational destinations, the others its non-vocational ones; then each destination
    is lost (``unknown``) with probability 3 %.
    Counseling: absorbing adoption; ``adoption = "staggered"`` (``n_never`` never-covered schools per
    level, ``n_always`` covered from the first year, the rest spread over the years between),
    ``"all_at_once"`` (every school not never-covered from ``adoption_year``) or ``"none"``.
    1-3 counselors, trained ones 1 from adoption on. A school-year without graduates has no row.
    Unbalanced panels: ``n_opening`` schools start reporting in a later year, ``n_closing`` stop
    early, ``n_merging`` stop after 2024 and their cohorts join another school of the level from
    2025 (the commune merger), ``n_missing_year`` miss one year in the middle.
    ``zero_year``: a year in which every school reports, and every count is 0.
    ``labour``: the sample's labour_demand and vocational_supply tables are written too.

``truth.json`` holds the spec and, per level, ``att_simple_pp`` (the Callaway-Sant'Anna simple
aggregate of the true effects over the schools covered after the first year: the mean over their
covered school-years) and ``measured_att_simple_pp`` (times 0.97, unknown destinations in the
denominator). Same spec, same bytes.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import zlib
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd

from . import sample as S
from .contract import ALL_DESTINATIONS, UNKNOWN

__all__ = ["DistrictSpec", "write_district", "family_spec", "FAMILIES", "generate_tables"]

GENERATOR_VERSION = "1.0"
YEARS = S.YEARS
TINY_RANGE = (3.0, 10.0)


@dataclass(frozen=True)
class DistrictSpec:
    """Knobs of one generated district (see the module docstring). Same spec, same bytes."""

    seed: int = 1
    n_thcs: int = 12
    n_thpt: int = 3
    dtnt: bool = False
    size: float = 1.0                      # cohort sizes relative to the sample's
    adoption: str = "staggered"            # staggered | all_at_once | none
    adoption_year: int = 2021              # all_at_once
    n_never: tuple[int, int] = (2, 1)      # never-covered schools (THCS, THPT)
    n_always: tuple[int, int] = (1, 0)     # covered from the first year (THCS, THPT)
    n_opening: int = 0
    n_closing: int = 0
    n_merging: int = 0
    n_missing_year: int = 0
    tiny_school: bool = False
    no_khmer: bool = False
    zero_year: int | None = None
    shock_sd_pp: float = 0.0
    ar_rho: float = 0.0
    ar_sd_pp: float = 0.0
    effect_pp: float = 2.0
    effect_slope_pp: float = 1.0
    effect_sd_pp: float = 0.0
    labour: bool = False
    family: str = "custom"

    def __post_init__(self) -> None:
        if self.adoption not in ("staggered", "all_at_once", "none"):
            raise ValueError(f"DistrictSpec: adoption {self.adoption!r}: expected staggered, all_at_once or none")
        if self.n_thcs < 0 or self.n_thpt < 0 or self.n_thcs + self.n_thpt + self.dtnt + self.tiny_school == 0:
            raise ValueError("DistrictSpec: at least one school is needed")
        if not 0.05 <= self.size <= 5:
            raise ValueError(f"DistrictSpec: size {self.size!r}: expected 0.05..5")
        if self.zero_year is not None and self.zero_year not in YEARS:
            raise ValueError(f"DistrictSpec: zero_year {self.zero_year!r}: expected one of {YEARS}")
        if not -1 < self.ar_rho < 1:
            raise ValueError(f"DistrictSpec: ar_rho {self.ar_rho!r}: expected -1 < rho < 1")


# --------------------------------------------------------------------------------------------
# schools, spans and adoption
# --------------------------------------------------------------------------------------------
def _schools(spec: DistrictSpec, communes: pd.DataFrame) -> pd.DataFrame:
    schools = S.make_schools(communes, {"thcs": spec.n_thcs, "thpt": spec.n_thpt, "dtnt": int(spec.dtnt)})
    if spec.tiny_school:
        used = set(schools["commune_code"])
        free = [c for c in communes["commune_code"] if c not in used] or list(communes["commune_code"][-1:])
        c = free[-1]
        name = communes.loc[communes["commune_code"] == c, "commune_name"].iat[0]
        tiny = pd.DataFrame([{"school_id": "THCS900", "school_name": f"Trường THCS {S._strip_unit(name)} (điểm lẻ)",
                              "commune_code": c, "levels": "THCS", "ethnic_boarding": False}])
        schools = pd.concat([schools, tiny], ignore_index=True)
    return schools.sort_values("school_id", kind="stable").reset_index(drop=True)


def _units(spec: DistrictSpec, rng: np.random.Generator, schools: pd.DataFrame) -> pd.DataFrame:
    """One row per school x level with mu, base rate, first/last year, the missing year, merge target."""
    rows = []
    for _, s in schools.iterrows():
        for level in s["levels"].split(","):
            d = S.LEVEL_DESIGN[level]
            lo, hi = S.DTNT_COHORT_RANGE if s["ethnic_boarding"] else d.cohort_range
            if s["school_id"] == "THCS900":
                lo, hi = TINY_RANGE
                mu = rng.uniform(lo, hi)
            else:
                mu = rng.uniform(lo, hi) * spec.size
            z = np.clip(rng.standard_normal(), -S.SCHOOL_SD_TRUNCATION, S.SCHOOL_SD_TRUNCATION)
            rows.append({"school_id": s["school_id"], "level": level, "commune_code": s["commune_code"],
                         "boarding": bool(s["ethnic_boarding"]), "mu": mu, "base": d.base_rate + d.school_sd * z,
                         "first_year": YEARS[0], "last_year": YEARS[-1], "missing_year": 0, "merge_into": ""})
    u = pd.DataFrame(rows)
    # unbalanced panels: only ordinary (non-DTNT, non-tiny) single-level schools change their span
    ordinary = np.flatnonzero(~u["boarding"].to_numpy() & (u["school_id"] != "THCS900").to_numpy())
    pool = list(rng.permutation(ordinary))

    def take(k: int) -> list[int]:
        out = []
        while pool and len(out) < k:
            out.append(int(pool.pop()))
        return out

    for i in take(spec.n_opening):
        u.at[i, "first_year"] = int(rng.integers(2019, 2022))
    for i in take(spec.n_closing):
        u.at[i, "last_year"] = int(rng.integers(2021, 2024))
    for i in take(spec.n_merging):
        same = [j for j in ordinary if u.at[j, "level"] == u.at[i, "level"] and j != i
                and u.at[j, "last_year"] == YEARS[-1] and u.at[j, "merge_into"] == ""]
        if not same:
            continue
        j = int(rng.choice(same))
        u.at[i, "last_year"] = 2024
        u.at[i, "merge_into"] = u.at[j, "school_id"]
    for i in take(spec.n_missing_year):
        u.at[i, "missing_year"] = int(rng.integers(2020, 2024))
    return u


def _adoption(spec: DistrictSpec, rng: np.random.Generator, schools: pd.DataFrame) -> dict[str, int]:
    """First covered year per school (0 = never)."""
    first = {sid: 0 for sid in schools["school_id"]}
    if spec.adoption == "none":
        return first
    inner = np.arange(YEARS[0] + 1, YEARS[-1])
    for li, level in enumerate(("THCS", "THPT")):
        ids = [sid for sid, lv, b in zip(schools["school_id"], schools["levels"], schools["ethnic_boarding"])
               if lv == level and not b]
        ids = [ids[k] for k in rng.permutation(len(ids))]
        n_never = min(spec.n_never[li], len(ids))
        rest = ids[n_never:]
        if spec.adoption == "all_at_once":
            for sid in rest:
                first[sid] = spec.adoption_year
            continue
        n_always = min(spec.n_always[li], len(rest))
        for sid in rest[:n_always]:
            first[sid] = YEARS[0]
        order = rng.permutation(len(inner))
        for k, sid in enumerate(rest[n_always:]):
            first[sid] = int(inner[order[k % len(inner)]])
    for sid, b in zip(schools["school_id"], schools["ethnic_boarding"]):
        if b:
            first[sid] = YEARS[1] if spec.adoption == "staggered" else spec.adoption_year
    return first


def _effect(spec: DistrictSpec, e: np.ndarray) -> np.ndarray:
    e = np.asarray(e, dtype=float)
    return np.where(e >= 0, spec.effect_pp + spec.effect_slope_pp * np.minimum(e, S.EFFECT_CAP), 0.0)


# --------------------------------------------------------------------------------------------
# tables
# --------------------------------------------------------------------------------------------
def generate_tables(spec: DistrictSpec) -> tuple[dict[str, pd.DataFrame], dict[str, Any]]:
    """The cohort tables of ``spec`` (schools, communes, graduates, counseling[, labour_demand,
    vocational_supply]) and the truth dict."""
    rng = np.random.default_rng(spec.seed)
    communes = S.make_communes(rng)
    if spec.no_khmer:
        communes["khmer_share"] = 0.0
    schools = _schools(spec, communes)
    units = _units(spec, rng, schools)
    first = _adoption(spec, rng, schools)
    khmer = dict(zip(communes["commune_code"], communes["khmer_share"]))
    T = len(YEARS)
    shocks = rng.normal(0.0, spec.shock_sd_pp, size=T) if spec.shock_sd_pp > 0 else np.zeros(T)
    delta = {sid: (rng.normal(0.0, spec.effect_sd_pp) if spec.effect_sd_pp > 0 else 0.0) for sid in schools["school_id"]}
    # cohort sizes of a school after it absorbs a merged school
    absorbed = units.loc[units["merge_into"] != ""].groupby(["merge_into", "level"])["mu"].sum().to_dict()

    grad_parts, coun_rows = [], []
    dest_lists = {lv: ([c for c, _ in S.LEVEL_DESIGN[lv].voc_split], np.array([p for _, p in S.LEVEL_DESIGN[lv].voc_split]),
                       [c for c, _ in S.LEVEL_DESIGN[lv].nonvoc_split], np.array([p for _, p in S.LEVEL_DESIGN[lv].nonvoc_split]))
                  for lv in S.LEVELS}
    eth_names = ("kinh", "khmer", "hoa", "other")
    active_years: dict[str, set[int]] = {}
    true_cells = []  # (level, school, year, true effect pp, first_covered)
    for _, u in units.iterrows():
        d = S.LEVEL_DESIGN[u["level"]]
        kshare = S.DTNT_KHMER_SHARE if u["boarding"] and not spec.no_khmer else float(khmer[u["commune_code"]])
        eth_p = np.array([1 - kshare - S.HOA_SHARE - S.OTHER_SHARE, kshare, S.HOA_SHARE, S.OTHER_SHARE])
        ar = np.zeros(T)
        if spec.ar_sd_pp > 0:
            innov_sd = spec.ar_sd_pp * np.sqrt(1 - spec.ar_rho ** 2)
            ar[0] = rng.normal(0, spec.ar_sd_pp)
            for t in range(1, T):
                ar[t] = spec.ar_rho * ar[t - 1] + rng.normal(0, innov_sd)
        g = first[u["school_id"]]
        voc_c, voc_p, non_c, non_p = dest_lists[u["level"]]
        for ti, year in enumerate(YEARS):
            if year < u["first_year"] or year > u["last_year"] or year == u["missing_year"]:
                continue
            active_years.setdefault(u["school_id"], set()).add(year)
            if year == spec.zero_year:
                grad_parts.append((u["school_id"], year, u["level"], "M", "kinh", "other", 0))
                continue
            mu = u["mu"] + (absorbed.get((u["school_id"], u["level"]), 0.0) if year == YEARS[-1] else 0.0)
            n = int(rng.poisson(mu))
            e = year - g if g > 0 else -1
            eff = float(_effect(spec, e)) + (delta[u["school_id"]] if e >= 0 else 0.0)
            if g > 0 and e >= 0:
                true_cells.append((u["level"], u["school_id"], year, eff, g))
            p0 = (u["base"] + (d.trend_pp_per_year * (year - YEARS[0]) + (d.dip_pp if year in S.DIP_YEARS else 0.0)
                               + shocks[ti] + ar[ti] + eff) / 100)
            n_sex = rng.multinomial(n, [d.female_share, 1 - d.female_share])
            for sex, ns in zip(("F", "M"), n_sex):
                n_eth = rng.multinomial(ns, eth_p)
                for eth, ne in zip(eth_names, n_eth):
                    if ne == 0:
                        continue
                    p = p0 + (d.khmer_pp * (eth == "khmer") + d.female_pp * (sex == "F")) / 100
                    p = float(np.clip(p, 0.01, 0.99))
                    nv = int(rng.binomial(ne, p))
                    counts = dict(zip(voc_c, rng.multinomial(nv, voc_p / voc_p.sum())))
                    counts.update(zip(non_c, rng.multinomial(ne - nv, non_p / non_p.sum())))
                    lost = {c: int(rng.binomial(k, S.UNKNOWN_SHARE)) for c, k in counts.items()}
                    counts = {c: k - lost[c] for c, k in counts.items()}
                    counts[UNKNOWN] = sum(lost.values())
                    grad_parts.extend((u["school_id"], year, u["level"], sex, eth, c, k)
                                      for c, k in counts.items() if k > 0)
    graduates = pd.DataFrame(grad_parts, columns=["school_id", "year", "level", "sex", "ethnicity", "destination",
                                                  "students"])
    graduates["destination"] = pd.Categorical(graduates["destination"], categories=ALL_DESTINATIONS, ordered=True)
    graduates = (graduates.sort_values(["school_id", "year", "level", "sex", "ethnicity", "destination"], kind="stable")
                 .reset_index(drop=True))
    graduates["destination"] = graduates["destination"].astype(str)
    for sid in schools["school_id"]:
        g = first[sid]
        base = int(rng.integers(1, 4))
        for year in sorted(active_years.get(sid, ())):
            covered = g > 0 and year >= g
            coun_rows.append({"school_id": sid, "year": year, "counselors": base, "trained_counselors": int(covered),
                              "sessions": int(rng.poisson(10 if covered else 3))})
    counseling = pd.DataFrame(coun_rows, columns=["school_id", "year", "counselors", "trained_counselors", "sessions"])
    schools = schools[schools["school_id"].isin(active_years)].reset_index(drop=True)
    tables = {"schools": schools, "communes": communes, "graduates": graduates, "counseling": counseling}
    if spec.labour:
        tables["labour_demand"], _ = S.make_labour_demand(rng, communes)
        tables["vocational_supply"], _ = S.make_vocational_supply(rng, communes)
    tc = pd.DataFrame(true_cells, columns=["level", "school_id", "year", "effect_pp", "first_covered"])
    levels = {}
    for level in S.LEVELS:
        sel = tc[(tc["level"] == level) & (tc["first_covered"] > YEARS[0])]
        att = float(sel["effect_pp"].mean()) if len(sel) else None
        levels[level] = {"att_simple_pp": None if att is None else round(att, 6),
                         "measured_att_simple_pp": None if att is None else round(att * (1 - S.UNKNOWN_SHARE), 6),
                         "n_schools": int((units["level"] == level).sum()),
                         "n_never_covered": int(sum(1 for sid in units.loc[units["level"] == level, "school_id"]
                                                    if first[sid] == 0))}
    truth = {"generator": "evaluation.generator", "generator_version": GENERATOR_VERSION, "spec": asdict(spec),
             "first_covered": {k: int(v) for k, v in sorted(first.items())}, "levels": levels,
             "year_shocks_pp": [round(float(x), 6) for x in shocks]}
    return tables, truth


def write_district(out: str | Path, spec: DistrictSpec) -> Path:
    """Write the cohort folder of ``spec`` to ``out`` (CSV tables, truth.json, a short README) and return it.

    The folder is built beside ``out`` and moved into place, so a reader never sees half of it.
    """
    out = Path(out).expanduser().resolve()
    tables, truth = generate_tables(spec)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        for name, df in tables.items():
            S._write_csv(df, tmp / f"{name}.csv")
        (tmp / "truth.json").write_text(json.dumps(truth, sort_keys=True, indent=2, ensure_ascii=False) + "\n",
                                        encoding="utf-8")
        (tmp / "README.md").write_text(
            f"# Generated district ({spec.family}, seed {spec.seed})\n\nSynthetic data written by "
            "`evaluation.generator` for tests and benchmarks; the knobs are in truth.json.\n", encoding="utf-8")
        if out.exists():
            shutil.rmtree(out)
        os.replace(tmp, out)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


# --------------------------------------------------------------------------------------------
# named families
# --------------------------------------------------------------------------------------------
def _base(rng: np.random.Generator, seed: int, family: str, **kw: Any) -> DistrictSpec:
    spec = DistrictSpec(seed=seed, family=family, n_thcs=int(rng.integers(8, 31)), n_thpt=int(rng.integers(3, 7)),
                        dtnt=bool(rng.random() < 0.5), size=float(rng.uniform(0.3, 1.0)))
    return replace(spec, **kw)


FAMILIES: dict[str, Callable[[np.random.Generator, int], DistrictSpec]] = {
    # like the sample, smaller and random in size
    "baseline": lambda r, s: _base(r, s, "baseline"),
    # a district at 0.3 of the sample's cohort sizes with few schools
    "tiny": lambda r, s: _base(r, s, "tiny", n_thcs=int(r.integers(4, 7)), n_thpt=2, size=0.3, dtnt=False),
    "one_thpt": lambda r, s: _base(r, s, "one_thpt", n_thpt=1, dtnt=False, n_never=(2, 0)),
    "two_thpt": lambda r, s: _base(r, s, "two_thpt", n_thpt=2, dtnt=False, n_never=(2, 1)),
    "no_thpt": lambda r, s: _base(r, s, "no_thpt", n_thpt=0, dtnt=False, n_never=(2, 0)),
    "one_thcs": lambda r, s: _base(r, s, "one_thcs", n_thcs=1, n_never=(0, 1), n_always=(0, 0), dtnt=False),
    "no_never_covered": lambda r, s: _base(r, s, "no_never_covered", n_never=(0, 0)),
    "all_at_once": lambda r, s: _base(r, s, "all_at_once", adoption="all_at_once", n_never=(0, 0),
                                      adoption_year=int(r.integers(2020, 2024))),
    "all_at_once_with_never": lambda r, s: _base(r, s, "all_at_once_with_never", adoption="all_at_once",
                                                 n_never=(2, 1), adoption_year=int(r.integers(2020, 2024))),
    "none_covered": lambda r, s: _base(r, s, "none_covered", adoption="none"),
    "unbalanced": lambda r, s: _base(r, s, "unbalanced", n_opening=int(r.integers(1, 3)), n_closing=int(r.integers(1, 3)),
                                     n_merging=int(r.integers(1, 3)), n_missing_year=int(r.integers(1, 4))),
    "tiny_commune": lambda r, s: _base(r, s, "tiny_commune", tiny_school=True),
    "no_khmer": lambda r, s: _base(r, s, "no_khmer", no_khmer=True, dtnt=False),
    "zero_year": lambda r, s: _base(r, s, "zero_year", zero_year=int(r.choice([2020, 2022, 2025]))),
    "shocks": lambda r, s: _base(r, s, "shocks", shock_sd_pp=2.0, ar_rho=0.6, ar_sd_pp=3.0, effect_sd_pp=2.0),
    "labour": lambda r, s: _base(r, s, "labour", labour=True),
    # every knob drawn at random
    "random": lambda r, s: _base(
        r, s, "random", n_thcs=int(r.integers(1, 31)), n_thpt=int(r.integers(1, 7)),
        adoption=str(r.choice(["staggered", "staggered", "all_at_once", "none"])),
        adoption_year=int(r.integers(2019, 2025)), n_never=(int(r.integers(0, 4)), int(r.integers(0, 2))),
        n_always=(int(r.integers(0, 3)), 0), n_opening=int(r.integers(0, 2)), n_closing=int(r.integers(0, 2)),
        n_merging=int(r.integers(0, 2)), n_missing_year=int(r.integers(0, 3)), tiny_school=bool(r.random() < 0.3),
        no_khmer=bool(r.random() < 0.2), zero_year=(int(r.choice(YEARS)) if r.random() < 0.15 else None),
        shock_sd_pp=float(r.choice([0.0, 2.0])), ar_rho=float(r.uniform(0, 0.8)), ar_sd_pp=float(r.choice([0.0, 2.0])),
        effect_sd_pp=float(r.choice([0.0, 2.0])), labour=bool(r.random() < 0.3)),
}


def family_spec(family: str, seed: int) -> DistrictSpec:
    """One district of a named family (``FAMILIES``), drawn from ``seed``."""
    if family not in FAMILIES:
        raise ValueError(f"family {family!r}: expected one of {', '.join(FAMILIES)}")
    rng = np.random.default_rng([seed, zlib.crc32(family.encode("utf-8"))])  # adding a family changes no other
    return FAMILIES[family](rng, seed)
