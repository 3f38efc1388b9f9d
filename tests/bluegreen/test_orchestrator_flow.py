"""The orchestrator's flow against an in-memory stand-in for the cluster.

The stand-in only does what the chart promises (the Services follow activeColor, endpoints
follow the selector); these tests check the ORDER of steps and the reactions: refuse before
touching anything, flip back when verification fails. Live behaviour is e2e's job.
"""

import re
from typing import Any

import pytest
from rich.console import Console

from verification.bluegreen.model import Answer, ColourState, PodState
from verification.bluegreen.orchestrator import Orchestrator, Refused, SwitchFailed
from verification.bluegreen.plan import Change, Plan
from verification.bluegreen.release import Target
from verification.errors import WaitTimeout

TARGET = Target("sample-app", "test", "test")


class StandIn:
    def __init__(
        self, values: dict[str, Any] | None, *, stuck_endpoints: bool = False, bad_pod: str = "", node_has: str = ""
    ) -> None:
        self.values = values
        self.node_has = node_has  # the digest a node runs for any tag (else the one the values pin)
        self.applied: list[dict[str, Any]] = []
        self.stuck_endpoints = stuck_endpoints  # the active Service keeps routing to the old colour
        self.bad_pod = bad_pod  # this pod answers with a wrong version

    # release I/O
    def read_values(self, _target: Target) -> dict[str, Any] | None:
        return self.values

    def apply(self, _target: Target, values: dict[str, Any]) -> None:
        self.applied.append(values)
        self.values = values

    # plans: the flip changes the Services' colour only, unless `extra` names a refused change
    extra: tuple[Change, ...] = ()

    def plan_flip(self, _target: Target, action: str, to: str, _version: str | None) -> Plan:
        assert self.values is not None
        flip = [Change("Service/sample-app", "spec.selector.color", self.values["activeColor"], to, colour=True)]
        return Plan("sample-app", action, to, [*flip, *self.extra], {**self.values, "activeColor": to}, self.values)

    def plan_deploy(self, _target: Target, values: dict[str, Any]) -> Plan:
        return Plan("sample-app", "deploy", "", [], values)

    # cluster observations
    def _version(self, color: str) -> str:
        return (self.values or {})[color]["version"]

    def colour(
        self, app: str, color: str, tag: str | None, version: str | None, digest: str | None = None
    ) -> ColourState:
        running = self._version(color)
        pulled = self.node_has or (self.values or {})[color].get("digest") or "sha256:" + "0" * 64
        image_id = f"r.local/platform/{app}@{pulled}"
        pods = tuple(PodState(f"{app}-{color}-{i}", True, running, image_id=image_id) for i in range(2))
        return ColourState(color, tag, version, 2, True, pods, digest=digest)

    def selector_color(self, service: str) -> str | None:
        active = (self.values or {})["activeColor"]
        return active if service == "sample-app" else ("green" if active == "blue" else "blue")

    def ready_endpoint_pods(self, service: str) -> tuple[str, ...]:
        color = self.selector_color(service)
        if self.stuck_endpoints and service == "sample-app" and len(self.applied) == 1:
            color = "green" if color == "blue" else "blue"
        return tuple(f"sample-app-{color}-{i}" for i in range(2))

    def get_via_pod(self, pod: str, path: str) -> Answer:
        color = pod.split("-")[-2]
        version = "9.9.9" if pod == self.bad_pod else self._version(color)
        return Answer(pod, path, 200, version)


def values(active: str, blue: str, green: str) -> dict[str, Any]:
    return {"activeColor": active, "blue": {"tag": blue, "version": blue}, "green": {"tag": green, "version": green}}


def orchestrator(stand_in: StandIn, events: list[str]) -> Orchestrator:
    return Orchestrator(
        TARGET,
        stand_in,
        bound=1.0,
        timeout=5.0,
        console=Console(quiet=True),
        on_event=events.append,
        apply=stand_in.apply,
        read_values=stand_in.read_values,
        plan_flip=stand_in.plan_flip,
        plan_deploy=stand_in.plan_deploy,
        pin=lambda _target, values: values,
        flip=stand_in.apply,
    )


def test_deploy_then_switch_then_rollback() -> None:
    stand_in, events = StandIn(values("blue", "1.0.0", "1.0.0")), []
    o = orchestrator(stand_in, events)

    deployed = o.deploy("1.1.0")
    assert stand_in.applied == [values("blue", "1.0.0", "1.1.0")]
    assert (deployed.active_before, deployed.active_after) == ("blue", "blue")

    switched = o.switch("1.1.0")
    assert stand_in.applied[-1] == values("green", "1.0.0", "1.1.0")
    assert (switched.active_before, switched.active_after, switched.rolled_back) == ("blue", "green", False)

    rolled = o.rollback()
    assert stand_in.applied[-1] == values("blue", "1.0.0", "1.1.0")
    assert rolled.active_after == "blue"
    assert events == ["switch", "rollback"]


def test_a_pinned_deploy_waits_for_the_digest_and_the_switch_keeps_it() -> None:
    digest = "sha256:" + "d" * 64
    stand_in, events = StandIn(values("blue", "1.0.0", "1.0.0")), []
    o = orchestrator(stand_in, events)
    o.deploy("1.1.0", "1.1.0", digest)
    assert stand_in.applied[-1]["green"] == {"tag": "1.1.0", "version": "1.1.0", "digest": digest}
    o.switch("1.1.0")
    assert stand_in.applied[-1] == {**stand_in.applied[0], "activeColor": "green"}  # the digest flips along


def test_a_pinned_deploy_whose_nodes_run_another_image_times_out_naming_both() -> None:
    digest, moved = "sha256:" + "d" * 64, "sha256:" + "e" * 64
    stand_in, events = StandIn(values("blue", "1.0.0", "1.0.0"), node_has=moved), []
    with pytest.raises(WaitTimeout, match=f"green has pods not running {digest}: sample-app-green-0=.*@{moved}"):
        orchestrator(stand_in, events).deploy("1.1.0", "1.1.0", digest)


def test_first_deploy_installs() -> None:
    stand_in, events = StandIn(None), []
    outcome = orchestrator(stand_in, events).deploy("1.0.0")
    assert stand_in.applied == [values("blue", "1.0.0", "1.0.0")]
    assert outcome.active_after == "blue"


def test_switch_refuses_a_wrong_version_without_touching_the_release() -> None:
    stand_in, events = StandIn(values("blue", "1.0.0", "1.1.0")), []
    with pytest.raises(Refused, match=re.escape("it runs 1.1.0, not the expected 1.2.0")):
        orchestrator(stand_in, events).switch("1.2.0")
    assert stand_in.applied == []
    assert events == []


def test_switch_refuses_when_a_preview_pod_answers_another_version() -> None:
    stand_in, events = StandIn(values("blue", "1.0.0", "1.1.0"), bad_pod="sample-app-green-1"), []
    with pytest.raises(Refused, match=re.escape("sample-app-green-1 /healthz: version 9.9.9, expected 1.1.0")):
        orchestrator(stand_in, events).switch()
    assert stand_in.applied == []


def test_failed_verification_flips_back_by_itself() -> None:
    stand_in, events = StandIn(values("blue", "1.0.0", "1.1.0"), stuck_endpoints=True), []
    with pytest.raises(SwitchFailed) as failure:
        orchestrator(stand_in, events).switch()
    assert "the active Service still routes to sample-app-blue-0, sample-app-blue-1" in str(failure.value)
    assert str(failure.value).endswith("flipped back to blue")
    assert stand_in.applied == [values("green", "1.0.0", "1.1.0"), values("blue", "1.0.0", "1.1.0")]
    assert events == ["switch", "auto-rollback"]
    assert failure.value.exit_code == 1


def test_status_shows_roles_versions_and_routing() -> None:
    stand_in = StandIn(values("green", "1.0.0", "1.1.0"))
    state, table = orchestrator(stand_in, []).status()
    console = Console(record=True, width=200)
    console.print(table)
    text = console.export_text()
    assert state.active == "green"
    assert "preview (idle)" in text and "active" in text
    assert "sample-app -> green: sample-app-green-0, sample-app-green-1" in text
    assert "sample-app-preview -> blue: sample-app-blue-0, sample-app-blue-1" in text


def test_status_of_a_missing_release() -> None:
    state, table = orchestrator(StandIn(None), []).status()
    assert not state.installed
    console = Console(record=True, width=120)
    console.print(table)
    assert "not installed" in console.export_text()


class NoPortForward(StandIn):
    """A deployer identity: pods/portforward is prohibited by the permissions intent."""

    def get_via_pod(self, pod: str, path: str) -> Answer:
        return Answer(pod, path, None, None, "forbidden: this identity may not use pods/portforward")


def test_without_port_forward_the_switch_relies_on_readiness_and_says_so() -> None:
    stand_in, events = NoPortForward(values("blue", "1.0.0", "1.1.0")), []
    console = Console(record=True, width=200)
    o = orchestrator(stand_in, events)
    o.console = console
    assert o.switch("1.1.0").active_after == "green"
    assert "warning: this identity may not port-forward" in console.export_text()


def test_a_preview_url_is_smoke_tested_instead_of_pods() -> None:
    stand_in = NoPortForward(values("blue", "1.0.0", "1.1.0"))
    urls: list[str] = []

    def get_url(url: str, path: str) -> Answer:
        urls.append(url + path)
        return Answer(url, path, 200, "1.0.0")  # the preview route still reaches the old version

    o = Orchestrator(
        TARGET,
        stand_in,
        preview_url="http://preview.test",
        get_url=get_url,
        bound=1.0,
        console=Console(quiet=True),
        apply=stand_in.apply,
        read_values=stand_in.read_values,
        plan_flip=stand_in.plan_flip,
        plan_deploy=stand_in.plan_deploy,
        pin=lambda _target, values: values,
        flip=stand_in.apply,
    )
    with pytest.raises(Refused, match=re.escape("http://preview.test /healthz: version 1.0.0, expected 1.1.0")):
        o.switch()
    assert urls[0] == "http://preview.test/healthz" and len(urls) == 6  # 3 paths x 2 pods
    assert stand_in.applied == []


def test_a_missing_read_permission_stops_before_any_change() -> None:
    from verification.bluegreen.kube import Forbidden

    class NoEndpoints(StandIn):
        def ready_endpoint_pods(self, service: str) -> tuple[str, ...]:
            raise Forbidden("this identity may not list endpointslices.discovery.k8s.io in test")

    stand_in = NoEndpoints(values("blue", "1.0.0", "1.1.0"))
    with pytest.raises(Forbidden):
        orchestrator(stand_in, []).switch()
    with pytest.raises(Forbidden):
        orchestrator(stand_in, []).deploy("1.2.0")
    assert stand_in.applied == []


class PodReplacedDuringSwitch(StandIn):
    """After the flip, green's pod 1 is replaced by a new pod of the same colour."""

    def _names(self, color: str) -> list[str]:
        names = [f"sample-app-{color}-0", f"sample-app-{color}-1"]
        if color == "green" and self.applied:
            names[1] = "sample-app-green-9"
        return names

    def colour(
        self, app: str, color: str, tag: str | None, version: str | None, digest: str | None = None
    ) -> ColourState:
        pods = tuple(PodState(n, True, self._version(color)) for n in self._names(color))
        return ColourState(color, tag, version, 2, True, pods)

    def ready_endpoint_pods(self, service: str) -> tuple[str, ...]:
        return tuple(self._names(self.selector_color(service) or ""))


def test_a_pod_replaced_during_the_switch_is_still_the_new_colour() -> None:
    stand_in = PodReplacedDuringSwitch(values("blue", "1.0.0", "1.1.0"))
    assert orchestrator(stand_in, []).switch().active_after == "green"
    assert len(stand_in.applied) == 1  # no automatic rollback


def test_a_failing_helm_flip_is_undone() -> None:
    from verification.errors import CommandError

    class FlipFails(StandIn):
        def apply(self, target: Target, values: dict[str, Any]) -> None:
            super().apply(target, values)
            if len(self.applied) == 1:
                raise CommandError(["helm", "upgrade"], 1, "", "Error: UPGRADE FAILED: timed out")

    stand_in, events = FlipFails(values("blue", "1.0.0", "1.1.0")), []
    with pytest.raises(SwitchFailed, match="UPGRADE FAILED"):
        orchestrator(stand_in, events).switch()
    assert stand_in.applied[-1] == values("blue", "1.0.0", "1.1.0")
    assert events == ["auto-rollback"]


def test_the_switch_moment_is_when_the_cluster_follows_the_source() -> None:
    """GitOps: the values file changes first; the Services follow once ArgoCD has synced."""

    class SlowSync(StandIn):
        def __init__(self, values: dict[str, Any]) -> None:
            super().__init__(values)
            self.synced = dict(values)
            self.reads_after_apply = 0

        def apply(self, target: Target, values: dict[str, Any]) -> None:
            self.applied.append(values)
            self.reads_after_apply = 0
            self.pending = values

        def selector_color(self, service: str) -> str | None:
            if self.applied:
                self.reads_after_apply += 1
                if self.reads_after_apply >= 3:  # the sync lands on the third look
                    self.values = self.pending
            return super().selector_color(service)

    stand_in = SlowSync(values("blue", "1.0.0", "1.1.0"))
    marks: list[tuple[str, str | None]] = []
    o = orchestrator(stand_in, [])
    o.on_event = lambda name: marks.append((name, stand_in.values["activeColor"]))
    assert o.switch().active_after == "green"
    assert marks == [("switch", "green")]  # marked after the cluster flipped, not at the write


# --- the plan comes first --------------------------------------------------------------------


def test_a_refused_plan_changes_nothing_and_names_the_difference() -> None:
    stand_in, events = StandIn(values("blue", "1.0.0", "1.1.0")), []
    stand_in.extra = (Change("Service/sample-app", "spec.type", "NodePort", "ClusterIP", why="env test != release"),)
    console = Console(record=True, width=200)
    o = orchestrator(stand_in, events)
    o.console = console
    with pytest.raises(Refused) as refused:
        o.switch("1.1.0")
    assert refused.value.exit_code == 1
    assert "1 difference(s) besides the colour (env test != release" in str(refused.value)
    assert stand_in.applied == [] and events == []
    text = console.export_text()
    assert "REFUSED" in text and "spec.type" in text and "NodePort" in text and "ClusterIP" in text


def test_dry_run_prints_the_plan_and_changes_nothing() -> None:
    stand_in, events = StandIn(values("blue", "1.0.0", "1.1.0")), []
    o = orchestrator(stand_in, events)
    o.dry_run = True
    outcome = o.switch("1.1.0")
    assert outcome.dry_run and outcome.plan is not None and outcome.plan.allowed
    assert stand_in.applied == [] and events == []
    assert o.deploy("1.2.0").dry_run and stand_in.applied == []


def test_the_flip_applies_the_plans_values_and_the_undo_restores_them() -> None:
    stand_in, events = StandIn(values("blue", "1.0.0", "1.1.0"), stuck_endpoints=True), []
    stand_in.values = {**values("blue", "1.0.0", "1.1.0"), "runtime": {"drainDelaySeconds": 2}}
    with pytest.raises(SwitchFailed):
        orchestrator(stand_in, events).switch()
    flipped, restored = stand_in.applied
    assert flipped == {**restored, "activeColor": "green"}
    assert restored["runtime"] == {"drainDelaySeconds": 2}  # the release's own values, both ways


def test_a_profile_change_is_a_deploy_never_a_switch() -> None:
    from verification.errors import UserError

    stand_in = StandIn({**values("blue", "1.0.0", "1.1.0"), "deployedWith": {"profile": "e2e", "chart": "c-0.1.0"}})
    o = orchestrator(stand_in, [])  # TARGET is the test profile
    with pytest.raises(Refused, match="deployed with the e2e profile, not test; pass --change-profile"):
        o.deploy("1.2.0")
    o.change_profile = True
    with pytest.raises(UserError, match="--change-profile is a deploy, never a switch"):
        o.switch()
    assert stand_in.applied == []
    o.deploy("1.2.0")
    assert stand_in.applied[-1]["green"] == {"tag": "1.2.0", "version": "1.2.0"}
