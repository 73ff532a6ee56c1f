"""What must match between a lesson's English and Indonesian notebooks.

Both have the same cells in the same order; code cells are identical once comments and string
literals (what a learner reads, in their language) are set aside; markdown has the same headings
at the same levels in the same cells. `differences` lists every way two notebooks drift apart.
"""

from __future__ import annotations

import io
import re
import tokenize

import nbformat

TEXT_TOKENS = {tokenize.STRING} | {
    getattr(tokenize, name)
    for name in ("FSTRING_START", "FSTRING_MIDDLE", "FSTRING_END")
    if hasattr(tokenize, name)
}
FENCE = re.compile(r"^(```|~~~)")
HEADING = re.compile(r"^(#{1,6})\s")


def code_shape(source: str) -> list[str]:
    """The code's tokens, with every comment dropped and every string literal reduced to "STR"."""
    shape: list[str] = []
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING):
                continue
            if token.type in TEXT_TOKENS:
                if not shape or shape[-1] != "STR":  # an f-string is several tokens in 3.12+
                    shape.append("STR")
            else:
                shape.append(token.string)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return [line for line in source.splitlines() if line.strip()]  # cell magics: compare as is
    return shape


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
