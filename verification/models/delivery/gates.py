"""No deploy without its gates: every deploy job of an app needs, directly or through other
needs, every job of that app in the stages before deploy (build, test, security, package).

`needs:` lets a job start as soon as what it names is done, whatever the stages say: a deploy
that no longer needs the container scan starts while the scan runs and deploys an image the scan
then fails. The pipeline stays valid (GitLab accepts it); only the gate is gone.
"""

from verification.models.delivery.gitlab_ci import Evaluation, Pipeline, app_of, deploy_jobs

GATE_STAGES = ("build", "test", "security", "package")


def _ancestors(name: str, needs: dict[str, tuple[str, ...]]) -> set[str]:
    seen: set[str] = set()
    todo = list(needs.get(name, ()))
    while todo:
        job = todo.pop()
        if job not in seen:
            seen.add(job)
            todo.extend(needs.get(job, ()))
    return seen


def check_pipeline(evaluation: Evaluation, pipeline: Pipeline) -> list[str]:
    running = pipeline.running()
    needs = {name: job.needs for name, job in running.items()}
    problems = []
    for deploy in deploy_jobs(evaluation, "test") + deploy_jobs(evaluation, "staging"):
        if deploy not in running:
            continue
        app = app_of(deploy)
        gates = {n for n, j in running.items() if app_of(n) == app and j.stage in GATE_STAGES}
        missing = sorted(gates - _ancestors(deploy, needs))
        if missing:
            problems.append(
                f"{pipeline.scenario.event}: {deploy} does not need {', '.join(missing)}: it may deploy before "
                "(or although) those gates fail"
            )
    return problems


def check(evaluation: Evaluation) -> list[str]:
    return [p for pipeline in evaluation.pipelines for p in check_pipeline(evaluation, pipeline)]
