"""The command-line front of a plugin (SPEC §3): argument parsing, output and exit codes.

Generic: the plugin passes its :class:`~executor.plugin.Plugin` loader and, optionally, a way to
start an embedded test server for ``--emulator`` and extra verbs of its own.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, NoReturn

from executor.connection import read_connection_file
from executor.errors import IntegrationError, ManifestError, UsageError, one_line
from executor.limits import MAX_FILE_BYTES, load_yaml, read_stream, read_text
from executor.redaction import RedactingFilter, Redactor
from executor.result import (
    EXIT_FAILED,
    EXIT_INVALID_INPUT,
    EXIT_SUCCESSFUL,
    ErrorEntry,
    Result,
    Status,
)

EXIT_BROKEN_PIPE = 141
"""128 + SIGPIPE, as a shell reports a process the pipe's reader left."""

EmulatorStarter = Callable[[], contextlib.AbstractContextManager[dict[str, Any]]]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


EXIT_CODES = ("exit codes: 0 Successful, 3 Partially Successful, 1 Failed, "
              "2 invalid input or usage")

OUTPUT_HELP = "table (the default on a terminal) or json (the default otherwise)"


def _verb(verbs: Any, name: str, text: str, examples: Mapping[str, str]
          ) -> argparse.ArgumentParser:
    sub: argparse.ArgumentParser = verbs.add_parser(
        name, help=text, description=text, epilog=examples.get(name),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    return sub


def build_parser(extra_verbs: Sequence[str] = (), description: str | None = None, *,
                 prog: str = "connector.py", version: str | None = None,
                 commands_help: str | None = None, examples: Mapping[str, str] | None = None
                 ) -> argparse.ArgumentParser:
    """The CLI's parser. `examples` holds the plugin's help epilogs by verb (`""` for the
    top level, `%(prog)s` for the program); `commands_help` (its commands and inputs) goes
    under run."""
    examples = examples or {}
    epilog = "\n".join([
        *([examples[""]] if examples.get("") else ["examples:"]),
        *(f"  {prog} {verb} --help" for verb in extra_verbs), "",
        f"{prog} VERB --help shows each verb's options and examples.", EXIT_CODES])
    parser = _Parser(prog=prog, description=description, epilog=epilog,
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    if version is not None:
        parser.add_argument("--version", action="version", version=f"{prog} {version}")
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "WARNING"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser,
                                  metavar="VERB")
    commands = _verb(verbs, "commands", "list commands and the permissions they need",
                     examples)
    commands.add_argument("--details", nargs="?", const="", metavar="NAME",
                          help="each input's required/allowed/default/example (of one command)")
    commands.add_argument("--output", choices=["table", "json"], help=OUTPUT_HELP)
    validate = _verb(verbs, "validate", "check the plugin, or your own mappings, connection "
                                        "and sample files (offline)", examples)
    validate.add_argument("--mappings", metavar="FILE", help="your field-mapping overrides")
    validate.add_argument("--connection", metavar="FILE", help="your connection file")
    validate.add_argument("--sample", metavar="FILE",
                          help="saved events to measure field coverage on (any shape map reads)")
    validate.add_argument("--event-type", help="the sample's event type, for events without one")
    for name, text in (("run", "run one command"),
                       ("fetch", "run Fetch Event, print the mapped events")):
        sub = _verb(verbs, name, text, examples)
        parts = [sub.epilog, commands_help if name == "run" else None, EXIT_CODES]
        sub.epilog = "\n\n".join(part for part in parts if part)
        if name == "run":
            sub.add_argument("command", help="a command's display name or id")
        sub.add_argument("-i", "--input", action="append", default=[], metavar="NAME=VALUE",
                         help="an input by display name or id (repeatable)")
        sub.add_argument("--inputs", metavar="FILE|-", help="inputs as a JSON/YAML mapping")
        sub.add_argument("--connection", metavar="FILE", help="YAML connection parameters")
        sub.add_argument("--emulator", action="store_true",
                         help="start the embedded emulator tenant and connect to it")
        sub.add_argument("--mappings", metavar="FILE", help="field-mapping overrides (YAML)")
        sub.add_argument("--output", choices=["table", "json"], help=OUTPUT_HELP)
    mapper = _verb(verbs, "map", "apply the field mappings to saved events (streaming)",
                   examples)
    mapper.add_argument("file", nargs="?", default="-", metavar="FILE",
                        help="the saved events (default: standard input)")
    mapper.add_argument("--mappings", metavar="FILE", help="field-mapping overrides (YAML)")
    mapper.add_argument("--event-type", help="the events' type: a value of the search strings, "
                                             "or a display name of it")
    for verb in extra_verbs:
        verbs.add_parser(verb, add_help=False, help=f"{verb} verbs ({prog} {verb} --help)")
    return parser


def parse_inputs(pairs: Sequence[str], inputs_file: str | None) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    if inputs_file:
        text = (read_stream(sys.stdin, "--inputs", MAX_FILE_BYTES) if inputs_file == "-"
                else read_text(inputs_file, "--inputs file"))
        loaded = load_yaml(text, "--inputs")  # JSON is YAML
        if not isinstance(loaded, dict):
            raise UsageError("--inputs must hold a mapping of input names to values")
        inputs.update(loaded)
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"-i expects NAME=VALUE, got '{pair}'")
        inputs[name.strip()] = value
    return inputs


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def configure_logging(level: str, redactor: Redactor) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(RedactingFilter(redactor))
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False) + "\n")
    sys.stdout.flush()


def usage_failure(verb: str, error: IntegrationError, output: str = "json") -> int:
    result = Result(command=verb, status=Status.FAILED, return_data=Status.FAILED.value,
                    errors=[ErrorEntry(f"{verb} failed.", error.status_code,
                                       one_line(error.message))],
                    exit_code=EXIT_INVALID_INPUT)
    if output == "table":
        from executor.table_view import render_result

        sys.stdout.write(render_result(result.to_dict()))
        sys.stdout.flush()
    else:
        print_json(result.to_dict())
    return EXIT_INVALID_INPUT


@contextlib.contextmanager
def _connection(args: argparse.Namespace,
                start_emulator: EmulatorStarter | None) -> Iterator[dict[str, Any]]:
    if args.emulator and args.connection:
        raise UsageError("give --connection or --emulator, not both")
    if args.emulator:
        if start_emulator is None:
            raise UsageError("this plugin has no embedded emulator")
        with start_emulator() as connection:
            yield connection
        return
    yield read_connection_file(Path(args.connection)) if args.connection else {}


def _run(args: argparse.Namespace, plugin: Any, redactor: Redactor,
         start_emulator: EmulatorStarter | None, fetch_command: str | None) -> int:
    inputs = parse_inputs(args.input, args.inputs)
    command = args.command if args.verb == "run" else fetch_command
    if command is None:
        raise UsageError("this plugin has no fetch command")
    options = {"mappings_file": args.mappings} if args.mappings else {}
    with _connection(args, start_emulator) as connection:
        result = plugin.run(command, inputs, connection, redactor=redactor, options=options)
    for warning in result.warnings:
        sys.stderr.write(f"warning: {warning}\n")
    if output_format(args) == "table":
        from executor.table_view import render_result

        sys.stdout.write(render_result(result.to_dict()))
        sys.stdout.flush()
    elif args.verb == "fetch" and result.events is not None and result.exit_code == 0:
        for event in result.events:
            sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
        sys.stdout.flush()
    else:
        print_json(result.to_dict())
    return result.exit_code


def output_format(args: argparse.Namespace) -> str:
    """`--output`, else table on a terminal and JSON for a pipe or file."""
    chosen = getattr(args, "output", None)
    if chosen:
        return str(chosen)
    return "table" if sys.stdout.isatty() else "json"


def _map(args: argparse.Namespace, plugin: Any) -> int:
    """Map saved events (a file or stdin) to one ``{"event_type", "fields"}`` line each."""
    from executor.map_verb import NothingMatched, run_map

    try:
        if args.file == "-":
            if sys.stdin.isatty():
                sys.stderr.write("map: reading events from standard input (end with Ctrl-D)\n")
            run_map(plugin, sys.stdin.buffer, sys.stdout, mappings_file=args.mappings,
                    event_type=args.event_type)
        else:
            with open(args.file, "rb") as stream:
                run_map(plugin, stream, sys.stdout, mappings_file=args.mappings,
                        event_type=args.event_type, input_name=args.file)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            raise
        raise UsageError(f"map: cannot read {args.file}: {exc.strerror}") from None
    except NothingMatched as exc:
        result = Result(command="map", status=Status.FAILED, return_data=Status.FAILED.value,
                        errors=[ErrorEntry("map failed.", None, one_line(exc.message))],
                        exit_code=EXIT_FAILED)
        print_json(result.to_dict())
        return EXIT_FAILED
    return EXIT_SUCCESSFUL


def _commands(args: argparse.Namespace, plugin: Any) -> int:
    table = output_format(args) == "table"
    if args.details is None:
        listing = plugin.commands()
        if table:
            from executor.table_view import render_commands

            sys.stdout.write(render_commands(listing))
        else:
            print_json(listing)
        return EXIT_SUCCESSFUL
    from executor.command_details import command_details

    details = command_details(plugin.manifest, args.details or None)
    if table:
        from executor.table_view import render_details

        sys.stdout.write(render_details(details))
    else:
        print_json(details)
    return EXIT_SUCCESSFUL


def _validate(args: argparse.Namespace, plugin: Any) -> int:
    if args.mappings or args.connection or args.sample:
        from executor.map_verb import event_type_value
        from executor.user_files import validate_user_files

        kind = event_type_value(plugin, args.event_type) if args.event_type else None
        report = validate_user_files(plugin, mappings_file=args.mappings,
                                     connection_file=args.connection,
                                     sample_file=args.sample, event_type=kind)
    else:
        from executor.validation import validate_plugin

        report = validate_plugin(plugin)
    print_json(report.to_dict())
    for problem in report.problems:
        sys.stderr.write(f"error: {problem}\n")
    return EXIT_SUCCESSFUL if report.ok else EXIT_FAILED


def commands_help(plugin: Any) -> str:
    """The plugin's commands and their inputs, for `run --help`."""
    lines = ["commands (inputs; `commands --details NAME` tells more):"]
    for command in plugin.manifest.commands:
        names = ", ".join(getattr(i, "display_name", str(i)) for i in command.inputs)
        lines.append(f"  {command.display_name} ({command.id}): {names or 'no inputs'}")
    return "\n".join(lines)


def quiet_broken_pipe() -> int:
    """The reader went away (`... | head -1`): no traceback, no flush error at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    return EXIT_BROKEN_PIPE


def main(argv: Sequence[str] | None, load_plugin: Callable[[], Any], *,
         start_emulator: EmulatorStarter | None = None, fetch_command: str | None = None,
         extra_verbs: dict[str, Callable[[list[str]], int]] | None = None,
         description: str | None = None,
         verbs: dict[str, Callable[[argparse.Namespace, Any, Redactor], int]] | None = None,
         prog: str = "connector.py", version: str | None = None,
         examples: Mapping[str, str] | None = None) -> int:
    """Run the CLI; returns the process exit code and never raises for user errors."""
    try:
        return _main(argv, load_plugin, start_emulator=start_emulator,
                     fetch_command=fetch_command, extra_verbs=extra_verbs or {},
                     description=description, verbs=verbs or {}, prog=prog, version=version,
                     examples=examples or {})
    except BrokenPipeError:
        return quiet_broken_pipe()


def _main(argv: Sequence[str] | None, load_plugin: Callable[[], Any], *,
          start_emulator: EmulatorStarter | None, fetch_command: str | None,
          extra_verbs: dict[str, Callable[[list[str]], int]], description: str | None,
          verbs: dict[str, Callable[[argparse.Namespace, Any, Redactor], int]],
          prog: str, version: str | None, examples: Mapping[str, str]) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for index, word in enumerate(argv):  # extra verbs own the rest of the command line
        if word in extra_verbs:
            return extra_verbs[word](argv[index + 1:])
        if not word.startswith("-"):
            break
    plugin: Any = None
    load_error: ManifestError | None = None
    try:
        plugin = load_plugin()
    except ManifestError as exc:
        load_error = exc
    parser = build_parser(list(extra_verbs), description, prog=prog, version=version,
                          commands_help=commands_help(plugin) if plugin else None,
                          examples=examples)
    redactor = Redactor()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return usage_failure(argv[0] if argv else prog, exc)
    configure_logging(args.log_level, redactor)
    if load_error is not None:
        sys.stderr.write(f"error: {load_error}\n")
        return EXIT_FAILED
    try:
        if args.verb in verbs:
            return verbs[args.verb](args, plugin, redactor)
        if args.verb == "commands":
            return _commands(args, plugin)
        if args.verb == "validate":
            return _validate(args, plugin)
        if args.verb in ("run", "fetch"):
            return _run(args, plugin, redactor, start_emulator, fetch_command)
        if args.verb == "map":
            return _map(args, plugin)
    except UsageError as exc:
        return usage_failure(args.verb, exc, output_format(args))
    raise UsageError(f"verb '{args.verb}' is not available")  # pragma: no cover
