"""metav1.LabelSelector semantics, once: NetworkPolicy peers, aggregationRule, operator selectors.

matchLabels AND every matchExpression; `{}` matches everything; NotIn and DoesNotExist match an
absent key.
"""

from collections.abc import Mapping
from typing import Any

from verification.errors import UserError

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def matches(selector: Mapping[str, Any], labels: Mapping[str, str], where: str = "label selector") -> bool:
    # Shapes the API server's validation refuses (a truncated file gives `matchLabels: p`): one line.
    if not isinstance(selector, Mapping):
        raise UserError(f"{where}: a label selector must be a mapping, not {selector!r}")
    match_labels, expressions = selector.get("matchLabels") or {}, selector.get("matchExpressions") or []
    if not isinstance(match_labels, Mapping):
        raise UserError(f"{where}: matchLabels must be a mapping of label to value, not {match_labels!r}")
    if not isinstance(expressions, list) or not all(isinstance(e, Mapping) for e in expressions):
        raise UserError(f"{where}: matchExpressions must be a list of {{key, operator, values}}, not {expressions!r}")
    for key, value in match_labels.items():
        if labels.get(key) != str(value):
            return False
    for expression in expressions:
        key, operator = expression.get("key"), expression.get("operator")
        values = [str(v) for v in expression.get("values") or []]
        present = key in labels
        if operator == "In":
            ok = present and labels[key] in values
        elif operator == "NotIn":
            ok = not present or labels[key] not in values
        elif operator == "Exists":
            ok = present
        elif operator == "DoesNotExist":
            ok = not present
        else:
            raise UserError(f"{where}: unknown selector operator {operator!r} ({', '.join(OPERATORS)})")
        if not ok:
            return False
    return True
