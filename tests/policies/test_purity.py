"""The policies package stays pure: no I/O, no clocks, no event loop.

tests/test_architecture.py keeps our own packages out; this keeps the rest
of the world out too, by listing the few modules the package may use.
"""

import ast
from pathlib import Path

import policies

PACKAGE = Path(policies.__file__).parent
ALLOWED = {
    "__future__",
    "bisect",
    "collections",
    "dataclasses",
    "datetime",
    "policies",
    "pydantic",
    "re",
    "types",
    "typing",
    "unicodedata",
}


def test_policies_imports_only_pure_modules() -> None:
    for path in PACKAGE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""] if node.level == 0 else []
            else:
                continue
            for name in names:
                assert name.split(".")[0] in ALLOWED, f"{path.name} imports {name}"


def test_every_module_says_what_it_owns_and_exports_its_api() -> None:
    for path in PACKAGE.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        assert ast.get_docstring(tree), f"{path.name} has no module docstring"
        exported = [
            node
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(
                isinstance(target, ast.Name) and target.id == "__all__" for target in node.targets
            )
        ]
        assert exported, f"{path.name} has no __all__"


def test_the_package_exports_what_it_names() -> None:
    for name in policies.__all__:
        assert hasattr(policies, name), name
