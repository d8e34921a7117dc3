"""Reading what a user hands over (files, stdin, YAML, JSON) at a bounded cost, with clear errors.

A 439-byte YAML alias bomb expands to gigabytes once something walks it; ``/dev/zero`` as a file
never ends; ``[[[[...]]]]`` overflows a recursive parser. Every reader here caps the bytes read,
the nodes a YAML document expands to and the nesting depth, and turns each refusal (and a
non-UTF-8 byte) into one :class:`~executor.errors.UsageError` line naming what was read.
"""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import yaml

from executor.errors import UsageError

MAX_FILE_BYTES = 1 << 20
"""Connection, inputs and mapping files: a megabyte is far beyond any real one."""
MAX_STREAM_BYTES = 256 << 20
"""A saved API response on ``map``'s stdin (a long backfill can be large)."""
SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""PyYAML's safe loader on libyaml's C parser where PyYAML was built with it (a tenth of the time
for the manifest, the mapping files and the connection files a job reads at every start)."""
MAX_YAML_NODES = 100_000
"""Nodes a YAML document may expand to, aliases counted as often as they are used."""
MAX_DEPTH = 100
"""Nesting depth of YAML and JSON documents (API records seldom nest past ten)."""


def read_text(path: Path | str, what: str, limit: int = MAX_FILE_BYTES) -> str:
    """The UTF-8 text of a file of at most ``limit`` bytes (a device or FIFO counts as read)."""
    try:
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise UsageError(f"cannot read {what} {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than {limit:,} bytes")
    return decode(data, f"{what} {path}")


def read_stream(stream: IO[Any], what: str, limit: int = MAX_STREAM_BYTES) -> str:
    """At most ``limit`` bytes of a binary or text stream, as text."""
    source = getattr(stream, "buffer", stream)
    data = source.read(limit + 1)
    if isinstance(data, str):
        data = data.encode("utf-8", "surrogateescape")
    if len(data) > limit:
        raise UsageError(f"{what} is larger than {limit:,} bytes")
    return decode(data, what)


def decode(data: bytes, what: str) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{what} is not UTF-8 text (byte {exc.start} is 0x{data[exc.start]:02x})"
                         ) from None
    return text[1:] if text.startswith("\ufeff") else text


def load_yaml(text: str, what: str, *, max_nodes: int = MAX_YAML_NODES,
              max_depth: int = MAX_DEPTH) -> Any:
    """``yaml.safe_load`` with the document's expanded size and depth checked before it is
    built (JSON is YAML, so this reads JSON too)."""
    loader = SAFE_LOADER(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _check_nodes(node, what, max_nodes, max_depth)
        return loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        raise UsageError(f"{what} is not valid YAML{where}: {exc.problem}") from None
    except yaml.YAMLError:
        raise UsageError(f"{what} is not valid YAML") from None
    except RecursionError:
        raise UsageError(f"{what} is nested deeper than {max_depth} levels") from None
    finally:
        loader.dispose()


def _check_nodes(root: yaml.Node, what: str, max_nodes: int, max_depth: int) -> None:
    """Count the nodes the document expands to (an alias costs its anchor's whole size)."""
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node, depth: int) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if depth > max_depth:
            raise UsageError(f"{what} is nested deeper than {max_depth} levels")
        if key in active:
            raise UsageError(f"{what} holds a recursive YAML alias")
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            children: list[yaml.Node] = list(node.value)
        elif isinstance(node, yaml.MappingNode):
            children = [part for pair in node.value for part in pair]
        else:
            children = []
        for child in children:
            total += size(child, depth + 1)
            if total > max_nodes:
                raise UsageError(f"{what} expands to more than {max_nodes:,} YAML nodes "
                                 "(aliases count each time they are used)")
        active.discard(key)
        sizes[key] = total
        return total

    size(root, 0)


def load_json(text: str, what: str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads`` with a clear error for invalid JSON and a nesting limit."""
    import json

    try:
        document = json.loads(text)
    except RecursionError:
        raise UsageError(f"{what} is nested deeper than {max_depth} levels") from None
    except ValueError as exc:
        raise UsageError(f"{what} is not JSON ({exc})") from None
    check_depth(document, what, max_depth)
    return document


def check_depth(document: Any, what: str, max_depth: int = MAX_DEPTH) -> None:
    """Refuse data nested deeper than ``max_depth`` (checked without recursion)."""
    stack: list[tuple[Any, int]] = [(document, 0)]
    while stack:
        value, depth = stack.pop()
        if depth > max_depth:
            raise UsageError(f"{what} is nested deeper than {max_depth} levels")
        if isinstance(value, dict):
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
