"""Commands as the console shows them: groups, form fields built from the manifest's inputs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# What a group is called, by the first word of a command's display name.
_GROUP_BY_VERB = {"list": "Investigate", "fetch": "Events", "test": "Connection"}
_ACTION_GROUP = "Respond"
_INVALID_INPUT = re.compile(r"^Invalid input '(?P<name>[^']+)':")


@dataclass(frozen=True)
class Choice:
    value: str
    label: str


@dataclass(frozen=True)
class FormField:
    """One input of a command form."""

    id: str
    label: str
    kind: str  # text | integer | datetime | choice | list
    required: bool
    description: str
    placeholder: str
    choices: tuple[Choice, ...] = ()
    shown_when: tuple[str, tuple[str, ...]] | None = None


@dataclass(frozen=True)
class CommandView:
    id: str
    name: str
    description: str
    group: str
    permissions: tuple[str, ...]
    fields: tuple[FormField, ...]
    variants: tuple[str, ...] = ()
    """Input values with permissions of their own (Fetch Event's event types)."""

    @property
    def search_text(self) -> str:
        """What the command filter box matches: name, id, description, input names."""
        words = [self.name, self.id, self.description, *(f.label for f in self.fields)]
        return " ".join(words).casefold()


def command_group(spec: Any) -> str:
    """A manifest `group` when the command has one, else one from the display name's verb:
    List -> Investigate, Fetch -> Events, Test -> Connection, anything else -> Respond."""
    group = getattr(spec, "group", None)
    if isinstance(group, str) and group:
        return group
    verb = spec.display_name.split(" ", 1)[0].casefold()
    return _GROUP_BY_VERB.get(verb, _ACTION_GROUP)


def _placeholder(spec: Any) -> str:
    parts = []
    example = getattr(spec, "example", None)
    if example not in (None, ""):
        parts.append(f"e.g. {example}")
    default = getattr(spec, "default", None)
    if isinstance(default, str | int | float) and not isinstance(default, bool):
        parts.append(f"default {default}")
    elif isinstance(default, dict) and "offset_from" in default:
        parts.append("default: relative to " + str(default["offset_from"]).replace("_", " "))
    return "; ".join(parts)


def form_field(spec: Any) -> FormField:
    allowed = tuple(getattr(spec, "allowed_values", ()) or ())
    kind = {"integer": "integer", "datetime": "datetime", "list": "list"}.get(spec.type, "text")
    if allowed:  # an open enum takes any value: a text field with the known ones suggested
        kind = "suggest" if getattr(spec, "open", False) else "choice"
    choices = tuple(
        Choice(str(getattr(a, "value", a)), str(getattr(a, "display_name", a))) for a in allowed)
    only_when = getattr(spec, "only_when", None)
    shown_when = None
    if isinstance(only_when, tuple) and len(only_when) == 2:
        shown_when = (str(only_when[0]), tuple(str(v) for v in only_when[1]))
    return FormField(id=spec.id, label=spec.display_name, kind=kind,
                     required=bool(spec.required), description=spec.description or "",
                     placeholder=_placeholder(spec), choices=choices, shown_when=shown_when)


def command_views(manifest: Any) -> list[CommandView]:
    return [CommandView(id=c.id, name=c.display_name, description=c.description or "",
                        group=command_group(c), permissions=tuple(c.permissions.all()),
                        fields=tuple(form_field(i) for i in c.inputs),
                        variants=tuple(getattr(c.permissions, "by_value", None) or ()))
            for c in manifest.commands]


def grouped(views: list[CommandView]) -> list[tuple[str, list[CommandView]]]:
    """Groups in first-seen order of the manifest; commands by name inside a group."""
    groups: dict[str, list[CommandView]] = {}
    for view in views:
        groups.setdefault(view.group, []).append(view)
    return [(name, sorted(members, key=lambda v: v.name)) for name, members in groups.items()]


def invalid_field(view: CommandView | None, message: str) -> str | None:
    """The form field an `Invalid input 'Top': ...` message is about (by display name or id)."""
    match = _INVALID_INPUT.match(message)
    if match is None or view is None:
        return None
    named = match.group("name").casefold()
    for field in view.fields:
        if named in (field.id.casefold(), field.label.casefold()):
            return field.id
    return None
