"""labels/ is pure: it imports nothing of ours, nor the web or ORM layers."""

import ast
from pathlib import Path

import labels

FORBIDDEN = {"app", "models", "routes", "fastapi", "sqlmodel", "sqlalchemy", "starlette"}
PACKAGE = Path(labels.__file__).parent


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative imports stay inside labels/
                names.add("labels")
            elif node.module:
                names.add(node.module.split(".")[0])
    return names


def test_every_module_is_checked() -> None:
    modules = sorted(PACKAGE.rglob("*.py"))
    assert len(modules) >= 8, modules
    assert {"sheet.py", "route.py", "qr.py"} <= {m.name for m in modules}


def test_labels_imports_nothing_of_ours_nor_web_or_orm() -> None:
    offenders = {
        str(path.relative_to(PACKAGE)): sorted(_imports(path) & FORBIDDEN)
        for path in PACKAGE.rglob("*.py")
        if _imports(path) & FORBIDDEN
    }
    assert offenders == {}


def test_import_checker_sees_forbidden_imports(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text("import fastapi\nfrom app.core.db import x\nfrom models.claim import Claim\n")
    assert _imports(bad) & FORBIDDEN == {"fastapi", "app", "models"}
