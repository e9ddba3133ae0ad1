"""No function longer than a screen without a reason written beside it: a comment starting
`# Long` on the line above its `def` (or its decorators)."""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FLOORS = ("base", "retrieval", "ranking", "orders", "assistant", "ui", "evals", "cli")
LIMIT = 80


def test_long_functions_say_why():
    unexplained = []
    for floor in FLOORS:
        for path in sorted((ROOT / floor).rglob("*.py")):
            lines = path.read_text(encoding="utf-8").splitlines()
            for node in ast.walk(ast.parse("\n".join(lines))):
                if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                if node.end_lineno - node.lineno + 1 <= LIMIT:
                    continue
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                if not lines[first - 2].lstrip().startswith("# Long"):
                    size = node.end_lineno - node.lineno + 1
                    unexplained.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} {size}")
    assert not unexplained, "functions over 80 lines, no `# Long …` reason:\n" + "\n".join(
        unexplained
    )
