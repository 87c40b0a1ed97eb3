"""Command-line interface: ``python -m evaluation <command>``.

Commands:
  validate  check a cohort data folder against the data contract (exit 1 on any error)
  sample    write the synthetic sample cohort folder (with truth.json)
  run       run a review cycle: notebooks -> evidence bundle
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .params import ParamsError, load_params
from .paths import SAMPLE_DIR


def _add_params_args(p: argparse.ArgumentParser, *, need_params: bool = False) -> None:
    p.add_argument("--params", default=None if not need_params else None, required=need_params,
                   help="parameters file of the review cycle (params/<cycle>.yaml)")
    p.add_argument("--data", default=None, help="cohort data folder (overrides the parameters file)")


def cmd_validate(args: argparse.Namespace) -> int:
    from .sample import ensure_sample
    from .validation import validate_folder

    params = load_params(args.params, data=args.data)
    ensure_sample(params)
    report = validate_folder(params.data_path, years=params.years,
                             unknown_share_warning=params.unknown_share_warning)
    print(report.format())
    return 0 if report.ok else 1


def cmd_sample(args: argparse.Namespace) -> int:
    from .sample import write_sample

    try:
        out = write_sample(Path(args.out), seed=args.seed, scale=args.scale)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"synthetic sample written to {out} (seed {args.seed}, scale {args.scale:g}); "
          f"true parameters in {out / 'truth.json'}")
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    from .runner import run_review

    params = load_params(args.params, data=args.data, out=args.out, lang=args.lang)
    return run_review(params, params_file=args.params, jobs=args.jobs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation",
                                     description="Vocational streaming and career counseling review toolkit")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a cohort data folder against the data contract")
    _add_params_args(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("sample", help="write the synthetic sample cohort folder")
    p.add_argument("--out", default=str(SAMPLE_DIR), help="folder to write (default data/sample)")
    p.add_argument("--seed", type=int, default=2025, help="random seed (same seed, same bytes)")
    p.add_argument("--scale", type=float, default=1.0,
                   help="multiply the number of schools (about 56,000 students per unit; 180 gives ~10 million, "
                        "students and graduates then written as Parquet)")
    p.set_defaults(func=cmd_sample)

    p = sub.add_parser("run", help="run a review cycle and write its evidence bundle")
    _add_params_args(p, need_params=True)
    p.add_argument("--out", default=None, help="evidence bundle folder (overrides the parameters file)")
    p.add_argument("--lang", choices=["vi", "en"], default=None, help="language of the report")
    p.add_argument("--jobs", type=int, default=None, help="notebooks run at once (default: CPU count)")
    p.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ParamsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
