"""Pure decision logic of a blue-green switch: observed state in, next action or refusal out.

Nothing here touches a cluster, so every rule is unit-tested with hand-written states
(tests/bluegreen/test_decisions.py). The I/O lives in release.py and kube.py; the flow that
strings them together lives in orchestrator.py.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from verification.models.delivery.chart import COLORS, other

# Added to MAX_CONNECTION_AGE_SECONDS: endpoint propagation to kube-proxy plus one request.
CONVERGENCE_MARGIN_SECONDS = 5.0


@dataclass(frozen=True)
class PodState:
    name: str
    ready: bool
    version: str | None  # APP_VERSION in the pod spec
    terminating: bool = False
    detail: str = ""  # phase or waiting reason, shown when the pod is not ready
    image_id: str = ""  # what the app container runs, as its node reports it (HOST/PATH@sha256:...)


@dataclass(frozen=True)
class ColourState:
    color: str
    tag: str | None  # from the Helm release values
    version: str | None  # APP_VERSION the release values ask for
    replicas: int  # desired
    rolled_out: bool  # the Deployment controller has applied the current template to every replica
    pods: tuple[PodState, ...] = ()
    max_connection_age: float | None = None  # MAX_CONNECTION_AGE_SECONDS of the Deployment
    digest: str | None = None  # the image digest the release values pin, if any

    @property
    def live_pods(self) -> list[PodState]:
        return [p for p in self.pods if not p.terminating]

    @property
    def ready_pods(self) -> list[PodState]:
        return [p for p in self.live_pods if p.ready]

    def unready_reason(self) -> str | None:
        """Why this colour cannot take traffic now, or None when every pod is ready and current."""
        if self.replicas < 1:
            return f"{self.color} has 0 replicas"
        if not self.rolled_out:
            return f"{self.color} is still rolling out ({len(self.ready_pods)}/{self.replicas} pods ready)"
        stale = sorted(f"{p.name}={p.version}" for p in self.live_pods if p.version != self.version)
        if stale:
            return f"{self.color} has pods of another version than {self.version}: {', '.join(stale)}"
        if self.digest:
            # A tag can be moved and a node can hold another image under it: the bits that run
            # are the digest the node reports, not what the spec asks for.
            wrong = sorted(
                f"{p.name}={p.image_id or 'no image yet'}"
                for p in self.live_pods
                if p.image_id.rpartition("@")[2] != self.digest
            )
            if wrong:
                return f"{self.color} has pods not running {self.digest}: {', '.join(wrong)}"
        if len(self.ready_pods) < self.replicas:
            waiting = ", ".join(f"{p.name} ({p.detail or 'not ready'})" for p in self.live_pods if not p.ready)
            return f"{self.color} has {len(self.ready_pods)}/{self.replicas} pods ready" + (
                f"; waiting: {waiting}" if waiting else ""
            )
        return None

    def describe(self) -> str:
        pods = ", ".join(f"{p.name} {'ready' if p.ready else p.detail or 'not ready'}" for p in self.live_pods)
        return f"{self.color} {self.version} {len(self.ready_pods)}/{self.replicas} ready [{pods or 'no pods'}]"


@dataclass(frozen=True)
class ReleaseState:
    app: str
    namespace: str
    installed: bool
    active: str | None = None
    colours: Mapping[str, ColourState] = field(default_factory=dict)

    def colour_values(self) -> dict[str, Any]:
        """The part of the release values the orchestrator owns: which colour is active, and each
        colour's tag, version and digest (when one pins it)."""
        values: dict[str, Any] = {"activeColor": self.active}
        for color in COLORS:
            state = self.colours.get(color)
            if state is not None:
                values[color] = image_values(state.tag, state.version, state.digest)
        return values


def image_values(tag: str | None, version: str | None, digest: str | None = None) -> dict[str, Any]:
    """A colour's values: tag and version, and the digest only when there is one (the chart pulls
    HOST/PATH:TAG@DIGEST then, else HOST/PATH:TAG)."""
    return {"tag": tag, "version": version, **({"digest": digest} if digest else {})}


@dataclass(frozen=True)
class Decision:
    """What to do next. `action` is one of install, deploy, switch, rollback, noop, refuse."""

    action: str
    target: str | None = None  # colour acted on
    reason: str = ""
    values: Mapping[str, Any] = field(default_factory=dict)  # colour values to apply (install/deploy/flip)

    @property
    def refused(self) -> bool:
        return self.action == "refuse"


def decide_deploy(state: ReleaseState, version: str, tag: str, digest: str | None = None) -> Decision:
    """Deploy `version` (image tag `tag`, pinned to `digest` if given) to the idle colour; the
    active colour is never touched."""
    image = f"tag {tag}" + (f" @ {digest}" if digest else "")
    wanted = image_values(tag, version, digest)
    if not state.installed or state.active is None:
        values = {"activeColor": "blue", **{c: dict(wanted) for c in COLORS}}
        return Decision("install", "blue", f"first install: both colours run {version}, blue active", values)
    target = other(state.active)
    idle = state.colours.get(target)
    if idle and (idle.tag, idle.version, idle.digest or None) == (tag, version, digest) and not idle.unready_reason():
        return Decision("noop", target, f"{target} already runs {version} ({image}) and is ready")
    values = {**state.colour_values(), target: wanted}
    active = state.colours.get(state.active)
    note = f"; {version} is also the active version" if active and active.version == version else ""
    return Decision("deploy", target, f"deploy {version} ({image}) to idle {target}{note}", values)


def _flip(state: ReleaseState, action: str, expect_version: str | None) -> Decision:
    verb = "switch" if action == "switch" else "roll back"
    if not state.installed or state.active is None:
        return Decision("refuse", None, f"refusing to {verb} {state.app}: it is not installed in {state.namespace}")
    target = other(state.active)
    colour = state.colours.get(target)
    refusing = f"refusing to {verb} {state.app} to {target}"
    if colour is None:
        return Decision("refuse", target, f"{refusing}: it has no Deployment")
    if problem := colour.unready_reason():
        window = " (the rollback window is closed)" if action == "rollback" and colour.replicas < 1 else ""
        return Decision("refuse", target, f"{refusing}: {problem}{window}")
    if expect_version is not None and colour.version != expect_version:
        return Decision("refuse", target, f"{refusing}: it runs {colour.version}, not the expected {expect_version}")
    values = {**state.colour_values(), "activeColor": target}
    active = state.colours.get(state.active)
    was = f"{state.active} ({active.version})" if active else state.active
    return Decision(action, target, f"{verb} {state.app} from {was} to {target} ({colour.version})", values)


def decide_switch(state: ReleaseState, expect_version: str | None = None) -> Decision:
    """Flip the active colour to the idle one, if it is ready (and runs `expect_version`)."""
    return _flip(state, "switch", expect_version)


def decide_rollback(state: ReleaseState) -> Decision:
    """Flip back to the previous colour, which the rollback window keeps running."""
    return _flip(state, "rollback", None)


@dataclass(frozen=True)
class Answer:
    """One HTTP answer (or failure) from a pod or through a Service."""

    via: str  # pod name or URL
    path: str
    status: int | None
    version: str | None  # X-App-Version header
    error: str | None = None


FORBIDDEN = "forbidden:"  # prefix of Answer.error when the identity may not reach pods this way


def only_forbidden(answers: list[Answer]) -> bool:
    """Every answer failed because the identity lacks the right (not because a pod misbehaved)."""
    return bool(answers) and all((a.error or "").startswith(FORBIDDEN) for a in answers)


def smoke_problems(answers: list[Answer], expected_version: str) -> list[str]:
    """Every answer must be 200 with the expected version; an empty list means the smoke test passed."""
    if not answers:
        return ["no answers: the colour has no pods to test"]
    problems = []
    for a in answers:
        if a.error:
            problems.append(f"{a.via} {a.path}: {a.error}")
        elif a.status != 200:
            problems.append(f"{a.via} {a.path}: HTTP {a.status}")
        elif a.version != expected_version:
            problems.append(f"{a.via} {a.path}: version {a.version}, expected {expected_version}")
    return problems


@dataclass(frozen=True)
class ActiveObservation:
    """What the active Service looks like right after a flip."""

    selector_color: str | None
    endpoint_pods: tuple[str, ...]  # ready endpoints of the active Service (pod names)
    url_answers: tuple[Answer, ...] = ()  # live requests through the Service (e.g. the e2e NodePort)


def convergence_problems(obs: ActiveObservation, target: ColourState) -> list[str]:
    """Why the active Service does not yet answer only with the target colour's version."""
    problems = []
    if obs.selector_color != target.color:
        problems.append(f"the active Service selects color={obs.selector_color}, not {target.color}")
    target_pods = {p.name for p in target.pods}
    if not obs.endpoint_pods:
        problems.append("the active Service has no ready endpoints")
    strangers = sorted(set(obs.endpoint_pods) - target_pods)
    if strangers:
        problems.append(f"the active Service still routes to {', '.join(strangers)}")
    if obs.url_answers:
        problems += [f"live: {p}" for p in smoke_problems(list(obs.url_answers), target.version or "?")]
    return problems


def convergence_bound(max_connection_age_seconds: float, margin: float = CONVERGENCE_MARGIN_SECONDS) -> float:
    """Seconds after a flip by which every client, keep-alive ones too, reaches the new colour:
    the apps close each connection after MAX_CONNECTION_AGE_SECONDS."""
    return float(max_connection_age_seconds) + margin
