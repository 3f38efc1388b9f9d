"""metav1.LabelSelector semantics, once: NetworkPolicy peers, aggregationRule, operator selectors.

matchLabels AND every matchExpression; `{}` matches everything; NotIn and DoesNotExist match an
absent key.
"""

from collections.abc import Mapping
from typing import Any

from verification.errors import UserError

OPERATORS = ("In", "NotIn", "Exists", "DoesNotExist")


def matches(selector: Mapping[str, Any], labels: Mapping[str, str], where: str = "label selector") -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != str(value):
            return False
    for expression in selector.get("matchExpressions") or []:
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
