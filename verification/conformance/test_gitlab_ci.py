"""The GitLab pipelines, evaluated by the pinned gitlab-ci-local, keep the delivery rules.

One `--list-json` per scenario (event x changed paths) and one `--preview`, in parallel, once per
session (and cached on disk by content): see verification/models/delivery/gitlab_ci.py.
"""

import threading
from concurrent.futures import Future

import pytest

from verification.errors import UserError
from verification.models.delivery import gates as delivery_gates
from verification.models.delivery import gitlab_ci as ci

# Started when pytest imports this module (at collection): with a cold cache the interpreter's
# node processes then run beside the rest of the suite instead of after it; the fixture only
# waits for the result. With a warm cache (answers keyed by the files' content) it is instant.
_EARLY: Future[ci.Evaluation] = Future()


def _evaluate_early() -> None:
    try:
        _EARLY.set_result(ci.evaluate())
    except BaseException as exc:  # noqa: BLE001 - re-raised by the fixture, in the test that needs it
        _EARLY.set_exception(exc)


threading.Thread(target=_evaluate_early, name="gitlab-ci-local", daemon=True).start()


@pytest.fixture(scope="module")
def evaluation() -> ci.Evaluation:
    try:
        return _EARLY.result(timeout=600)
    except UserError as exc:
        pytest.fail(str(exc), pytrace=False)


def _running(evaluation: ci.Evaluation, scenario: ci.Scenario) -> dict[str, str]:
    pipeline = next(p for p in evaluation.pipelines if p.scenario == scenario)
    return {j.name: j.when + ("/allow_failure" if j.allow_failure else "") for j in pipeline.running().values()}


@pytest.mark.parametrize("scenario", ci.SCENARIOS, ids=lambda s: f"{s.event}-{'+'.join(sorted(s.apps)) or 'none'}")
def test_delivery_rules(evaluation: ci.Evaluation, scenario: ci.Scenario) -> None:
    pipeline = next(p for p in evaluation.pipelines if p.scenario == scenario)
    problems = ci.check_pipeline(evaluation, pipeline)
    assert not problems, "\n".join(problems) + "\n\n" + ci.grid(evaluation)


def test_job_definitions(evaluation: ci.Evaluation) -> None:
    problems = ci.check_definitions(evaluation)
    assert not problems, "\n".join(problems)


def test_nightly_e2e_keeps_its_caches_warm(evaluation: ci.Evaluation) -> None:
    """Go caches, tools, binaries and image archives survive to the next nightly runner."""
    problems = ci.check_warm_cache(evaluation)
    assert not problems, "\n".join(problems)


def test_pipeline_evaluates_offline() -> None:
    problems = ci.check_offline(ci.ci_files())
    assert not problems, "\n".join(problems)


# Hand-written pipelines for four scenarios: exactly these jobs, with these when/allow_failure.
APP_CI = ("build", "unit-test", "integration-test", "sast", "container-scan", "package")


def _app_jobs(app: str) -> dict[str, str]:
    return {f"{app}:{job}": "on_success" for job in APP_CI}


def test_push_main_offers_only_a_manual_staging_deploy_of_the_changed_app(evaluation: ci.Evaluation) -> None:
    scenario = next(s for s in ci.SCENARIOS if s.event == "push_main" and s.apps == {"sample-app"})
    assert _running(evaluation, scenario) == {
        **_app_jobs("sample-app"),
        "sample-app:deploy-staging": "manual",
        "sample-app:rollback-staging": "manual/allow_failure",
        "verify:conformance": "on_success",
    }


def test_push_develop_deploys_only_the_changed_app_to_test(evaluation: ci.Evaluation) -> None:
    scenario = next(s for s in ci.SCENARIOS if s.event == "push_develop" and s.apps == {"sample2-app"})
    assert _running(evaluation, scenario) == {
        **_app_jobs("sample2-app"),
        "sample2-app:deploy-test": "on_success",
        "sample2-app:rollback-test": "manual/allow_failure",
        "verify:conformance": "on_success",
    }


def test_schedule_runs_only_the_nightly_jobs(evaluation: ci.Evaluation) -> None:
    scenario = next(s for s in ci.SCENARIOS if s.event == "schedule")
    assert _running(evaluation, scenario) == {"verify:e2e": "on_success", "verify:mutants": "on_success"}


def test_merge_request_without_app_change_runs_only_conformance(evaluation: ci.Evaluation) -> None:
    scenario = next(s for s in ci.SCENARIOS if s.event == "merge_request" and not s.apps)
    assert _running(evaluation, scenario) == {"verify:conformance": "on_success"}


def test_every_deploy_needs_all_gates_of_its_app(evaluation: ci.Evaluation) -> None:
    # Mutant killed here: a staging deploy whose needs drop the container scan (catalog/ci.yaml).
    problems = delivery_gates.check(evaluation)
    assert not problems, "\n".join(problems)
