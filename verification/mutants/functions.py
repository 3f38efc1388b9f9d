"""Mutants that data cannot express: named functions (text -> text), referenced by `op: call`.

Keep this small: an edit that a YAML path or a text replacement can say belongs in the catalog.
"""

import re
from collections.abc import Callable


def drop_lines_matching(text: str, pattern: str) -> str:
    """Every line matching `pattern` removed (e.g. a key repeated in every document of a file)."""
    compiled = re.compile(pattern)
    return "".join(line for line in text.splitlines(keepends=True) if not compiled.search(line))


FUNCTIONS: dict[str, Callable[..., str]] = {"drop_lines_matching": drop_lines_matching}
