"""The GitLab pipelines as a real interpreter sees them, per event and changed-path set.

`gitlab-ci-local` (pinned, offline) evaluates `.gitlab-ci.yml` and its local includes: which jobs
a pipeline would contain, with `when` and `allow_failure` after `rules:`. Each scenario is one
`--list-json` run in a throw-away git repository holding only the CI files plus the scenario's
changed paths, committed on top of a base commit that `origin/main` points to, so `rules:changes`
sees exactly those paths (gitlab-ci-local diffs against origin/<default branch>). One `--preview`
run gives the expanded job definitions (environment, resource_group, needs, artifacts) and
validates the files against GitLab's CI schema.

GitLab semantics kept where gitlab-ci-local differs: in scheduled pipelines `rules:changes` is
always true (GitLab documents it so), hence `--evaluate-rule-changes=false` for schedules; and
`workflow:rules`, which gitlab-ci-local ignores, are evaluated by it as the rules of a probe job.

Results are cached on disk by the content of every input (CI files, scenario, tool version):
identical inputs give identical answers. Cache misses are evaluated in batches: one node process
answers many requests by calling gitlab-ci-local's own command handler (see run_batch).
"""

import hashlib
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from verification import catalog
from verification.errors import CommandError, UserError
from verification.paths import REPO_ROOT, cache_dir
from verification.run import run
from verification.tools import require
from verification.versions import image
from verification.versions import tool as tool_pin
from verification.yamlio import Loader, parse, read_text

ROOT_FILE = ".gitlab-ci.yml"
TEMPLATES_DIR = "platform/ci"
APPS = catalog.current().names()
CONFORMANCE_JOB = "verify:conformance"
E2E_JOB = "verify:e2e"
MUTANTS_JOB = "verify:mutants"
NIGHTLY_JOBS = (E2E_JOB, MUTANTS_JOB)  # the schedule runs these and only the schedule does
# e2e options whose default is the quick pre-merge depth: the nightly job runs at least this deep.
NIGHTLY_DEPTH = {"--netpol-cases": 216, "--flips": 5, "--nodes": 3}
# The nightly e2e job's warm path: a GitLab cache keyed on the pins, holding these directories
# (each set by a variable, each inside the project directory, the only place GitLab caches), and
# the built images saved into it as archives (the job's Docker starts empty).
WARM_CACHE_KEY_FILE = "platform/versions.yaml"
WARM_CACHE_DIRS = ("GOCACHE", "GOMODCACHE", "PLATFORM_VERIFY_CACHE")
IMAGE_ARCHIVE_VARIABLE = "PLATFORM_VERIFY_IMAGE_ARCHIVE"  # = image_archive.ENV (no Docker import here)

# Predefined variables of each event, as GitLab sets them (a merge request pipeline has no
# CI_COMMIT_BRANCH; a schedule runs on the default branch).
EVENTS: dict[str, dict[str, str | None]] = {
    "merge_request": {
        "CI_PIPELINE_SOURCE": "merge_request_event",
        "CI_MERGE_REQUEST_IID": "1",
        "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME": "feature/change",
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "develop",
        "CI_COMMIT_REF_NAME": "feature/change",
        "CI_COMMIT_BRANCH": None,
    },
    "push_develop": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "develop", "CI_COMMIT_REF_NAME": "develop"},
    "push_main": {"CI_PIPELINE_SOURCE": "push", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main"},
    "schedule": {"CI_PIPELINE_SOURCE": "schedule", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_REF_NAME": "main"},
}


@dataclass(frozen=True)
class Scenario:
    """One pipeline: an event and the paths the change touches, with hand-written expectations."""

    event: str
    changed: tuple[str, ...]
    apps: frozenset[str]  # the apps whose jobs must run (and no others)

    @property
    def label(self) -> str:
        what = ", ".join(self.changed) or "no change"
        return f"{self.event} ({what})"


@dataclass(frozen=True)
class Job:
    name: str
    stage: str
    when: str
    allow_failure: bool
    needs: tuple[str, ...]

    @property
    def runs(self) -> bool:
        return self.when != "never"

    @property
    def app(self) -> str | None:
        return app_of(self.name)


@dataclass(frozen=True)
class Pipeline:
    scenario: Scenario
    jobs: tuple[Job, ...]

    def running(self) -> dict[str, Job]:
        return {j.name: j for j in self.jobs if j.runs}


@dataclass
class Evaluation:
    """Everything the delivery checks look at: expanded job definitions and each scenario's pipeline."""

    definitions: dict[str, dict[str, Any]]
    global_variables: dict[str, str]
    pipelines: list[Pipeline] = field(default_factory=list)


# Scenarios: every event, with path sets that touch each app (its source, its test values), what
# all apps share, and none. Expectations follow the delivery rules of the platform.
SCENARIOS: tuple[Scenario, ...] = (
    *(
        Scenario(event, (path,), frozenset({app}))
        for app in APPS
        for event, path in (
            ("merge_request", f"platform/apps/{app}/{catalog.DESCRIPTOR}"),
            ("push_develop", f"platform/environments/test/{app}.yaml"),
            ("push_main", f"platform/apps/{app}/{catalog.DESCRIPTOR}"),
        )
    ),
    Scenario("merge_request", ("platform/docs/conventions.md", "verification/models/rbac/authorizer.py"), frozenset()),
    Scenario("push_develop", ("platform/charts/bluegreen-app/templates/deployment.yaml",), frozenset(APPS)),
    Scenario("schedule", (), frozenset()),
)


# --- running the interpreter -------------------------------------------------------------------


class _CiLoader(Loader):
    """GitLab's YAML: `!reference [...]` is resolved by the interpreter; here it is just a list.
    Otherwise the one loader's rules: a duplicated key (a second job of the same name silently
    replacing the first) is refused."""


_CiLoader.add_constructor("!reference", lambda loader, node: loader.construct_sequence(node))


def load_ci_yaml(text: str, origin: str) -> Any:
    """One CI file (`origin`: its repository path), or one line saying what is wrong with it."""
    return parse(text, origin, _CiLoader)


def ci_files(root: Path = REPO_ROOT) -> dict[str, str]:
    """The pipeline's files (root file and local includes) by repository-relative path."""
    root_file = root / ROOT_FILE
    if not root_file.is_file():
        raise UserError(f"{root_file}: no such file")
    files = {ROOT_FILE: read_text(root_file)}
    files |= {p.relative_to(root).as_posix(): read_text(p) for p in sorted((root / TEMPLATES_DIR).glob("*.yml"))}
    for name, text in files.items():  # before the interpreter sees them: it would take the last key
        load_ci_yaml(text, name)
    return files


TOOL = "gitlab-ci-local"
CACHE_FORMAT = 2  # bump when what is computed per scenario changes (stale answers must not match)


def _cache_path(request: "Request") -> Path:
    # The pin is the version: require() refuses any other, so a hit can skip starting node.
    digest = hashlib.sha256(f"{CACHE_FORMAT}\0{TOOL}@{tool_pin(TOOL)['version']}\0{request.label}".encode())
    for name, text in sorted(request.files):
        digest.update(f"\0{name}\0{text}".encode())
    return cache_dir() / "gitlab-ci-local" / f"{digest.hexdigest()[:32]}.json"


def _store(path: Path, result: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # Atomic: other sessions on the machine may read the same entry at the same moment.
    with tempfile.NamedTemporaryFile("w", dir=path.parent, suffix=".tmp", delete=False) as tmp:
        tmp.write(json.dumps(result))
    Path(tmp.name).replace(path)


_GIT_ISOLATION = [
    # A developer's git config (signing, hooks) must neither fail nor slow the throw-away commits.
    *("-c", "user.name=ci", "-c", "user.email=ci@example.invalid", "-c", "commit.gpgsign=false"),
    *("-c", "core.hooksPath=/dev/null"),
]


def _git(args: list[str], cwd: Path) -> None:
    run(["git", *_GIT_ISOLATION, *args], cwd=cwd, timeout=60)


def _repository(files: Mapping[str, str], changed: Iterable[str], where: Path) -> Path:
    """A git repo with the CI files at origin/main and `changed` paths touched on top."""
    where.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        target = where / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
    _git(["init", "-q", "-b", "main"], where)
    _git(["add", "-A"], where)
    _git(["commit", "-q", "-m", "base"], where)
    _git(["remote", "add", "origin", "https://gitlab.example.com/platform/devops-platform.git"], where)
    _git(["update-ref", "refs/remotes/origin/main", "HEAD"], where)
    _git(["symbolic-ref", "refs/remotes/origin/HEAD", "refs/remotes/origin/main"], where)
    touched = list(changed)
    for name in touched:
        target = where / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text((target.read_text() if target.exists() else "") + "# changed\n")
    if touched:
        _git(["add", "-A"], where)
        _git(["commit", "-q", "-m", "change"], where)
    return where


def cli(args: list[str], cwd: Path) -> str:
    """One gitlab-ci-local command line, as a person would run it (the driver's reference)."""
    try:
        # The repository is gitlab-ci-local's current directory: it diffs there for rules:changes.
        return run([require(TOOL).path, *args], cwd=cwd, timeout=120).stdout
    except CommandError as exc:
        tail = "\n".join((exc.stderr or exc.stdout).strip().splitlines()[-8:])
        raise UserError(f"gitlab-ci-local rejected the pipeline ({' '.join(args[:2])}):\n{tail}") from None


# Many evaluations in one node process: loading gitlab-ci-local's modules costs more CPU than
# evaluating a pipeline, so each request calls the same `handler` its command line calls, with the
# arguments yargs would pass, from the request's repository (rules:changes diffs in the cwd).
# tests/gitops proves the answers equal the command line's.
_DRIVER = """
const [handlerUrl, requestsPath] = process.argv.slice(-2);
const fs = await import("node:fs");
const { handler } = await import(handlerUrl);
const { WriteStreamsMock } = await import(handlerUrl.replace(/handler[.]js$/, "write-streams.js"));
const results = [];
for (const request of JSON.parse(fs.readFileSync(requestsPath, "utf8"))) {
  process.chdir(request.cwd);
  const streams = new WriteStreamsMock();
  try {
    await handler(request.args, streams, []);
    streams.flush();
    results.push({ok: true, stdout: streams.stdoutLines.join("\\n")});
  } catch (e) {
    streams.flush();
    results.push({ok: false, error: String(e?.message ?? e), stderr: streams.stderrLines.join("\\n")});
  }
}
process.stdout.write(JSON.stringify(results));
"""


def _handler_args(args: list[str]) -> dict[str, Any]:
    """The yargs argv of a gitlab-ci-local command line (only the flags this model uses)."""
    out: dict[str, Any] = {"variable": [], "unsetVariable": []}
    flags = iter(args)
    for flag in flags:
        if flag in ("--variable", "--unset-variable"):
            out["variable" if flag == "--variable" else "unsetVariable"].append(next(flags))
        elif flag in ("--list-json", "--preview"):
            out["listJson" if flag == "--list-json" else "preview"] = True
        elif flag == "--home":
            out["home"] = next(flags)
        elif flag == "--json-schema-validation=false":
            out["jsonSchemaValidation"] = False
        elif flag == "--evaluate-rule-changes=false":
            out["evaluateRuleChanges"] = False
        else:
            raise ValueError(f"flag {flag} is not mapped for the driver")
    return out


def run_batch(requests: list[tuple[Path, list[str]]]) -> list[str]:
    """stdout of each (repository, command line), evaluated in one node process."""
    if not requests:
        return []
    node = shutil.which("node")
    if node is None:
        raise UserError("node is missing (gitlab-ci-local runs on Node.js; apt-get install nodejs)")
    handler = Path(os.path.realpath(require(TOOL).path)).parent / "handler.js"
    with tempfile.NamedTemporaryFile("w", suffix=".json") as spec:
        json.dump([{"cwd": str(cwd), "args": _handler_args(args)} for cwd, args in requests], spec)
        spec.flush()
        proc = run([node, "--input-type=module", "-e", _DRIVER, handler.as_uri(), spec.name], timeout=600)
    outputs = []
    for (_, args), result in zip(requests, json.loads(proc.stdout), strict=True):
        if not result["ok"]:
            tail = "\n".join((result["stderr"] + "\n" + result["error"]).strip().splitlines()[-8:])
            raise UserError(f"gitlab-ci-local rejected the pipeline ({' '.join(args[:2])}):\n{tail}")
        outputs.append(result["stdout"])
    return outputs


def _json_payload(stdout: str) -> Any:
    """--list-json output, after any warnings gitlab-ci-local prints first."""
    start = 0 if stdout.lstrip().startswith("[") else stdout.find("\n[") + 1
    try:
        return json.loads(stdout[start:])
    except ValueError:
        raise UserError(f"gitlab-ci-local printed no job list: {stdout[:300]}") from None


def event_args(event: str) -> list[str]:
    if event not in EVENTS:
        raise UserError(f"unknown pipeline event {event!r} (known: {', '.join(EVENTS)})")
    args = ["--list-json", "--json-schema-validation=false"]
    for name, value in EVENTS[event].items():
        args += ["--unset-variable", name] if value is None else ["--variable", f"{name}={value}"]
    if event == "schedule":
        args.append("--evaluate-rule-changes=false")
    return args


WORKFLOW_PROBE = "workflow-probe"


def with_workflow_probe(files: Mapping[str, str]) -> dict[str, str]:
    """The files plus a job whose rules are `workflow:rules`.

    gitlab-ci-local ignores workflow:rules (GitLab then creates no pipeline at all); evaluating
    them as the rules of a probe job lets the same interpreter decide whether a pipeline exists.
    """
    data = load_ci_yaml(files[ROOT_FILE], ROOT_FILE) or {}
    rules = ((data.get("workflow") or {}) if isinstance(data, dict) else {}).get("rules")
    if not rules:
        return dict(files)
    probe = {"stage": ".pre", "script": [":"], "rules": rules}
    return {**files, ROOT_FILE: files[ROOT_FILE] + f"\n{WORKFLOW_PROBE}: {json.dumps(probe)}\n"}


def parse_list(stdout: str) -> list[dict[str, Any]]:
    """Jobs with when/allow_failure; all `never` when workflow:rules refuse the pipeline."""
    jobs = _json_payload(stdout)
    probe = next((j for j in jobs if j["name"] == WORKFLOW_PROBE), None)
    created = probe is None or probe["when"] != "never"
    return [
        {
            "name": j["name"],
            "stage": j["stage"],
            "when": j["when"] if created else "never",
            "allow_failure": bool(j["allow_failure"]),
            "needs": [n["job"] if isinstance(n, dict) else n for n in (j.get("needs") or [])],
        }
        for j in jobs
        if j["name"] != WORKFLOW_PROBE
    ]


def parse_preview(stdout: str) -> dict[str, Any]:
    data = parse(stdout[stdout.find("---") :] if "---" in stdout else stdout, "gitlab-ci-local --preview")
    if not isinstance(data, dict):
        raise UserError("gitlab-ci-local --preview printed no pipeline")
    return data


@dataclass(frozen=True)
class Request:
    """One interpreter question about one set of pipeline files."""

    files: tuple[tuple[str, str], ...]
    scenario: Scenario | None  # None: the expanded preview
    validate_schema: bool = True

    @property
    def label(self) -> str:
        if self.scenario is None:
            return f"preview schema={self.validate_schema}"
        return f"list {self.scenario.event} {sorted(self.scenario.changed)}"

    def command(self) -> tuple[dict[str, str], tuple[str, ...], list[str]]:
        files = dict(self.files)
        if self.scenario is None:
            args = ["--preview"] + ([] if self.validate_schema else ["--json-schema-validation=false"])
            return files, (), args
        return with_workflow_probe(files), self.scenario.changed, event_args(self.scenario.event)


def answer(requests: list[Request], *, processes: int = 2) -> list[Any]:
    """Parsed answers; cached by content, misses evaluated in `processes` node processes."""
    results: list[Any] = [None] * len(requests)
    misses = []
    for i, request in enumerate(requests):
        path = _cache_path(request)
        if path.is_file():
            results[i] = json.loads(path.read_text())
        else:
            misses.append(i)
    if not misses:
        return results
    with tempfile.TemporaryDirectory(prefix="gitlab-ci-") as tmp:
        commands = {i: requests[i].command() for i in misses}
        with ThreadPoolExecutor(max_workers=4) as pool:
            made = pool.map(lambda i: _repository(commands[i][0], commands[i][1], Path(tmp) / str(i)), misses)
            repos = dict(zip(misses, made, strict=True))
            # An empty home: a user's ~/.gitlab-ci-local (variables, .env) must not change answers.
            home = Path(tmp) / "home"
            home.mkdir()
            chunks = [misses[k::processes] for k in range(processes) if misses[k::processes]]
            outputs = pool.map(
                lambda chunk: run_batch([(repos[i], [*commands[i][2], "--home", str(home)]) for i in chunk]), chunks
            )
            for chunk, stdouts in zip(chunks, outputs, strict=True):
                for i, stdout in zip(chunk, stdouts, strict=True):
                    parsed = parse_list(stdout) if requests[i].scenario else parse_preview(stdout)
                    _store(_cache_path(requests[i]), parsed)
                    results[i] = parsed
    return results


def evaluate_many(
    trees: list[tuple[Mapping[str, str], list[Scenario]]], *, validate_schema: bool = True
) -> list["Evaluation"]:
    """Evaluations of several versions of the pipeline files (mutation tests) in one batch."""
    requests = []
    for files, scenarios in trees:
        frozen = tuple(sorted(files.items()))
        requests.append(Request(frozen, None, validate_schema))
        requests += [Request(frozen, s) for s in scenarios]
    answers = iter(answer(requests))
    evaluations = []
    for _, scenarios in trees:
        data = next(answers)
        definitions = {k: v for k, v in data.items() if isinstance(v, dict) and _is_job(k, v)}
        global_vars = {k: str(v) for k, v in (data.get("variables") or {}).items() if not isinstance(v, dict)}
        pipelines = [
            Pipeline(s, tuple(Job(**{**j, "needs": tuple(j["needs"])}) for j in next(answers))) for s in scenarios
        ]
        evaluations.append(Evaluation(definitions, global_vars, pipelines))
    return evaluations


def evaluate(
    scenarios: Iterable[Scenario] = SCENARIOS, *, root: Path = REPO_ROOT, validate_schema: bool = True
) -> "Evaluation":
    """The preview and every scenario of the pipeline files under `root`."""
    return evaluate_many([(ci_files(root), list(scenarios))], validate_schema=validate_schema)[0]


_RESERVED = {"stages", "variables", "workflow", "default", "include", "image", "services", "cache"}


def _is_job(name: str, body: dict[str, Any]) -> bool:
    return not name.startswith(".") and name not in _RESERVED and ("script" in body or "trigger" in body)


def expand(text: str, variables: Mapping[str, str]) -> str:
    """$VAR and ${VAR} from the job's and the global variables (what GitLab does for these keys)."""
    return re.sub(r"\$\{?(\w+)\}?", lambda m: variables.get(m.group(1), m.group(0)), text)


def job_variables(evaluation: Evaluation, name: str) -> dict[str, str]:
    own = {k: str(v) for k, v in (evaluation.definitions[name].get("variables") or {}).items()}
    return {**evaluation.global_variables, **own}


def environment_of(evaluation: Evaluation, name: str) -> str | None:
    env = evaluation.definitions[name].get("environment")
    if env is None:
        return None
    raw = env if isinstance(env, str) else env.get("name", "")
    return expand(raw, job_variables(evaluation, name))


def resource_group_of(evaluation: Evaluation, name: str) -> str | None:
    group = evaluation.definitions[name].get("resource_group")
    return expand(str(group), job_variables(evaluation, name)) if group else None


# --- the delivery rules ------------------------------------------------------------------------


def deploy_jobs(evaluation: Evaluation, tier: str) -> list[str]:
    """Jobs that deploy (environment action start, the default) to `tier` (test | staging)."""
    found = []
    for name, body in evaluation.definitions.items():
        env = body.get("environment")
        action = env.get("action", "start") if isinstance(env, dict) else "start"
        target = environment_of(evaluation, name)
        if target and target.split("/", 1)[0] == tier and action == "start":
            found.append(name)
    return sorted(found)


def check_pipeline(evaluation: Evaluation, pipeline: Pipeline) -> list[str]:
    """The delivery rules for one scenario's pipeline; each message names the scenario and cause."""
    s = pipeline.scenario
    running = pipeline.running()
    where = f"{s.label}"
    problems: list[str] = []

    job: Job | None  # the loops below bind it; running.get() may find none
    for job in running.values():
        if job.app and job.app not in s.apps:
            changed = ", ".join(sorted(s.apps)) or "no app"
            problems.append(f"{where}: {job.name} runs although the change touches {changed} (app independence)")
        for need in job.needs:
            if need not in running:
                problems.append(f"{where}: {job.name} needs {need}, which is not in this pipeline (GitLab rejects it)")
    for app in sorted(s.apps):
        if f"{app}:build" not in running and s.event != "schedule":
            problems.append(f"{where}: {app}:build does not run although {app}'s paths changed")

    test_deploys = deploy_jobs(evaluation, "test")
    staging_deploys = deploy_jobs(evaluation, "staging")
    if s.event == "merge_request":
        if CONFORMANCE_JOB not in running:
            problems.append(f"{where}: merge requests must run {CONFORMANCE_JOB}")
        elif running[CONFORMANCE_JOB].when != "on_success" or running[CONFORMANCE_JOB].allow_failure:
            gate = running[CONFORMANCE_JOB]
            problems.append(
                f"{where}: {CONFORMANCE_JOB} must gate the merge request "
                f"(when on_success, allow_failure false; is {gate.when}, "
                f"allow_failure {str(gate.allow_failure).lower()})"
            )
    for name in test_deploys + staging_deploys:
        job = running.get(name)
        if job and s.event in ("merge_request", "schedule"):
            problems.append(f"{where}: {name} deploys on a {s.event.replace('_', ' ')} pipeline")
    for name in test_deploys:
        job = running.get(name)
        if job is None:
            if s.event == "push_develop" and app_of(name) in s.apps:
                problems.append(f"{where}: {name} does not run: develop must deploy {app_of(name)} to test")
            continue
        if s.event == "push_develop" and job.when != "on_success":
            problems.append(f"{where}: {name} is when: {job.when}; develop deploys to test automatically")
        if s.event == "push_main":
            problems.append(f"{where}: {name} runs on main; test is deployed from develop only")
    for name in staging_deploys:
        job = running.get(name)
        if job is None:
            if s.event == "push_main" and app_of(name) in s.apps:
                problems.append(f"{where}: {name} does not run: main must offer {app_of(name)}'s staging deploy")
            continue
        if job.when != "manual":
            problems.append(f"{where}: {name} is when: {job.when}; staging is deployed only by hand (when: manual)")
        elif job.allow_failure:
            problems.append(
                f"{where}: {name} is manual with allow_failure: true, so the pipeline passes without the approval "
                f"(and a failed staging deploy is ignored); it must be allow_failure: false"
            )
        if s.event == "push_develop":
            problems.append(f"{where}: {name} runs on develop; staging is deployed from main only")
    for nightly in NIGHTLY_JOBS:
        job = running.get(nightly)
        if s.event != "schedule":
            if job:
                problems.append(f"{where}: {nightly} runs on {s.event}; it belongs to the nightly schedule")
        elif job is None:
            problems.append(f"{where}: the nightly schedule must run {nightly}")
        elif job.when != "on_success" or job.allow_failure:
            problems.append(
                f"{where}: {nightly} must run unattended and count (is {job.when}, allow_failure {job.allow_failure})"
            )
    return problems


def app_of(job_name: str) -> str | None:
    prefix = job_name.split(":", 1)[0]
    return prefix if prefix in APPS else None


def _pins_the_built_digest(defs: Mapping[str, Any], app: str) -> list[str]:
    """A deploy pins what its pipeline's build pushed (a tag can be pushed again after the scan):
    the build exports IMAGE_DIGEST as a dotenv report, each deploy job needs the build's artifacts
    and passes `--digest $IMAGE_DIGEST`."""
    problems = []
    build = defs.get(f"{app}:build") or {}
    dotenv = ((build.get("artifacts") or {}).get("reports") or {}).get("dotenv") or []
    files = [dotenv] if isinstance(dotenv, str) else list(dotenv)
    if not any("IMAGE_DIGEST=" in line and f"> {f}" in line for line in build.get("script") or [] for f in files):
        problems.append(f"{app}:build does not write IMAGE_DIGEST (the digest it pushed) to a dotenv report")
    for env in ("test", "staging"):
        name = f"{app}:deploy-{env}"
        needs = [n if isinstance(n, dict) else {"job": n} for n in (defs.get(name) or {}).get("needs") or []]
        if not any(n["job"] == f"{app}:build" and n.get("artifacts", True) for n in needs):
            problems.append(f"{name} does not need {app}:build's artifacts, so it cannot know the digest pushed")
        script = (defs.get(name) or {}).get("script") or []
        if not any(re.search(r"bluegreen deploy .*--digest \$\{?IMAGE_DIGEST\b", line) for line in script):
            problems.append(f"{name} deploys by tag alone: pass --digest $IMAGE_DIGEST (what {app}:build pushed)")
    return problems


def check_definitions(evaluation: Evaluation) -> list[str]:
    """Rules on the expanded jobs, independent of the event."""
    problems: list[str] = []
    defs = evaluation.definitions
    for name in sorted(defs):
        app = app_of(name)
        for need in defs[name].get("needs") or []:
            needed = need["job"] if isinstance(need, dict) else need
            if app and app_of(needed) != app:
                problems.append(f"{name} needs {needed}: an app's pipeline may only wait for its own jobs")
        env = environment_of(evaluation, name)
        if env is None:
            continue
        tier = env.split("/", 1)[0]
        group = resource_group_of(evaluation, name)
        if not group:
            problems.append(f"{name} deploys to {env} without a resource_group (concurrent deploys would race)")
        elif app and group != f"{app}-{tier}":
            problems.append(f"{name}: resource_group {group} must be {app}-{tier} (one per app and environment)")
        if app and env != f"{tier}/{app}":
            problems.append(f"{name}: environment {env} must be {tier}/{app} (per-app environments, protected by tier)")
        if defs[name].get("interruptible"):
            problems.append(f"{name} is interruptible: a newer pipeline could cancel a half-done switch")
    for app in APPS:
        for suffix in ("deploy-test", "deploy-staging", "rollback-test", "rollback-staging"):
            script = " ".join(defs.get(f"{app}:{suffix}", {}).get("script") or [])
            verb, env = suffix.split("-")
            if f"{app}:{suffix}" not in defs:
                problems.append(f"{app}:{suffix} is missing")
            elif not re.search(rf"platform-verify bluegreen {verb} (\$APP|{app}) --env {env}\b", script):
                problems.append(f"{app}:{suffix} does not call `platform-verify bluegreen {verb} {app} --env {env}`")
            else:
                variables = job_variables(evaluation, f"{app}:{suffix}")
                for line in defs[f"{app}:{suffix}"].get("script") or []:
                    command = expand(line, variables)
                    if re.search(r"bluegreen (deploy|switch|rollback)\b", command) and "--source gitops" not in command:
                        problems.append(
                            f"{app}:{suffix}: {env} is synced by ArgoCD; without `--source gitops` the flip is made "
                            f"outside git and self-heal (or the next sync) reverts it: {line}"
                        )
        problems += _pins_the_built_digest(defs, app)
        build = f"{app}:build"
        if build in defs:
            pushed = expand(expand("$IMAGE", job_variables(evaluation, build)), job_variables(evaluation, build))
            wanted = image(app).rsplit(":", 1)[0]
            if pushed != wanted:
                problems.append(f"{build} pushes {pushed}, but the chart values use {wanted} (images.{app})")
    for name in sorted(defs):
        variables = job_variables(evaluation, name)
        images = [defs[name].get("image"), *list(defs[name].get("services") or [])]
        for entry in images:
            ref = entry.get("name") if isinstance(entry, dict) else entry
            if not ref:
                continue
            ref = expand(expand(str(ref), variables), variables)
            tag = ref.rsplit("/", 1)[-1].partition(":")[2]
            if "$" not in ref and (not tag or tag == "latest"):
                problems.append(f"{name}: image {ref} is not pinned to a tag")
    e2e = defs.get(E2E_JOB)
    if e2e is None:
        problems.append(f"{E2E_JOB} is missing")
    else:
        artifacts = e2e.get("artifacts") or {}
        if artifacts.get("when") != "always":
            problems.append(f"{E2E_JOB}: artifacts must be kept when: always (failures are the interesting runs)")
        if "junit" not in (artifacts.get("reports") or {}):
            problems.append(f"{E2E_JOB}: no JUnit report")
        if "privileged" not in (e2e.get("tags") or []):
            problems.append(
                f"{E2E_JOB}: kind runs privileged node containers; the job needs the `privileged` runner tag"
            )
        script = " ".join(e2e.get("script") or [])
        if "nox -s e2e" not in script:
            problems.append(f"{E2E_JOB}: does not run the README's main job `nox -s e2e`")
        for option, least in NIGHTLY_DEPTH.items():  # the nightly run is the deep one
            given = re.search(rf"{option}[ =](\d+)", script)
            if not given or int(given.group(1)) < least:
                problems.append(f"{E2E_JOB}: the nightly run must pass {option} {least} or more (the pre-merge default "
                                f"is shallower), not {given.group(1) if given else 'the default'}")  # fmt: skip
    return problems


def _caches(body: Mapping[str, Any]) -> list[dict[str, Any]]:
    """A job's `cache:` as a list (GitLab accepts one mapping or a list of them)."""
    cache = body.get("cache") or []
    return [cache] if isinstance(cache, dict) else [c for c in cache if isinstance(c, dict)]


def _keyed_on_pins(cache: Mapping[str, Any]) -> bool:
    key = cache.get("key")
    return isinstance(key, dict) and WARM_CACHE_KEY_FILE in (key.get("files") or [])


def _policy(cache: Mapping[str, Any]) -> str:
    return str(cache.get("policy") or "pull-push")  # GitLab's default


def _in_project(value: str) -> str | None:
    """`value` relative to the project directory, or None when it lies outside it."""
    for prefix in ("$CI_PROJECT_DIR", "${CI_PROJECT_DIR}"):
        if value == prefix or value.startswith(prefix + "/"):
            return value[len(prefix) :].strip("/")
    return None


def check_warm_cache(evaluation: Evaluation) -> list[str]:
    """The nightly e2e job writes a cache keyed on the pins that holds every cache directory of the
    suite (Go build and module caches, tools, binaries, image archives); no other job writes it."""
    problems: list[str] = []
    defs = evaluation.definitions
    for name, cache in ((n, c) for n in sorted(defs) if n != E2E_JOB for c in _caches(defs[n])):
        if _keyed_on_pins(cache) and _policy(cache) != "pull":
            problems.append(
                f"{name}: writes the {WARM_CACHE_KEY_FILE} cache (policy {_policy(cache)}); "
                f"only {E2E_JOB} may (policy pull elsewhere), else jobs race to upload it"
            )
    if E2E_JOB not in defs:
        return problems  # reported by check_definitions
    keyed = [c for c in _caches(defs[E2E_JOB]) if _keyed_on_pins(c)]
    if not keyed:
        return [*problems, f"{E2E_JOB}: no cache keyed on {WARM_CACHE_KEY_FILE} (cache:key:files): every night is cold"]
    if not any(_policy(c) == "pull-push" for c in keyed):
        policies = ", ".join(_policy(c) for c in keyed)
        problems.append(f"{E2E_JOB}: its {WARM_CACHE_KEY_FILE} cache is {policies}, not pull-push: never written")
    cached = [str(p).removeprefix("./").strip("/") for c in keyed for p in c.get("paths") or []]
    variables = job_variables(evaluation, E2E_JOB)
    for var in WARM_CACHE_DIRS:
        if var not in variables:
            problems.append(f"{E2E_JOB}: {var} is not set; its default lies outside the project dir (not cached)")
            continue
        where = _in_project(expand(expand(variables[var], variables), variables))
        if where is None:
            problems.append(f"{E2E_JOB}: {var}={variables[var]} is outside $CI_PROJECT_DIR (GitLab caches only there)")
        elif not any(where == c or where.startswith(c + "/") for c in cached):
            problems.append(f"{E2E_JOB}: {var} ({where}) is under none of the cached paths {cached}")
    if variables.get(IMAGE_ARCHIVE_VARIABLE) != "1":
        problems.append(
            f"{E2E_JOB}: {IMAGE_ARCHIVE_VARIABLE} is not 1: images built in the job's Docker are not archived "
            "into the cache, so the next runner rebuilds them"
        )
    return problems


def check_offline(files: Mapping[str, str]) -> list[str]:
    """Includes must be local: `template:`/`remote:` are fetched at evaluation time."""
    problems = []
    for name, text in files.items():
        data = load_ci_yaml(text, name) or {}
        includes = (data.get("include") or []) if isinstance(data, dict) else []
        for entry in includes if isinstance(includes, list) else [includes]:
            remote = isinstance(entry, str) and entry.startswith(("http://", "https://"))
            if remote or (isinstance(entry, dict) and not set(entry) <= {"local", "rules", "inputs"}):
                problems.append(f"{name}: include {entry} is fetched from the network; define the jobs locally")
    return problems


def violations(evaluation: Evaluation) -> list[str]:
    problems = check_definitions(evaluation) + check_warm_cache(evaluation)
    for pipeline in evaluation.pipelines:
        problems += check_pipeline(evaluation, pipeline)
    return problems


def grid(evaluation: Evaluation) -> str:
    """Readable table: one row per job that runs somewhere, one column per scenario."""
    names = sorted({j.name for p in evaluation.pipelines for j in p.jobs if j.runs})
    heads = [f"S{i + 1}" for i in range(len(evaluation.pipelines))]
    width = max((len(n) for n in names), default=10)
    lines = [f"{'job':{width}}  " + "  ".join(f"{h:11}" for h in heads)]
    for name in names:
        jobs = [p.running().get(name) for p in evaluation.pipelines]
        cells = ["-" if job is None else f"{job.when}{'/af' if job.allow_failure else ''}" for job in jobs]
        lines.append(f"{name:{width}}  " + "  ".join(f"{c:11}" for c in cells))
    legend = [f"S{i + 1}: {p.scenario.label}" for i, p in enumerate(evaluation.pipelines)]
    return "\n".join([*lines, "(af = allow_failure)", *legend])
