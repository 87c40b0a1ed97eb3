"""Command-line interface: ``python -m evaluation <command>``.

Commands:
  validate  check a cohort data folder against the data contract (exit 1 on any error)
  sample    write the synthetic sample cohort folder (with truth.json)
  run       run a review cycle: notebooks -> evidence bundle
  batch     run many cycles (districts, provinces, years), locally or on a Dask cluster
  compare   stack the evidence of many bundles into cross-district tables and a ranked figure
  since     "since the last review": one district's headline indicators in two cycles and their change
  template  write the Vietnamese Excel template for entering cohort data
  import    import Excel workbooks / CSV files into a validated cohort data folder
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
    try:
        ensure_sample(params)
    except ValueError as exc:  # the default sample folder holds the user's own files
        print(f"error: {exc}", file=sys.stderr)
        return 2
    report = validate_folder(params.data_path, years=params.years,
                             unknown_share_warning=params.unknown_share_warning)
    print(report.format(lang=args.lang))
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
    return run_review(params, params_file=args.params, jobs=args.jobs, overwrite=args.overwrite)


def cmd_batch(args: argparse.Namespace) -> int:
    from .batch import cycles_from_params, format_summary, load_grid, run_batch

    specs = cycles_from_params(args.params)
    if args.grid:
        specs += load_grid(args.grid)
    if not specs:
        print("error: no cycles: give parameters files and/or --grid GRID.yaml", file=sys.stderr)
        return 2
    results = run_batch(specs, out=args.out, workers=args.workers, scheduler=args.scheduler,
                        skip_done=args.skip_done, retries=args.retries, notebooks=args.notebooks)
    print(format_summary(results))
    return 0 if all(r.status != "failed" for r in results) else 1


def cmd_compare(args: argparse.Namespace) -> int:
    from .compare import CompareError, compare_bundles, find_bundles

    try:
        n = len(find_bundles(args.bundles))
        written = compare_bundles(args.bundles, out=args.out, lang=args.lang)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"cross-district tables and figures of {n} bundle(s) written to {written}")
    return 0


def cmd_since(args: argparse.Namespace) -> int:
    from .compare import CompareError, since_last_review, since_last_review_text

    try:
        frame = since_last_review(args.previous, args.current, allow_other_district=args.other_district)
    except CompareError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in since_last_review_text(frame, args.lang):
        print(line)
    if args.out:
        out = Path(args.out)
        if out.exists() and not (args.overwrite and out.is_file()):
            print(f"error: {out} already exists; nothing was written (give another file name"
                  + (", or --overwrite to replace it)" if out.is_file() else ")"), file=sys.stderr)
            return 2
        from .fsutil import atomic_write_bytes

        out.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(out, frame.to_csv(index=False, lineterminator="\n").encode("utf-8"))
        print(f"written {out}")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from .importer import write_template

    try:
        out = write_template(Path(args.out), data=args.data, overwrite=args.overwrite)
    except (ValueError, FileNotFoundError, FileExistsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"template written to {out}")
    return 0


def _years_arg(text: str | None) -> list[int] | None:
    if not text:
        return None
    a, _, b = text.partition("-")
    try:
        lo, hi = int(a), int(b or a)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--years {text!r}: expected a range such as 2018-2025") from None
    return list(range(lo, hi + 1))


def cmd_import(args: argparse.Namespace) -> int:
    from .importer import ImportFailed, import_files

    try:
        res = import_files(args.files, Path(args.out), kind=args.kind, geography=args.geography,
                           years=_years_arg(args.years), base=args.base, key_file=args.key_file,
                           overwrite=args.overwrite, mapping=args.map)
    except ImportFailed as exc:
        print(exc.format(args.lang), file=sys.stderr)
        return 1
    except argparse.ArgumentTypeError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from .messages import translate, word

    rows = ", ".join(f"{t} {n}" for t, n in res.tables.items())
    print(word("imported", args.lang, out=res.out, rows=rows, report=res.out / "import_report.md"))
    for w in res.validation.warnings:
        loc = w.location if args.lang == "en" else w.location.replace("line ", "dòng ").replace(
            "row ", "dòng ").replace("column ", "cột ")
        val = "" if w.value is None else f" '{w.value}'"
        print(f"  {word('warning', args.lang)} {loc}{val}: {word('expected', args.lang)} "
              f"{translate(w.expected, args.lang)} [{w.check}]")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation",
                                     description="Vocational streaming and career counseling review toolkit")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a cohort data folder against the data contract")
    _add_params_args(p)
    p.add_argument("--lang", choices=["vi", "en"], default="vi",
                   help="language of the messages (default vi: Vietnamese)")
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
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing output folder that is not an evidence bundle (never the data folder, "
                        "the repository, home or /)")
    p.set_defaults(func=cmd_run)

    from .paths import OUTPUT_DIR

    p = sub.add_parser("batch", help="run many review cycles (one bundle each), locally or on a Dask cluster")
    p.add_argument("params", nargs="*", metavar="PARAMS", help="parameters files, one cycle each")
    p.add_argument("--grid", default=None, help="grid file: a template parameters file expanded over cycles")
    p.add_argument("--workers", type=int, default=None,
                   help="worker processes of the local Dask cluster (default: CPU count; 1 = no cluster)")
    p.add_argument("--scheduler", default=None, help="address of an existing Dask scheduler (tcp://host:8786)")
    p.add_argument("--skip-done", action="store_true",
                   help="skip cycles whose bundle already matches the inputs' hashes and the parameters")
    p.add_argument("--retries", type=int, default=2, help="retries of a cycle whose kernel did not start (default 2)")
    p.add_argument("--notebooks", default=None, help=argparse.SUPPRESS)
    p.add_argument("--out", default=str(OUTPUT_DIR), help="parent folder of the bundles: OUT/<cycle>/ (default output/)")
    p.set_defaults(func=cmd_batch)

    p = sub.add_parser("compare", help="cross-district tables and a ranked figure from many bundles")
    p.add_argument("bundles", nargs="+", metavar="BUNDLE", help="evidence bundle folders (or a folder of bundles)")
    p.add_argument("--out", required=True, help="folder for the comparison tables and figures")
    p.add_argument("--lang", choices=["vi", "en"], default="en", help="language of the figure (default en)")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("since", help="one district's headline indicators in two review cycles and their change")
    p.add_argument("previous", help="evidence bundle of the previous review (e.g. the 2018-2022 mid-term)")
    p.add_argument("current", help="evidence bundle of this review")
    p.add_argument("--lang", choices=["vi", "en"], default="vi", help="language of the sentences (default vi)")
    p.add_argument("--out", default=None, help="also write the table as this CSV file")
    p.add_argument("--other-district", action="store_true", help="allow bundles of two districts")
    p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
    p.set_defaults(func=cmd_since)

    p = sub.add_parser("template", help="write the Vietnamese Excel template for entering cohort data")
    p.add_argument("--out", required=True, help="workbook to write (.xlsx)")
    p.add_argument("--data", default=None, help="fill the template with this cohort data folder's tables")
    p.add_argument("--overwrite", action="store_true", help="replace an existing workbook of that name")
    p.set_defaults(func=cmd_template)

    from .contract import ALL_TABLES, GEOGRAPHIES

    p = sub.add_parser("import", help="import Excel workbooks / CSV files into a validated cohort data folder")
    p.add_argument("files", nargs="+", help="workbooks (.xlsx) and CSV files to import")
    p.add_argument("--out", required=True, help="cohort data folder to write (must not exist or be empty)")
    p.add_argument("--kind", choices=ALL_TABLES, default=None,
                   help="the table every sheet holds, when the sheet names do not say it")
    p.add_argument("--geography", choices=GEOGRAPHIES, default="pre2025",
                   help="communes in the inputs are named as before (pre2025, default) or after 1/7/2025")
    p.add_argument("--years", default=None, help="graduation years of the review cycle, e.g. 2018-2025")
    p.add_argument("--base", default=None, help="a cohort folder whose tables complete the inputs")
    p.add_argument("--key-file", default=None,
                   help="pseudonymisation key file for student lists (outside the repository); default: "
                        "$EVALUATION_PSEUDONYM_KEY_FILE or $EVALUATION_PSEUDONYM_KEY")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output folder")
    p.add_argument("--map", action="append", default=None, metavar="HEADER=FIELD",
                   help="what a column the importer does not know holds, e.g. --map \"Đi học nước ngoài=other\" "
                        "(repeatable; an import_map.txt file beside the workbooks, one HEADER=FIELD a line, "
                        "works too); FIELD 'ignore' leaves the column out knowingly")
    p.add_argument("--lang", choices=["vi", "en"], default="vi",
                   help="language of the messages (default vi: Vietnamese)")
    p.set_defaults(func=cmd_import)
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
