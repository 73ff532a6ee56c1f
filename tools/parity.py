"""What must match between a lesson's English and Indonesian notebooks.

Both have the same cells in the same order; code cells are identical once comments and string
literals (what a learner reads, in their language) are set aside; markdown has the same headings
at the same levels in the same cells. `differences` lists every way two notebooks drift apart.
"""

from __future__ import annotations

import ast
import re

import nbformat

FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s")
CELL_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT  # cells may await at top level


class _SetTextAside(ast.NodeTransformer):
    """String literals become "STR"; an f-string keeps only its {expressions}, in order."""

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        # Translations may move the words around the placeholders; the expressions must not change.
        values = [self.visit(v) for v in node.values if isinstance(v, ast.FormattedValue)]
        return ast.JoinedStr(values=values)

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        return ast.Constant("STR") if isinstance(node.value, str | bytes) else node


def code_shape(source: str) -> str:
    """The code's syntax tree with comments gone and string literals set aside."""
    try:
        tree = compile(source, "<cell>", "exec", flags=CELL_FLAGS)
    except SyntaxError:  # IPython magics: compare the lines as they are
        return "\n".join(line for line in source.splitlines() if line.strip())
    return ast.dump(_SetTextAside().visit(tree))


def heading_levels(markdown: str) -> list[int]:
    """The level of each heading in `markdown`, outside fenced code blocks."""
    levels, in_fence = [], False
    for line in markdown.splitlines():
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and (match := HEADING.match(line)):
            levels.append(len(match.group(1)))
    return levels


def differences(first: nbformat.NotebookNode, second: nbformat.NotebookNode) -> list[str]:
    """Every way `second` departs from `first`; empty when the two are in parity."""
    found = []
    if len(first.cells) != len(second.cells):
        found.append(f"{len(first.cells)} cells against {len(second.cells)}")
    for index, (a, b) in enumerate(zip(first.cells, second.cells)):
        if a.cell_type != b.cell_type:
            found.append(f"cell {index}: {a.cell_type} against {b.cell_type}")
        elif a.cell_type == "code" and code_shape(a.source) != code_shape(b.source):
            found.append(f"cell {index}: code differs:\n{a.source}\n---\n{b.source}")
        elif a.cell_type == "markdown" and heading_levels(a.source) != heading_levels(b.source):
            found.append(
                f"cell {index}: headings {heading_levels(a.source)} against {heading_levels(b.source)}"
            )
    return found
