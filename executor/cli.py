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
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from executor.connection import read_connection_file
from executor.errors import IntegrationError, ManifestError, UsageError, one_line
from executor.limits import MAX_FILE_BYTES, load_json, load_yaml, read_stream, read_text
from executor.redaction import RedactingFilter, Redactor
from executor.result import EXIT_INVALID_INPUT, EXIT_SUCCESSFUL, ErrorEntry, Result, Status

EmulatorStarter = Callable[[], contextlib.AbstractContextManager[dict[str, Any]]]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{self.prog}: {message}")


def build_parser(extra_verbs: Sequence[str] = (), description: str | None = None
                 ) -> argparse.ArgumentParser:
    parser = _Parser(prog="connector.py", description=description)
    parser.add_argument("--log-level", default=os.environ.get("LOG_LEVEL", "WARNING"),
                        choices=["DEBUG", "INFO", "WARNING", "ERROR"], help="stderr log level")
    verbs = parser.add_subparsers(dest="verb", required=True, parser_class=_Parser)
    verbs.add_parser("commands", help="list commands and the permissions they need")
    verbs.add_parser("validate", help="check manifest, schemas, mappings and sample outputs")
    for name, text in (("run", "run one command"), ("fetch", "run Fetch Event, print events")):
        sub = verbs.add_parser(name, help=text)
        if name == "run":
            sub.add_argument("command", help='display name ("List Risky Users") or id')
        sub.add_argument("-i", "--input", action="append", default=[], metavar="NAME=VALUE",
                         help="an input by display name or id (repeatable)")
        sub.add_argument("--inputs", metavar="FILE|-", help="inputs as a JSON/YAML mapping")
        sub.add_argument("--connection", metavar="FILE", help="YAML connection parameters")
        sub.add_argument("--emulator", action="store_true",
                         help="start the embedded emulator tenant and connect to it")
        sub.add_argument("--mappings", metavar="FILE", help="field-mapping overrides (YAML)")
    mapper = verbs.add_parser("map", help="apply the field mappings to a saved response")
    mapper.add_argument("--mappings", metavar="FILE", help="field-mapping overrides (YAML)")
    mapper.add_argument("--event-type", help="the events' type: a value of the search strings, "
                                             "or a display name of it")
    for verb in extra_verbs:
        verbs.add_parser(verb, add_help=False)
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


def usage_failure(verb: str, error: IntegrationError) -> int:
    result = Result(command=verb, status=Status.FAILED, return_data=Status.FAILED.value,
                    errors=[ErrorEntry(f"{verb} failed.", error.status_code,
                                       one_line(error.message))],
                    exit_code=EXIT_INVALID_INPUT)
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
    if args.verb == "fetch" and result.events is not None and result.exit_code == 0:
        for event in result.events:
            sys.stdout.write(json.dumps(event, ensure_ascii=False) + "\n")
    else:
        print_json(result.to_dict())
    return result.exit_code


def _event_type_value(plugin: Any, text: str) -> str:
    """A display name (``Risk Detections``) of any enumerated input, or the value as given."""
    from executor.inputs import fold

    for command in plugin.manifest.commands:
        for spec in command.inputs:
            for allowed in spec.allowed_values:
                if fold(text) in (fold(allowed.value), fold(allowed.display_name)):
                    return allowed.value
    return text


def _map(args: argparse.Namespace, plugin: Any) -> int:
    """Map a saved response from stdin: one ``{"event_type", "fields"}`` line per event."""
    from executor.mapping import MappingError

    document = load_json(read_stream(sys.stdin, "standard input"), "standard input")
    if isinstance(document, dict) and isinstance(document.get("raw_data"), dict):
        document = document["raw_data"]  # a saved result object: map its raw data
    try:
        mappings = plugin.mapping_set(args.mappings)
    except MappingError as exc:
        raise UsageError("; ".join(str(p) for p in exc.problems)) from None
    event_type = _event_type_value(plugin, args.event_type) if args.event_type else None
    keys = mappings.search_keys()
    events = list(mappings.events(document))
    for event in events:
        if isinstance(event, dict) and event_type is not None:
            for key in keys:
                event.setdefault(key, event_type)
    for event, mapped in zip(events, mappings.map_response(document), strict=True):
        own = next((event.get(k) for k in keys if isinstance(event, dict) and event.get(k)),
                   None)
        mapped["event_type"] = mapped["event_type"] or own or event_type
        sys.stdout.write(json.dumps(mapped, ensure_ascii=False) + "\n")
    return EXIT_SUCCESSFUL


def main(argv: Sequence[str] | None, load_plugin: Callable[[], Any], *,
         start_emulator: EmulatorStarter | None = None, fetch_command: str | None = None,
         extra_verbs: dict[str, Callable[[list[str]], int]] | None = None,
         description: str | None = None,
         verbs: dict[str, Callable[[argparse.Namespace, Any, Redactor], int]] | None = None
         ) -> int:
    """Run the CLI; returns the process exit code and never raises for user errors."""
    argv = list(sys.argv[1:] if argv is None else argv)
    extra_verbs = extra_verbs or {}
    parser = build_parser(list(extra_verbs), description)
    for index, word in enumerate(argv):  # extra verbs own the rest of the command line
        if word in extra_verbs:
            return extra_verbs[word](argv[index + 1:])
        if not word.startswith("-"):
            break
    redactor = Redactor()
    try:
        args = parser.parse_args(argv)
    except UsageError as exc:
        return usage_failure(argv[0] if argv else "connector.py", exc)
    configure_logging(args.log_level, redactor)
    try:
        plugin = load_plugin()
    except ManifestError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    try:
        if verbs and args.verb in verbs:
            return verbs[args.verb](args, plugin, redactor)
        if args.verb == "commands":
            print_json(plugin.commands())
            return EXIT_SUCCESSFUL
        if args.verb == "validate":
            from executor.validation import validate_plugin

            report = validate_plugin(plugin)
            print_json(report.to_dict())
            for problem in report.problems:
                sys.stderr.write(f"error: {problem}\n")
            return EXIT_SUCCESSFUL if report.ok else 1
        if args.verb in ("run", "fetch"):
            return _run(args, plugin, redactor, start_emulator, fetch_command)
        if args.verb == "map":
            return _map(args, plugin)
    except UsageError as exc:
        return usage_failure(args.verb, exc)
    raise UsageError(f"verb '{args.verb}' is not available")  # pragma: no cover
