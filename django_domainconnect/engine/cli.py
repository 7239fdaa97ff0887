"""The ``domainconnect`` console script: ``lint`` templates, ``apply`` them to a zone file.

Subcommands register a handler with ``parser.set_defaults(func=handler)``; ``handler(args) -> int`` returns
the exit code. ``apply`` comes from ``cli_apply.add_apply_parser(subparsers)``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence

from .errors import EngineError
from .types import Finding

EXIT_OK = 0
EXIT_FINDINGS = 1  # lint found error-level findings
EXIT_FAILURE = 2  # bad usage, unreadable input, engine error

try:
    from .cli_apply import add_apply_parser
except ImportError as exc:  # keep `lint` usable whatever state the apply module is in
    add_apply_parser = None
    _APPLY_IMPORT_ERROR = str(exc)
else:
    _APPLY_IMPORT_ERROR = ""


def format_finding(path: str, finding: Finding) -> str:
    where = ""
    if finding.record_index is not None:
        where += f" record {finding.record_index}"
    if finding.field:
        where += f" field {finding.field}"
    return f"{path}: {finding.level.upper()} {finding.code}{where}: {finding.message}"


def _summary(results: dict[str, list[Finding]]) -> str:
    counts = {"error": 0, "warning": 0, "info": 0}
    failed = 0
    for findings in results.values():
        for f in findings:
            counts[f.level] += 1
        if any(f.level == "error" for f in findings):
            failed += 1
    files = len(results)
    return (f"{files} file{'s' if files != 1 else ''} checked: {counts['error']} errors, "
            f"{counts['warning']} warnings, {counts['info']} info; {failed} file{'s' if failed != 1 else ''} "
            "with errors")


def _run_lint(args: argparse.Namespace) -> int:
    from .lint import lint_paths  # imported here so `--help` and `apply` stay fast

    results = lint_paths(args.paths)
    if not results:
        raise OSError(f"no template files (*.json) found in {', '.join(args.paths)}")
    if args.json:
        json.dump({path: [f.to_dict() for f in findings] for path, findings in results.items()}, sys.stdout,
                  indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        for path, findings in results.items():
            for finding in findings:
                if args.quiet and finding.level == "info":
                    continue
                print(format_finding(path, finding))
        print(_summary(results))
    failed = any(f.level == "error" for findings in results.values() for f in findings)
    return EXIT_FINDINGS if failed else EXIT_OK


def _apply_unavailable(args: argparse.Namespace) -> int:
    detail = f" ({_APPLY_IMPORT_ERROR})" if _APPLY_IMPORT_ERROR else ""
    print(f"domainconnect: error: the apply command is not available in this installation{detail}",
          file=sys.stderr)
    return EXIT_FAILURE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="domainconnect",
        description="Domain Connect DNS Provider tools: lint templates, apply them to zone files.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    lint = sub.add_parser("lint", help="check templates and report findings with stable DC codes",
                          description="Check Domain Connect templates. Exit status: 0 no errors, 1 error-level "
                                      "findings, 2 unreadable input or bad usage.")
    lint.add_argument("paths", nargs="+", metavar="PATH",
                      help="a template file, or a directory whose *.json files are templates")
    lint.add_argument("--json", action="store_true", help="print one JSON object {path: [findings]}")
    lint.add_argument("-q", "--quiet", action="store_true", help="do not print info-level findings")
    lint.set_defaults(func=_run_lint)

    if add_apply_parser is not None:
        add_apply_parser(sub)
    else:
        apply = sub.add_parser("apply", help="apply a template to a zone file (not available)", add_help=False)
        apply.set_defaults(func=_apply_unavailable)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    # parse_known_args so the "not available" apply stub accepts whatever options a user passes it.
    args, extra = parser.parse_known_args(argv)
    if extra and args.func is not _apply_unavailable:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        return int(args.func(args))
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, and keep Python from complaining at exit.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_FAILURE
    except EngineError as exc:
        print(f"domainconnect: error: {exc} [{exc.code}]", file=sys.stderr)
    except OSError as exc:
        print(f"domainconnect: error: {_os_error_text(exc)}", file=sys.stderr)
    return EXIT_FAILURE


def _os_error_text(exc: OSError) -> str:
    if exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
