"""Deploy, switch, roll back and show one app's blue-green release.

The flow (ARCHITECTURE.md, "Blue-green, precisely"): deploy the new version to the idle colour;
wait until every pod of it is ready; smoke-test it behind the preview Service; flip activeColor
in the Helm release values; verify the active Service routes only to the new colour (and, with
a live URL, answers only with the new version) within the convergence bound; keep the old colour
running for the rollback window. A failed verification flips back by itself.

Before a switch or rollback changes anything, its plan (plan.py) compares what the flip would
apply with what is deployed; anything but the colour's fields, or another profile than the one
the release was deployed with, is refused. The flip itself re-applies the release's stored
values with the new colour, so the idle colour keeps its exact pods.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from rich.console import Console
from rich.table import Table

from verification.bluegreen import release
from verification.bluegreen.model import (
    ActiveObservation,
    Answer,
    ColourState,
    Decision,
    ReleaseState,
    convergence_bound,
    convergence_problems,
    decide_deploy,
    decide_rollback,
    decide_switch,
    only_forbidden,
    smoke_problems,
)
from verification.bluegreen.plan import Plan
from verification.errors import CommandError, UserError, VerificationError, WaitTimeout
from verification.models.delivery import chart
from verification.wait import wait_for
from verification.yamlio import load_file

SMOKE_PATHS = ("/healthz", "/readyz", "/version")
LIVE_SAMPLES = 5  # consecutive fresh requests through --url that must all answer the new version


class Refused(VerificationError):
    """The orchestrator would not act (unready or wrong-version colour, no release): exit 1."""

    exit_code = 1


class SwitchFailed(VerificationError):
    """The flip did not verify; the orchestrator flipped back (or says it could not): exit 1."""

    exit_code = 1


class NamespaceView(Protocol):
    """What the orchestrator observes of a namespace; verification.bluegreen.kube.Kube implements it."""

    def colour(
        self, app: str, color: str, tag: str | None, version: str | None, digest: str | None = None
    ) -> ColourState: ...
    def selector_color(self, service: str) -> str | None: ...
    def ready_endpoint_pods(self, service: str) -> tuple[str, ...]: ...
    def get_via_pod(self, pod: str, path: str) -> Answer: ...


@dataclass
class Outcome:
    action: str
    app: str
    env: str
    namespace: str
    active_before: str | None
    active_after: str | None
    version: str | None
    seconds: float = 0.0
    rolled_back: bool = False
    steps: list[tuple[str, float]] = field(default_factory=list)
    plan: Plan | None = None
    dry_run: bool = False


class Orchestrator:
    def __init__(
        self,
        target: release.Target,
        cluster: NamespaceView,
        *,
        url: str | None = None,
        preview_url: str | None = None,
        timeout: float = 300.0,
        bound: float | None = None,
        console: Console | None = None,
        on_event: Callable[[str], object] | None = None,
        get_url: Callable[[str, str], Answer] | None = None,
        apply: Callable[[release.Target, dict[str, Any]], None] | None = None,
        read_values: Callable[[release.Target], dict[str, Any] | None] | None = None,
        plan_flip: Callable[[release.Target, str, str, str | None], Plan] | None = None,
        plan_deploy: Callable[[release.Target, dict[str, Any]], Plan] | None = None,
        pin: Callable[[release.Target, dict[str, Any]], dict[str, Any]] | None = None,
        flip: Callable[[release.Target, dict[str, Any]], None] | None = None,
        dry_run: bool = False,
        change_profile: bool = False,
    ) -> None:
        self.target = target
        self.cluster = cluster
        self.url = url
        self.preview_url = preview_url
        self.timeout = timeout
        self._bound = bound
        self.console = console or Console(stderr=True)
        self.on_event = on_event or (lambda _name: None)
        if get_url is None:
            from verification.bluegreen.kube import get_url as _get_url

            get_url = _get_url
        self._get_url = get_url
        self._apply = apply or (lambda t, v: release.apply(t, v, timeout=self.timeout))
        self._read_values = read_values or release.current_values
        self._plan_flip = plan_flip or release.plan_flip
        self._plan_deploy = plan_deploy or release.plan_deploy
        self._pin = pin or (lambda t, v: release.pin_active(t, v, release.stored_values(t)))
        self._flip_apply = flip or (lambda t, v: release.flip(t, v, timeout=self.timeout))
        self.dry_run = dry_run
        self.change_profile = change_profile
        self._started = time.monotonic()
        self._steps: list[tuple[str, float]] = []

    # --- observation -------------------------------------------------------------------------

    def state(self) -> ReleaseState:
        values = self._read_values(self.target)
        if values is None:
            return ReleaseState(self.target.app, self.target.namespace, installed=False)
        colours = release.colour_values(self.target, values)
        return ReleaseState(
            self.target.app,
            self.target.namespace,
            installed=True,
            active=colours["activeColor"],
            colours={
                c: self._colour(c, colours[c]["tag"], colours[c]["version"], colours[c].get("digest"))
                for c in chart.COLORS
            },
        )

    def _preflight(self) -> None:
        """Reads every later step needs, done once up front: a missing permission stops the run
        before anything changes (inside a wait it would look like a routing failure)."""
        for service in (self.target.app, f"{self.target.app}-preview"):
            self.cluster.selector_color(service)
            self.cluster.ready_endpoint_pods(service)

    def _colour(self, color: str, tag: str | None, version: str | None, digest: str | None = None) -> ColourState:
        return self.cluster.colour(self.target.app, color, tag, version, digest)

    def convergence_bound(self, colour: ColourState | None = None) -> float:
        """MAX_CONNECTION_AGE_SECONDS of the colour's Deployment (else of the environment's values)
        plus a margin; or the bound given explicitly."""
        if self._bound is not None:
            return self._bound
        if colour is not None and colour.max_connection_age is not None:
            return convergence_bound(colour.max_connection_age)
        runtime = chart.merged_values(self.target.app, self.target.env).get("runtime") or {}
        return convergence_bound(float(runtime.get("maxConnectionAgeSeconds", 10)))

    # --- progress ------------------------------------------------------------------------------

    def _say(self, message: str, style: str = "") -> None:
        elapsed = time.monotonic() - self._started
        self.console.print(f"[dim]{elapsed:6.1f}s[/dim] {message}", style=style or None, highlight=False)

    def _step(self, name: str, begun: float) -> None:
        self._steps.append((name, time.monotonic() - begun))

    # --- flows ---------------------------------------------------------------------------------

    def status(self) -> tuple[ReleaseState, Table]:
        """The release's state and a table of it (colours, versions, readiness, Service routing)."""
        state = self.state()
        return state, status_table(self.target, state, self.cluster if state.installed else None)

    def deploy(self, version: str, tag: str | None = None, digest: str | None = None) -> Outcome:
        """`version` to the idle colour, image `tag` (default: the version), pinned to `digest`
        (sha256:..., what the registry served for that tag) when given."""
        tag = tag or version
        state = self.state()
        if state.installed:
            self._check_profile("deploy")
            self._preflight()
        decision = decide_deploy(state, version, tag, digest)
        if decision.values and state.installed:
            # The environment's current values go to the idle colour only.
            decision = replace(decision, values=self._pin(self.target, dict(decision.values)))
        deploy_plan = None
        if state.installed:
            # The environment's files may have changed since the last deploy: list what changes.
            deploy_plan = self._plan_deploy(self.target, dict(decision.values or state.colour_values()))
            self.console.print(deploy_plan.table())
            if decision.action == "noop" and deploy_plan.changes:
                decision = Decision(
                    "deploy",
                    decision.target,
                    f"{decision.reason}, but the release differs from {self.target.env}'s values: deploying them",
                    self._pin(self.target, state.colour_values()),
                )
        self._say(f"{self.target.label}: {decision.reason}")
        outcome = self._outcome("deploy", state, state.active, version)
        outcome.plan, outcome.dry_run = deploy_plan, self.dry_run
        if decision.action == "noop" or self.dry_run:
            return self._finish(outcome)
        begun = time.monotonic()
        self._apply(self.target, dict(decision.values))
        self._step(f"helm upgrade ({decision.target} := {version})", begun)
        idle = "green" if decision.action == "install" else decision.target or ""
        if decision.action == "install":
            self._verify_active(self._wait_ready("blue", tag, version, digest))
        self._smoke(self._wait_ready(idle, tag, version, digest), f"{self.target.app}-preview")
        outcome.active_after = decision.values.get("activeColor")
        self._say(
            f"{idle} runs {version} behind {self.target.app}-preview; next: "
            f"platform-verify bluegreen switch {self.target.app} --env {self.target.env} --version {version}",
            "green",
        )
        return self._finish(outcome)

    def switch(self, expect_version: str | None = None) -> Outcome:
        return self._flip(decide_switch, expect_version)

    def rollback(self) -> Outcome:
        return self._flip(lambda s, _v: decide_rollback(s), None)

    def _check_profile(self, action: str) -> None:
        """A deploy with another --env than the release's profile is refused unless asked for."""
        profile = release.deployed_with(self._read_values(self.target)).get("profile")
        if profile and profile != self.target.env and not self.change_profile:
            raise Refused(
                f"refusing to {action} {self.target.app}: it was deployed with the {profile} profile, not "
                f"{self.target.env}; pass --change-profile to redeploy it with {self.target.env} (a deploy)"
            )

    def _flip(self, plan: Callable[[ReleaseState, str | None], Decision], expect: str | None) -> Outcome:
        state = self.state()
        decision = plan(state, expect)
        if decision.refused:
            raise Refused(decision.reason)
        if self.change_profile:
            raise UserError(f"--change-profile is a deploy, never a {decision.action}: deploy first, then switch")
        target = state.colours[decision.target or ""]
        # What the flip would change, before anything is touched; only the colour's fields may.
        flip_plan = self._plan_flip(self.target, decision.action, decision.target or "", target.version)
        for note in flip_plan.notes:
            self.console.print(note, style="bold red", highlight=False, markup=False)
        self.console.print(flip_plan.table())
        outcome = self._outcome(decision.action, state, state.active, target.version)
        outcome.plan, outcome.dry_run = flip_plan, self.dry_run
        if not flip_plan.allowed:
            raise Refused(flip_plan.summary())
        if self.dry_run:
            self._say(f"dry run: {decision.reason} is allowed; nothing changed")
            return self._finish(outcome)
        self._preflight()
        self._say(f"{self.target.label}: {decision.reason}")
        problems = self._smoke(target, f"{self.target.app}-preview", raise_on_failure=False)
        if problems:
            raise Refused(f"{decision.reason}: refused, smoke test through the preview failed: {'; '.join(problems)}")
        begun = time.monotonic()
        try:
            self._flip_apply(self.target, dict(flip_plan.values))
            self._await_selector(decision.target or "")
            self.on_event(decision.action)
            self._step(f"flip activeColor to {decision.target}", begun)
            self._say(f"activeColor is now {decision.target}; verifying the active Service")
            self._verify_active(target)
        except (WaitTimeout, CommandError) as exc:
            outcome.rolled_back = self._undo(state, flip_plan, str(exc))
            raise SwitchFailed(
                f"{decision.action} of {self.target.app} to {decision.target} failed verification: {exc}; "
                + (f"flipped back to {state.active}" if outcome.rolled_back else "AND flipping back failed too")
            ) from None
        outcome.active_after = decision.target
        keep = state.colours.get(state.active or "")
        if keep is not None:
            self._say(
                f"{state.active} ({keep.version}) keeps running for the rollback window: "
                f"platform-verify bluegreen rollback {self.target.app} --env {self.target.env}",
                "green",
            )
        return self._finish(outcome)

    def _undo(self, before: ReleaseState, flip_plan: Plan, why: str) -> bool:
        self._say(f"verification failed ({why}); flipping back to {before.active}", "bold red")
        begun = time.monotonic()
        try:
            self._flip_apply(self.target, dict(flip_plan.restore))
        except CommandError as exc:
            self._say(f"flipping back failed: {exc}", "bold red")
            return False
        try:
            self._await_selector(before.active or "")
        except WaitTimeout as exc:
            self._say(f"flipping back did not reach the cluster: {exc}", "bold red")
            return False
        self.on_event("auto-rollback")
        self._step(f"automatic rollback to {before.active}", begun)
        previous = before.colours.get(before.active or "")
        if previous is None:
            return False
        try:
            self._verify_active(previous)
        except WaitTimeout as exc:
            self._say(f"the automatic rollback did not verify either: {exc}", "bold red")
            return False
        return True

    # --- steps ---------------------------------------------------------------------------------

    def _wait_ready(self, color: str, tag: str, version: str, digest: str | None) -> ColourState:
        begun = time.monotonic()
        self._say(f"waiting until every pod of {self.target.app}-{color} is ready with {version}")
        ready = wait_for(
            lambda: self._colour(color, tag, version, digest),
            what=f"every pod of {self.target.app}-{color} ready with version {version}",
            timeout=self.timeout,
            interval=2.0,
            until=lambda c: c.unready_reason() is None,
            describe=lambda c: c.unready_reason() or c.describe(),
        )
        self._step(f"{color} ready ({len(ready.ready_pods)} pods)", begun)
        return ready

    def _smoke(self, colour: ColourState, service: str, *, raise_on_failure: bool = True) -> list[str]:
        """The preview Service routes to exactly this colour's pods, and each pod answers right."""
        begun = time.monotonic()
        pods = tuple(sorted(p.name for p in colour.ready_pods))
        problems: list[str] = []
        if self.cluster.selector_color(service) != colour.color:
            problems.append(f"Service {service} does not select {colour.color}")
        else:
            try:
                wait_for(
                    lambda: self.cluster.ready_endpoint_pods(service),
                    what=f"Service {service} endpoints = the {colour.color} pods {', '.join(pods)}",
                    timeout=30,
                    interval=1.0,
                    until=lambda seen: seen == pods,
                    describe=lambda seen: ", ".join(seen) or "no endpoints",
                )
            except WaitTimeout as exc:
                problems.append(str(exc))
        if self.preview_url:
            # Through the preview Service itself (an ingress host or NodePort reaching it).
            answers = [self._get_url(self.preview_url, path) for path in SMOKE_PATHS for _ in pods]
        else:
            answers = [self.cluster.get_via_pod(p, path) for p in pods for path in SMOKE_PATHS]
            if only_forbidden(answers):
                # Deployers may not port-forward (platform/intent/permissions.yaml). What remains is
                # the kubelet's evidence, already required by unready_reason(): every pod passed its
                # /readyz probe and runs the expected APP_VERSION.
                self._say(
                    f"warning: this identity may not port-forward, so {colour.color} is not smoke-tested over "
                    "HTTP; relying on its readiness probes and pod specs (pass --preview-url to test it)",
                    "yellow",
                )
                answers = []
        if answers:
            problems += smoke_problems(answers, colour.version or "?")
        self._step(f"smoke test of {colour.color} ({len(answers)} requests)", begun)
        if problems and raise_on_failure:
            raise Refused(f"smoke test of {self.target.app}-{colour.color} failed: {'; '.join(problems)}")
        if not problems:
            self._say(f"smoke test passed: {len(pods)} pods of {colour.color} answer {colour.version}")
        return problems

    def _await_selector(self, color: str) -> None:
        """The flip has reached the cluster: at once with Helm, after the sync with GitOps."""
        service = self.target.app
        wait_for(
            lambda: self.cluster.selector_color(service),
            what=f"Service {service} to select color={color} (the source of truth applied)",
            timeout=self.timeout,
            interval=1.0,
            until=lambda seen: seen == color,
            describe=lambda seen: f"color={seen}",
        )

    def _verify_active(self, colour: ColourState) -> ActiveObservation:
        bound = self.convergence_bound(colour)
        begun = time.monotonic()
        service = self.target.app

        def observe() -> tuple[ActiveObservation, list[str]]:
            # The colour's pods are read afresh: a pod replaced during the switch is still the
            # right colour, not a stranger.
            fresh = self._colour(colour.color, colour.tag, colour.version, colour.digest)
            answers: tuple[Answer, ...] = ()
            if self.url:
                answers = tuple(self._get_url(self.url, "/version") for _ in range(LIVE_SAMPLES))
            seen = ActiveObservation(
                self.cluster.selector_color(service), self.cluster.ready_endpoint_pods(service), answers
            )
            return seen, convergence_problems(seen, fresh)

        seen, _ = wait_for(
            observe,
            what=f"Service {service} to answer only with {colour.color} ({colour.version}) within {bound:.0f}s",
            timeout=bound,
            interval=0.5,
            until=lambda o: not o[1],
            describe=lambda o: "; ".join(o[1]),
        )
        took = time.monotonic() - begun
        self._step(f"active Service converged on {colour.color}", begun)
        self._say(f"the active Service answers only with {colour.color} ({colour.version}) after {took:.1f}s")
        return seen

    def _outcome(self, action: str, state: ReleaseState, before: str | None, version: str | None) -> Outcome:
        self._started = time.monotonic()
        self._steps = []
        return Outcome(action, self.target.app, self.target.env, self.target.namespace, before, before, version)

    def _finish(self, outcome: Outcome) -> Outcome:
        outcome.seconds = time.monotonic() - self._started
        outcome.steps = list(self._steps)
        return outcome


def connect(
    app: str,
    env: str,
    *,
    namespace: str | None = None,
    context: str | None = None,
    kubeconfig: str | None = None,
    extra_values: tuple[str, ...] = (),
    source: str = "helm",
    sync_command: str | None = None,
    **options: object,
) -> Orchestrator:
    """An orchestrator for one app's release on a real cluster (what the CLI and e2e use).

    e2e: `connect(app, "e2e", kubeconfig=..., url="http://127.0.0.1:30080", on_event=load.mark)`.
    ArgoCD-managed environments: `source="gitops", sync_command="git commit ... && git push && argocd app sync ..."`.
    """
    from verification.bluegreen.kube import Kube

    chart.values_files(app, env)  # an unknown app or environment is one clear line
    for extra in extra_values:  # read here so bad bytes or YAML are one line before helm or the cluster
        if not isinstance(load_file(extra) or {}, dict):
            raise UserError(f"{extra}: expected a mapping of values")
    namespace = namespace or chart.namespace_for(env)
    target = release.Target(app, env, namespace, context, kubeconfig, tuple(extra_values))
    kube = Kube(namespace, context, kubeconfig)
    if source == "gitops":
        from verification.bluegreen.gitops import GitOpsSource

        gitops = GitOpsSource(sync_command or "", kube.live_objects)
        options = {
            **options,
            "apply": gitops.apply,
            "read_values": gitops.read,
            "plan_flip": gitops.plan_flip,
            "plan_deploy": gitops.plan_deploy,
            # ArgoCD renders the values in git; what the active colour ran before is not there.
            "pin": lambda _t, values: values,
            "flip": gitops.apply,
        }
    elif source != "helm":
        raise UserError(f"unknown source of truth {source!r} (helm or gitops)")
    # options are Orchestrator's own keyword arguments, passed through: its signature checks them at the call
    return Orchestrator(target, kube, **options)  # type: ignore[arg-type]


def summary_table(outcome: Outcome) -> Table:
    table = Table(title=f"bluegreen {outcome.action}: {outcome.app} in {outcome.namespace} ({outcome.env})")
    table.add_column("step")
    table.add_column("seconds", justify="right")
    for name, seconds in outcome.steps:
        table.add_row(name, f"{seconds:.1f}")
    verdict = f"active {outcome.active_before} -> {outcome.active_after}, version {outcome.version}"
    if outcome.rolled_back:
        verdict += " (rolled back)"
    table.add_row(f"[bold]{verdict}[/bold]", f"[bold]{outcome.seconds:.1f}[/bold]")
    return table


def status_table(target: release.Target, state: ReleaseState, cluster: NamespaceView | None) -> Table:
    table = Table(title=f"{target.label}")
    if not state.installed:
        table.add_column("state")
        table.add_row("not installed")
        return table
    for column in ("colour", "role", "tag", "version", "ready", "pods", "problem"):
        table.add_column(column)
    for color in chart.COLORS:
        c = state.colours[color]
        role = "active" if color == state.active else "preview (idle)"
        pods = ", ".join(f"{p.name}{'' if p.ready else ' (' + (p.detail or 'not ready') + ')'}" for p in c.live_pods)
        ready = f"{len(c.ready_pods)}/{c.replicas}"
        table.add_row(color, role, c.tag or "", c.version or "", ready, pods, c.unready_reason() or "")
    if cluster is not None:
        for service in (target.app, f"{target.app}-preview"):
            endpoints = ", ".join(cluster.ready_endpoint_pods(service)) or "none"
            table.caption = (table.caption or "") + f"{service} -> {cluster.selector_color(service)}: {endpoints}\n"
    return table
