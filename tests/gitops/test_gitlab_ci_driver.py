"""The batch driver answers exactly what gitlab-ci-local's command line answers."""

from pathlib import Path

from verification.models.delivery import gitlab_ci as ci


def test_driver_equals_command_line(tmp_path: Path) -> None:
    files = ci.with_workflow_probe(ci.ci_files())
    cases = [
        (ci.SCENARIOS[0], "merge request touching sample-app"),
        (next(s for s in ci.SCENARIOS if s.event == "schedule"), "schedule"),
    ]
    (tmp_path / "home").mkdir()
    requests = []
    for i, (scenario, _) in enumerate(cases):
        repo = ci._repository(files, scenario.changed, tmp_path / str(i))
        requests.append((repo, [*ci.event_args(scenario.event), "--home", str(tmp_path / "home")]))
    batch = ci.run_batch(requests)
    for (repo, args), from_batch, (_, what) in zip(requests, batch, cases, strict=True):
        assert ci.parse_list(from_batch) == ci.parse_list(ci.cli(args, repo)), what


def test_handler_args_mapping() -> None:
    assert ci._handler_args(ci.event_args("merge_request")) == {
        "listJson": True,
        "jsonSchemaValidation": False,
        "variable": [
            "CI_PIPELINE_SOURCE=merge_request_event",
            "CI_MERGE_REQUEST_IID=1",
            "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=feature/change",
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=develop",
            "CI_COMMIT_REF_NAME=feature/change",
        ],
        "unsetVariable": ["CI_COMMIT_BRANCH"],
    }
    assert ci._handler_args(["--preview", "--home", "/h"]) == {
        "preview": True,
        "home": "/h",
        "variable": [],
        "unsetVariable": [],
    }


def test_workflow_probe_refusing_the_pipeline_makes_every_job_never() -> None:
    stdout = (
        '[{"name": "a", "stage": "build", "when": "on_success", "allow_failure": false},'
        ' {"name": "workflow-probe", "stage": ".pre", "when": "never", "allow_failure": false}]'
    )
    assert ci.parse_list(" WARN something\n" + stdout) == [
        {"name": "a", "stage": "build", "when": "never", "allow_failure": False, "needs": []}
    ]
