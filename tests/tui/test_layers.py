"""The import rule (docs/STYLE.md): `tui` imports only `domain`, textual and its API
client's libraries; nothing else imports textual; the simulator does not either."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "autogrocery"
TUI_ALLOWED = {"autogrocery.domain", "autogrocery.tui", "textual", "rich", "aiohttp", "orjson"}


def imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def third_party(name: str) -> bool:
    import sys

    return name.split(".")[0] not in sys.stdlib_module_names


def test_tui_imports_only_domain_and_its_client_libraries() -> None:
    for path in (PACKAGE / "tui").rglob("*.py"):
        for name in imports(path):
            if third_party(name):
                assert any(name == a or name.startswith(a + ".") for a in TUI_ALLOWED), (
                    f"{path.relative_to(PACKAGE)} imports {name}"
                )


def test_only_tui_imports_textual() -> None:
    for path in PACKAGE.rglob("*.py"):
        if "tui" in path.relative_to(PACKAGE).parts:
            continue
        textual = {n for n in imports(path) if n.split(".")[0] == "textual"}
        assert not textual, f"{path.relative_to(PACKAGE)} imports {textual}"
