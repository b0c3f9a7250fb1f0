"""The code stays in small pieces: no module in syncer/ over 400 lines, no function over 60.

Walks the package with ``ast`` so the offenders are listed by name, and a new long function
fails here, in the fast suite, instead of in review.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "syncer"
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def _modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def long_modules() -> list[str]:
    offenders = []
    for path in _modules():
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > MAX_MODULE_LINES:
            offenders.append(f"{path.relative_to(PACKAGE.parent)}: {lines} lines")
    return offenders


def long_functions() -> list[str]:
    offenders = []
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                lines = (node.end_lineno or node.lineno) - first + 1
                if lines > MAX_FUNCTION_LINES:
                    where = f"{path.relative_to(PACKAGE.parent)}:{node.lineno}"
                    offenders.append(f"{where} {node.name}: {lines} lines")
    return offenders


def test_the_walk_sees_the_package() -> None:
    assert len(_modules()) > 50
    assert (PACKAGE / "core" / "planning.py") in _modules()


def test_no_module_over_400_lines() -> None:
    assert long_modules() == []


def test_no_function_over_60_lines() -> None:
    assert long_functions() == []


def core_imports_of(module: str) -> list[str]:
    """Modules of syncer/core that import ``module`` (or one of its submodules) directly."""
    offenders = []
    for path in sorted((PACKAGE / "core").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            if any(name == module or name.startswith(module + ".") for name in names):
                offenders.append(f"{path.relative_to(PACKAGE.parent)}:{node.lineno}")
    return offenders


def test_the_core_does_not_fetch_urls() -> None:
    """The pure core may parse URLs (urllib.parse) but never open them; import-linter cannot tell."""
    assert core_imports_of("urllib.parse") != []  # the check sees imports at all
    assert core_imports_of("urllib.request") == []
