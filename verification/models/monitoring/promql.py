"""Just enough PromQL lexing to ask two questions of an expression without a Go parser.

- Which metric names does it read? (a misspelled metric silently matches nothing)
- Does an alert expression filter with a comparison? (without one it fires for every series)

Syntax itself is checked by promtool (`promtool check rules`); this module only reads tokens,
so it leans on promtool having accepted the expression.

Prometheus 3 semantics this module follows (CHANGELOG 3.0.0):
- UTF-8 names: a metric name may be a quoted string inside the braces, `{"http.requests", job="x"}`.
- Classic histogram `le` and summary `quantile` values are normalised on ingestion ("1" is stored
  as "1.0"), so an exact matcher `le="1"` written for 2.x silently selects nothing.
- Range selectors are left-open (a sample exactly at the window's start is excluded): `rate(x[1m])`
  at a 15s scrape interval sees 4 samples, not 5. Nothing to lex; the rule comments count on 4.
"""

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

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
            names.update(_QUOTED_NAME_RE.findall(token.text))
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


# Prometheus 3: `{"name.with.dots", ...}`: a lone string (no operator after it) names the metric.
_QUOTED_NAME_RE = re.compile(r"""^\{\s*"((?:[^"\\]|\\.)*)"\s*(?=[,}])""")
_BUCKET_MATCHER_RE = re.compile(r"""(?<![\w.])(le|quantile)\s*(=|!=)\s*["']([^"']*)["']""")


def normalised_float(value: str) -> str | None:
    """How Prometheus 3 stores a scraped `le`/`quantile` value, None if it is no number.

    model/labels.FormatOpenMetricsFloat: Go's shortest %g (strconv 'g', -1: exponent form below
    1e-4 and from 1e6 on), then ".0" when the text has neither "." nor "e" ("1" -> "1.0").
    """
    try:
        number = float(value)
    except ValueError:
        return None
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "+Inf" if number > 0 else "-Inf"
    digits = Decimal(repr(number)).normalize().as_tuple()
    count = len(digits.digits)
    exponent = count - 1 + int(digits.exponent)
    if exponent < -4 or exponent >= 6:
        text = f"{number:.{count - 1}e}"
    else:
        text = f"{number:.{max(count - 1 - exponent, 0)}f}"
    return text if any(c in text for c in ".eEIN") else text + ".0"


def unnormalised_bucket_matchers(expr: str) -> list[str]:
    """Exact `le`/`quantile` matchers Prometheus 3 never matches, each with the value it stores instead."""
    found = []
    for token in tokenize(expr):
        if token.kind != "matchers":
            continue
        for label, operator, value in _BUCKET_MATCHER_RE.findall(token.text):
            stored = normalised_float(value)
            if stored is not None and stored != value:
                found.append(f'{label}{operator}"{value}" (Prometheus 3 stores {label}="{stored}")')
    return found


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
    for index, token, depth in _depths(tokens):
        following = tokens[index + 1].text if index + 1 < len(tokens) else ""
        if depth == 0 and token.text in COMPARISONS and following != "bool":  # `a > bool b`: 0/1 for every series
            return True
    if len(tokens) >= 3 and tokens[0].text in CONDITION_FUNCTIONS and tokens[1].text == "(":
        return _closing(tokens, 1) == len(tokens) - 1
    return False


def _depths(tokens: list[Token]) -> Iterator[tuple[int, Token, int]]:
    """(index, token, parenthesis depth after it): "(" counts itself in, ")" itself out."""
    depth = 0
    for index, token in enumerate(tokens):
        depth += (token.text == "(") - (token.text == ")")
        yield index, token, depth


def _split_top_level(tokens: list[Token], operator: str) -> list[list[Token]]:
    parts: list[list[Token]] = [[]]
    for _, token, depth in _depths(tokens):
        if depth == 0 and token.kind == "ident" and token.text == operator:
            parts.append([])
        else:
            parts[-1].append(token)
    return parts


def _closing(tokens: list[Token], open_index: int) -> int:
    """The index of the ")" closing the "(" at `open_index`, or -1."""
    found = (i for i, t, depth in _depths(tokens[open_index:]) if depth == 0 and t.text == ")")
    return open_index + next(found, -1 - open_index)


def _strip_outer_parens(tokens: list[Token]) -> list[Token]:
    while len(tokens) >= 2 and tokens[0].text == "(" and _closing(tokens, 0) == len(tokens) - 1:
        tokens = tokens[1:-1]
    return tokens
