"""Dependencies flow policies <- chat_service <- notifier; admin on top; nothing imports admin."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = {
    "policies": set(),
    "chat_service": {"policies"},
    "notifier": {"policies", "chat_service"},
    "admin": {"policies", "chat_service", "notifier"},
}
GPL_MODULES = {"secantus", "secantusdb"}
FORBIDDEN = {"motor", "mongomock", "fakeredis", "mongomock_motor"}


def imports_of(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(ALLOWED))
def test_dependency_direction(package: str) -> None:
    files = list((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    ours = set(ALLOWED)
    for path in files:
        used = imports_of(path) & ours - {package}
        assert used <= ALLOWED[package], (
            f"{path.relative_to(ROOT)} imports {used - ALLOWED[package]}"
        )


def test_no_gpl_store_and_no_fakes_in_product_code() -> None:
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            bad = imports_of(path) & (GPL_MODULES | FORBIDDEN)
            assert not bad, f"{path.relative_to(ROOT)} imports {bad}"


def test_no_fakes_in_tests() -> None:
    for path in (ROOT / "tests").rglob("*.py"):
        assert not imports_of(path) & FORBIDDEN, path


def test_modules_stay_small() -> None:
    for package in ALLOWED:
        for path in (ROOT / package).rglob("*.py"):
            lines = len(path.read_text().splitlines())
            assert lines <= 400, f"{path.relative_to(ROOT)} has {lines} lines"
