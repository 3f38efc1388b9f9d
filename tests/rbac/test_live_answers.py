"""probes/sar.py answer_row: a live SubjectAccessReview answer as a verdict row, hand-checked."""

from verification.models.rbac.authorizer import Request
from verification.probes.sar import answer_row
from verification.verdicts.verdict import Verdict

GET_PODS = Request("alice", ("system:authenticated",), "get", resource="pods", namespace="test")


def test_agreeing_answers_are_not_printed() -> None:
    verdict = Verdict("sar", rows=[answer_row(GET_PODS, True, True, True), answer_row(GET_PODS, False, False)])
    assert verdict.ok and verdict.render() == "sar: 0 of 2 rows differ"


def test_each_disagreement_names_whom_the_cluster_disagrees_with() -> None:
    rows = [answer_row(GET_PODS, True, False), answer_row(GET_PODS, False, False, True)]
    assert Verdict("sar", rows=rows).render().splitlines()[2:] == [
        "subject                                                  expected                      observed  cause",
        "alice [system:authenticated] get pods in namespace test  deny                          allow     "
        "the API server's authorizer answers otherwise than the model over the same objects",
        "alice [system:authenticated] get pods in namespace test  deny (model), allow (intent)  deny      "
        "the cluster's RBAC objects do not grant what the intent says",
    ]
