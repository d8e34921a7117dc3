"""A manifest that passed its meta-schema is not re-checked; a broken one is refused every time."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from executor import validation_cache
from executor.errors import ManifestError
from executor.manifest import load_manifest
from executor.schema_store import SchemaStore
from tests.conftest import ROOT


@pytest.fixture
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv(validation_cache.DISABLE_ENV, raising=False)
    return tmp_path / "cache" / "entra-id-protection" / "manifest-valid"


@pytest.fixture
def plugin(tmp_path: Path) -> Path:
    directory = tmp_path / "plugin"
    directory.mkdir()
    shutil.copy(ROOT / "integration.yaml", directory / "integration.yaml")
    shutil.copytree(ROOT / "schemas", directory / "schemas")
    shutil.copytree(ROOT / "field_mappings", directory / "field_mappings")
    return directory


class CountingStore(SchemaStore):
    """Counts the meta-schema validations a load asks for."""

    def __init__(self, plugin_dir: Path) -> None:
        super().__init__(plugin_dir)
        self.validations = 0

    def first_error(self, relpath: str, instance: Any) -> Any:
        if relpath == "schemas/integration.schema.json":
            self.validations += 1
        return super().first_error(relpath, instance)


def _load(plugin: Path) -> CountingStore:
    store = CountingStore(plugin)
    load_manifest(plugin, store)
    return store


def test_a_manifest_that_passed_is_not_validated_again(cache_home: Path, plugin: Path) -> None:
    assert _load(plugin).validations == 1
    assert _load(plugin).validations == 0
    assert oct(cache_home.stat().st_mode & 0o777) == oct(0o700)


def test_a_remembered_manifest_loads_exactly_as_a_parsed_one(
        cache_home: Path, plugin: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _load(plugin)
    remembered = load_manifest(plugin, SchemaStore(plugin))
    monkeypatch.setenv(validation_cache.DISABLE_ENV, "1")
    parsed = load_manifest(plugin, SchemaStore(plugin))
    assert remembered == parsed
    assert [c.id for c in remembered.commands] == [c.id for c in parsed.commands]


def test_a_torn_cache_file_means_validating_again(cache_home: Path, plugin: Path) -> None:
    _load(plugin)
    (entry,) = cache_home.glob("*.json")
    entry.write_text(entry.read_text(encoding="utf-8")[:100], encoding="utf-8")
    assert _load(plugin).validations == 1
    assert _load(plugin).validations == 0


def test_a_changed_manifest_or_meta_schema_is_validated_again(cache_home: Path,
                                                              plugin: Path) -> None:
    _load(plugin)
    manifest = plugin / "integration.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert _load(plugin).validations == 1
    meta = plugin / "schemas" / "integration.schema.json"
    meta.write_text(meta.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    assert _load(plugin).validations == 0  # same JSON document: same verdict
    meta.write_text(meta.read_text(encoding="utf-8").replace("{", '{"$comment": "new",', 1),
                    encoding="utf-8")
    assert _load(plugin).validations == 1


def test_a_broken_manifest_is_refused_at_every_load_with_the_same_message(
        cache_home: Path, plugin: Path) -> None:
    manifest = plugin / "integration.yaml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace(
        "commands:", "commands_typo:", 1), encoding="utf-8")
    messages = []
    for _ in range(2):
        with pytest.raises(ManifestError) as caught:
            _load(plugin)
        messages.append(str(caught.value))
    assert messages[0] == messages[1]
    assert "integration.yaml" in messages[0]
    assert not cache_home.exists() or not any(cache_home.iterdir())


def test_a_cache_directory_others_may_write_to_is_not_trusted(cache_home: Path,
                                                               plugin: Path) -> None:
    _load(plugin)
    cache_home.chmod(0o777)
    try:
        assert _load(plugin).validations == 1
        assert _load(plugin).validations == 1
    finally:
        cache_home.chmod(0o700)


def test_the_cache_can_be_switched_off(cache_home: Path, plugin: Path,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(validation_cache.DISABLE_ENV, "1")
    assert _load(plugin).validations == 1
    assert _load(plugin).validations == 1
    assert not cache_home.exists()


def test_an_unwritable_cache_is_no_cache(tmp_path: Path, plugin: Path,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    assert _load(plugin).validations == 1
    assert _load(plugin).validations == 1
    assert os.path.isfile(blocker)


def test_a_broken_manifest_and_meta_schema_are_refused_in_the_uncached_order(
        cache_home: Path, plugin: Path) -> None:
    (plugin / "integration.yaml").write_text("commands: [\n", encoding="utf-8")
    (plugin / "schemas" / "integration.schema.json").write_text("{", encoding="utf-8")
    with pytest.raises(ManifestError, match="not valid YAML"):
        _load(plugin)
    (plugin / "integration.yaml").write_text("commands: []\n", encoding="utf-8")
    with pytest.raises(ManifestError, match=r"integration\.schema\.json.*not valid JSON"):
        _load(plugin)
