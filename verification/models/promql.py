"""Just enough PromQL lexing to ask two questions of an expression without a Go parser.

- Which metric names does it read? (a misspelled metric silently matches nothing)
- Does an alert expression filter with a comparison? (without one it fires for every series)

Syntax itself is checked by promtool (`promtool check rules`); this module only reads tokens,
so it leans on promtool having accepted the expression.
"""

import re
from dataclasses import dataclass

_TOKEN_RE = re.compile(
    r"""
    (?P<space>\s+|\#[^\n]*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`)
  | (?P<matchers>\{)
  | (?P<range>\[[^\]]*\])
  | (?P<number>0x[0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?(?:ms|s|m|h|d|w|y)?(?:\d+(?:ms|s|m|h|d|w|y))*)
  | (?P<ident>[A-Za-z_:][A-Za-z0-9_:]*)
  | (?P<op>==|!=|>=|<=|=~|!~|[-+*/%^<>=(),@])
    """,
    re.VERBOSE,
)

AGGREGATIONS = frozenset(
    "sum min max avg group stddev stdvar count count_values bottomk topk quantile limitk limit_ratio".split()
)
# Keywords followed by a parenthesised list of label names, not of expressions.
LABEL_LIST_KEYWORDS = frozenset("by without on ignoring group_left group_right".split())
SET_OPERATORS = frozenset(("and", "or", "unless"))
KEYWORDS = (
    AGGREGATIONS | LABEL_LIST_KEYWORDS | SET_OPERATORS | frozenset(("bool", "offset", "inf", "nan", "Inf", "NaN"))
)
COMPARISONS = frozenset(("==", "!=", ">", "<", ">=", "<="))
# Functions whose result is itself the alert condition (1 when the series is missing).
CONDITION_FUNCTIONS = frozenset(("absent", "absent_over_time"))


@dataclass(frozen=True)
class Token:
    kind: str
    text: str


def tokenize(expr: str) -> list[Token]:
    """Tokens of `expr`; a `{...}` label-matcher block is one token (its operators are not PromQL's)."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(expr):
        match = _TOKEN_RE.match(expr, pos)
        if not match:
            raise ValueError(f"cannot read PromQL at {expr[pos : pos + 20]!r}")
        kind = match.lastgroup or ""
        if kind == "matchers":
            end = _matcher_block_end(expr, pos)
            tokens.append(Token("matchers", expr[pos:end]))
            pos = end
            continue
        if kind != "space":
            tokens.append(Token(kind, match.group()))
        pos = match.end()
    return tokens


def _matcher_block_end(expr: str, start: int) -> int:
    quote = ""
    pos = start + 1
    while pos < len(expr):
        char = expr[pos]
        if quote:
            if char == "\\":
                pos += 1
            elif char == quote:
                quote = ""
        elif char in "\"'`":
            quote = char
        elif char == "}":
            return pos + 1
        pos += 1
    raise ValueError(f"unclosed label matchers in {expr[start : start + 40]!r}")


def metric_names(expr: str) -> set[str]:
    """Metric names selected by `expr` (bare identifiers and `{__name__="..."}`)."""
    tokens = tokenize(expr)
    names: set[str] = set()
    skip_label_list = False
    depth_of_label_list: int | None = None
    depth = 0
    for index, token in enumerate(tokens):
        if skip_label_list and token.text != "(":
            skip_label_list = False  # `group_left` without a label list
        if token.text == "(":
            depth += 1
            if skip_label_list:
                depth_of_label_list, skip_label_list = depth, False
            continue
        if token.text == ")":
            if depth_of_label_list == depth:
                depth_of_label_list = None
            depth -= 1
            continue
        if depth_of_label_list is not None:
            continue  # label names inside by (...), on (...)
        if token.kind == "matchers":
            names.update(re.findall(r"""__name__\s*=\s*["']([^"']+)["']""", token.text))
            continue
        if token.kind != "ident":
            continue
        if token.text in LABEL_LIST_KEYWORDS:
            skip_label_list = True
            continue
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if token.text in KEYWORDS or following == "(":
            continue  # keyword or function call
        names.add(token.text)
    return names


def has_comparison(expr: str) -> bool:
    """Whether `expr` filters series: a top-level comparison (not `bool`), absent(), or set
    operators whose result is filtered (`a or b`: both; `a unless b`: a; `a and b`: either)."""
    return _filters(_strip_outer_parens(tokenize(expr)))


def _filters(tokens: list[Token]) -> bool:
    tokens = _strip_outer_parens(tokens)
    for operator, combine in (("or", all), ("unless", None), ("and", any)):
        parts = _split_top_level(tokens, operator)
        if len(parts) > 1:
            if combine is None:  # `a unless b` keeps a's series
                return _filters(parts[0])
            return combine(_filters(part) for part in parts)
    depth = 0
    for index, token in enumerate(tokens):
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        elif depth == 0 and token.text in COMPARISONS:
            following = tokens[index + 1].text if index + 1 < len(tokens) else ""
            if following != "bool":  # `a > bool b` returns 0/1 for every series
                return True
    if len(tokens) >= 3 and tokens[0].text in CONDITION_FUNCTIONS and tokens[1].text == "(":
        return _closing(tokens, 1) == len(tokens) - 1
    return False


def _split_top_level(tokens: list[Token], operator: str) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    depth = 0
    for token in tokens:
        if token.text == "(":
            depth += 1
        elif token.text == ")":
            depth -= 1
        if depth == 0 and token.kind == "ident" and token.text == operator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _closing(tokens: list[Token], open_index: int) -> int:
    depth = 0
    for index in range(open_index, len(tokens)):
        if tokens[index].text == "(":
            depth += 1
        elif tokens[index].text == ")":
            depth -= 1
            if depth == 0:
                return index
    return -1


def _strip_outer_parens(tokens: list[Token]) -> list[Token]:
    while len(tokens) >= 2 and tokens[0].text == "(" and _closing(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return tokens
