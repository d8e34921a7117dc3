"""``validate``'s check of the resource catalogue against Microsoft Graph's v1.0 metadata (CSDL).

Each resource's ``item_type`` must be an entity type of the CSDL subset kept in
``shared/reference/graph-v1.0-subset.csdl.xml`` (beside the plugin), its ``properties`` exactly
that type's properties (with inherited ones, ``id`` from ``entity``), and each filter path must
walk real properties and complex types. A type the subset lacks is reported as a note, not
passed silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from executor.model import Manifest, ResourceSpec

CSDL_FILE = Path("shared") / "reference" / "graph-v1.0-subset.csdl.xml"
_ENTITY_PROPERTIES = {"id": "Edm.String"}


@dataclass
class Csdl:
    entities: dict[str, dict[str, str]] = field(default_factory=dict)
    complex_types: dict[str, dict[str, str]] = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> Csdl:
        import xml.etree.ElementTree as ElementTree  # only validate needs it

        root = ElementTree.parse(path).getroot()
        csdl = cls()
        bases: dict[str, str] = {}
        for node in root:
            tag = node.tag.rsplit("}", 1)[-1]
            props = {p.get("Name", ""): p.get("Type", "") for p in node
                     if p.tag.rsplit("}", 1)[-1] == "Property"}
            name = node.get("Name", "")
            if tag == "EntityType":
                csdl.entities[name] = props
                bases[name] = node.get("BaseType", "")
            elif tag == "ComplexType":
                csdl.complex_types[name] = props
        for name in csdl.entities:
            csdl.entities[name] = csdl._inherited(name, bases)
        return csdl

    def _inherited(self, name: str, bases: dict[str, str]) -> dict[str, str]:
        base = bases.get(name, "").removeprefix("graph.")
        inherited = (_ENTITY_PROPERTIES if base == "entity" else
                     self._inherited(base, bases) if base in self.entities else {})
        return {**inherited, **self.entities[name]}

    def property_type(self, owner: dict[str, str], segment: str) -> dict[str, str] | None:
        """The complex type behind a property (collections unwrapped), else None."""
        kind = owner[segment].removeprefix("Collection(").rstrip(")").removeprefix("graph.")
        return self.complex_types.get(kind)


def check_resource(csdl: Csdl, resource: ResourceSpec) -> list[str]:
    """What in one resource's declaration the CSDL contradicts."""
    where = f"integration.yaml: resources.{resource.id}"
    entity = csdl.entities.get(resource.item_type)
    if entity is None:
        return []
    problems = []
    declared, actual = set(resource.properties), set(entity)
    if declared != actual:
        problems.append(f"{where}: properties differ from CSDL {resource.item_type}: "
                        f"missing {sorted(actual - declared)}, unknown {sorted(declared - actual)}")
    for path in resource.filters:
        owner: dict[str, str] | None = entity
        for segment in path.split("/"):
            if owner is None or segment not in owner:
                problems.append(f"{where}: filter path '{path}' is not in CSDL "
                                f"{resource.item_type}")
                break
            owner = csdl.property_type(owner, segment)
    return problems


def check_catalogue(manifest: Manifest, plugin_dir: Path) -> tuple[list[str], list[str]]:
    """(problems, notes) of the whole catalogue against the CSDL beside the plugin."""
    path = plugin_dir.parent / CSDL_FILE
    if not path.is_file():
        return [], [f"resources: {CSDL_FILE} not found beside the plugin; CSDL check skipped"]
    csdl = Csdl.read(path)
    problems = [p for r in manifest.resources for p in check_resource(csdl, r)]
    notes = [f"resources: {len(manifest.resources)} checked against {CSDL_FILE.name}"]
    notes += [f"resources.{r.id}: item type {r.item_type} is not in the CSDL subset; "
              "its properties are unchecked" for r in manifest.resources
              if r.item_type not in csdl.entities]
    return problems, notes
