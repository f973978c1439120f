"""The layout is tested: every module of src/ sits on a layer of the import-linter contract, the
forbidden contracts cover the whole package, and docs/architecture.md lists those same layers and
names only packages and modules that exist."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

from tests.conftest import REPO

PACKAGE = REPO / "src" / "dailypapers"
DOC = REPO / "docs" / "architecture.md"


def _contracts() -> list[dict[str, Any]]:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contracts: list[dict[str, Any]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def _layers() -> list[str]:
    (layers,) = [c["layers"] for c in _contracts() if c["type"] == "layers"]
    return [" ".join(layer.split()) for layer in layers]


def _top_level_parts(package: Path = PACKAGE) -> set[str]:
    """Every module and package directly under `package`, as dotted names."""
    parts = {f"dailypapers.{path.stem}" for path in package.glob("*.py") if path.stem != "__init__"}
    parts |= {
        f"dailypapers.{path.name}"
        for path in package.iterdir()
        if path.is_dir() and (path / "__init__.py").is_file()
    }
    return parts


def test_every_top_level_module_sits_on_exactly_one_layer() -> None:
    on_layers = [name for layer in _layers() for name in re.split(r"[|:]", layer)]
    on_layers = [name.strip() for name in on_layers]
    assert len(on_layers) == len(set(on_layers)), "a module is on two layers"
    missing = _top_level_parts() - set(on_layers)
    assert not missing, f"on no layer of pyproject.toml's layers contract: {sorted(missing)}"
    stale = set(on_layers) - _top_level_parts()
    assert not stale, f"the layers contract names modules that do not exist: {sorted(stale)}"


def test_every_forbidden_contract_covers_the_whole_package() -> None:
    forbidden = [c for c in _contracts() if c["type"] == "forbidden"]
    assert len(forbidden) >= 7
    for contract in forbidden:
        assert contract["source_modules"] == ["dailypapers"], contract["name"]


def test_the_architecture_doc_lists_the_contracts_layers_in_order() -> None:
    block = re.search(r"```layers\n(.*?)```", DOC.read_text(), re.S)
    assert block is not None, "docs/architecture.md has no ```layers block"
    documented = [" ".join(line.split()) for line in block.group(1).strip().splitlines()]
    assert documented == _layers()


def test_every_package_and_module_the_architecture_doc_names_exists() -> None:
    text = DOC.read_text()
    named = set(re.findall(r"`((?:[a-z_]+/)+(?:[a-z_]+\.py)?)", text))
    assert len(named) > 30, "the doc names too few paths for this check to mean anything"
    # Paths the doc gives as examples of where a future feature would go.
    future = {
        "store/reading_lists.py",
        "community/reading_lists.py",
        "web/reading_list_pages.py",
        "community/author_claims.py",
        "store/author_claims.py",
    }
    missing = []
    for path in sorted(named - future):
        target = REPO / path if path.startswith(("src/", "tests/")) else PACKAGE / path
        if not (target.is_file() if path.endswith(".py") else target.is_dir()):
            missing.append(path)
    assert not missing, f"docs/architecture.md names paths that do not exist: {missing}"
    for name in re.findall(r"\bdailypapers\.([a-z_]+)", text):
        assert f"dailypapers.{name}" in _top_level_parts(), name


def test_a_module_added_to_no_layer_is_caught(tmp_path: Path) -> None:
    """The layer check sees new modules and packages, not only the ones of today."""
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "services.py").write_text("")
    (tmp_path / "reading").mkdir()
    (tmp_path / "reading" / "__init__.py").write_text("")
    (tmp_path / "templates").mkdir()  # a folder without __init__.py is data, not a package
    on_layers = {n.strip() for layer in _layers() for n in re.split(r"[|:]", layer)}
    assert _top_level_parts(tmp_path) - on_layers == {"dailypapers.reading"}
