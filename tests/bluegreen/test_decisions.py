"""The switch decisions on hand-written states: what the orchestrator does, or why it refuses."""

import pytest

from verification.bluegreen.model import (
    ActiveObservation,
    Answer,
    ColourState,
    PodState,
    ReleaseState,
    convergence_bound,
    convergence_problems,
    decide_deploy,
    decide_rollback,
    decide_switch,
    smoke_problems,
)


def colour(color: str, version: str, *, ready: int = 2, replicas: int = 2, rolled_out: bool = True) -> ColourState:
    pods = tuple(PodState(f"app-{color}-{i}", i < ready, version, detail="Running") for i in range(replicas))
    return ColourState(color, version, version, replicas, rolled_out, pods)


def release(blue: ColourState, green: ColourState, active: str = "blue") -> ReleaseState:
    return ReleaseState("sample-app", "test", True, active, {"blue": blue, "green": green})


NOT_INSTALLED = ReleaseState("sample-app", "test", False)


# --- deploy --------------------------------------------------------------------------------


def test_first_deploy_installs_both_colours_with_blue_active() -> None:
    d = decide_deploy(NOT_INSTALLED, "1.0.0", "1.0.0")
    assert (d.action, d.target) == ("install", "blue")
    assert d.values == {
        "activeColor": "blue",
        "blue": {"tag": "1.0.0", "version": "1.0.0"},
        "green": {"tag": "1.0.0", "version": "1.0.0"},
    }


def test_deploy_goes_to_the_idle_colour_and_keeps_the_active_one() -> None:
    d = decide_deploy(release(colour("blue", "1.0.0"), colour("green", "0.9.0"), active="blue"), "1.1.0", "1.1.0")
    assert (d.action, d.target) == ("deploy", "green")
    assert d.values == {
        "activeColor": "blue",
        "blue": {"tag": "1.0.0", "version": "1.0.0"},
        "green": {"tag": "1.1.0", "version": "1.1.0"},
    }


def test_a_digest_goes_to_the_idle_colour_only_and_a_new_digest_is_no_noop() -> None:
    digest, moved = "sha256:" + "1" * 64, "sha256:" + "2" * 64
    state = release(colour("blue", "1.0.0"), colour("green", "0.9.0"), active="blue")
    d = decide_deploy(state, "1.1.0", "1.1.0", digest)
    assert d.values["green"] == {"tag": "1.1.0", "version": "1.1.0", "digest": digest}
    assert d.values["blue"] == {"tag": "1.0.0", "version": "1.0.0"}
    assert d.reason == f"deploy 1.1.0 (tag 1.1.0 @ {digest}) to idle green"
    pinned = ColourState("green", "1.1.0", "1.1.0", 2, True, colour("green", "1.1.0").pods, digest=digest)
    idle = release(colour("blue", "1.0.0"), pinned, active="blue")
    assert idle.colour_values()["green"]["digest"] == digest  # a flip re-applies it
    # The same tag moved to another image in the registry: deployed again, not skipped.
    assert decide_deploy(idle, "1.1.0", "1.1.0", moved).action == "deploy"
    assert decide_deploy(idle, "1.1.0", "1.1.0").action == "deploy"  # unpinned now


def test_deploy_with_green_active_targets_blue() -> None:
    d = decide_deploy(release(colour("blue", "1.0.0"), colour("green", "1.1.0"), active="green"), "1.2.0", "1.0.0")
    assert (d.action, d.target) == ("deploy", "blue")
    assert d.values["blue"] == {"tag": "1.0.0", "version": "1.2.0"}
    assert d.values["green"] == {"tag": "1.1.0", "version": "1.1.0"}
    assert d.values["activeColor"] == "green"


def test_redeploying_what_the_idle_colour_already_runs_is_a_noop() -> None:
    d = decide_deploy(release(colour("blue", "1.0.0"), colour("green", "1.1.0")), "1.1.0", "1.1.0")
    assert (d.action, d.reason) == ("noop", "green already runs 1.1.0 (tag 1.1.0) and is ready")


def test_redeploy_when_the_idle_colour_is_not_ready_deploys_again() -> None:
    d = decide_deploy(release(colour("blue", "1.0.0"), colour("green", "1.1.0", ready=0)), "1.1.0", "1.1.0")
    assert d.action == "deploy"


# --- switch --------------------------------------------------------------------------------


def test_switch_to_a_ready_idle_colour() -> None:
    d = decide_switch(release(colour("blue", "1.0.0"), colour("green", "1.1.0")), expect_version="1.1.0")
    assert (d.action, d.target) == ("switch", "green")
    assert d.values["activeColor"] == "green"
    assert d.reason == "switch sample-app from blue (1.0.0) to green (1.1.0)"


def test_switch_refuses_when_not_installed() -> None:
    d = decide_switch(NOT_INSTALLED)
    assert d.refused
    assert d.reason == "refusing to switch sample-app: it is not installed in test"


def test_switch_refuses_an_unready_colour_and_names_the_waiting_pods() -> None:
    green = ColourState(
        "green",
        "1.1.0",
        "1.1.0",
        2,
        True,
        (PodState("g-0", True, "1.1.0"), PodState("g-1", False, "1.1.0", detail="CrashLoopBackOff")),
    )
    d = decide_switch(release(colour("blue", "1.0.0"), green))
    assert d.refused
    assert (
        d.reason == "refusing to switch sample-app to green: green has 1/2 pods ready; waiting: g-1 (CrashLoopBackOff)"
    )


def test_switch_refuses_while_the_idle_colour_is_still_rolling_out() -> None:
    d = decide_switch(release(colour("blue", "1.0.0"), colour("green", "1.1.0", rolled_out=False)))
    assert d.reason == "refusing to switch sample-app to green: green is still rolling out (2/2 pods ready)"


def test_switch_refuses_a_wrong_version() -> None:
    d = decide_switch(release(colour("blue", "1.0.0"), colour("green", "1.1.0")), expect_version="1.2.0")
    assert d.refused
    assert d.reason == "refusing to switch sample-app to green: it runs 1.1.0, not the expected 1.2.0"


def test_switch_refuses_when_old_pods_of_another_version_linger() -> None:
    green = ColourState(
        "green", "1.1.0", "1.1.0", 1, True, (PodState("g-new", True, "1.1.0"), PodState("g-old", True, "1.0.0"))
    )
    d = decide_switch(release(colour("blue", "1.0.0"), green))
    assert (
        d.reason == "refusing to switch sample-app to green: green has pods of another version than 1.1.0: g-old=1.0.0"
    )


def test_terminating_pods_do_not_count() -> None:
    green = ColourState(
        "green",
        "1.1.0",
        "1.1.0",
        1,
        True,
        (PodState("g-new", True, "1.1.0"), PodState("g-old", False, "1.0.0", terminating=True)),
    )
    assert decide_switch(release(colour("blue", "1.0.0"), green)).action == "switch"


# --- rollback ------------------------------------------------------------------------------


def test_rollback_flips_back_to_the_kept_colour() -> None:
    d = decide_rollback(release(colour("blue", "1.0.0"), colour("green", "1.1.0"), active="green"))
    assert (d.action, d.target, d.values["activeColor"]) == ("rollback", "blue", "blue")
    assert d.reason == "roll back sample-app from green (1.1.0) to blue (1.0.0)"


def test_rollback_refuses_when_the_window_is_closed() -> None:
    d = decide_rollback(release(colour("blue", "1.0.0", replicas=0, ready=0), colour("green", "1.1.0"), active="green"))
    assert d.refused
    assert d.reason == "refusing to roll back sample-app to blue: blue has 0 replicas (the rollback window is closed)"


# --- smoke and convergence -----------------------------------------------------------------


def test_smoke_problems_name_pod_path_and_cause() -> None:
    answers = [
        Answer("g-0", "/healthz", 200, "1.1.0"),
        Answer("g-0", "/readyz", 503, "1.1.0"),
        Answer("g-1", "/version", 200, "1.0.0"),
        Answer("g-1", "/healthz", None, None, "ConnectionResetError: reset"),
    ]
    assert smoke_problems(answers, "1.1.0") == [
        "g-0 /readyz: HTTP 503",
        "g-1 /version: version 1.0.0, expected 1.1.0",
        "g-1 /healthz: ConnectionResetError: reset",
    ]
    assert smoke_problems([], "1.1.0") == ["no answers: the colour has no pods to test"]


def test_convergence() -> None:
    green = colour("green", "1.1.0")
    done = ActiveObservation("green", ("app-green-0", "app-green-1"), (Answer("u", "/version", 200, "1.1.0"),))
    assert convergence_problems(done, green) == []
    lagging = ActiveObservation("green", ("app-blue-0", "app-green-0"), (Answer("u", "/version", 200, "1.0.0"),))
    assert convergence_problems(lagging, green) == [
        "the active Service still routes to app-blue-0",
        "live: u /version: version 1.0.0, expected 1.1.0",
    ]
    assert convergence_problems(ActiveObservation("blue", ()), green) == [
        "the active Service selects color=blue, not green",
        "the active Service has no ready endpoints",
    ]


def test_convergence_bound_is_max_connection_age_plus_margin() -> None:
    assert convergence_bound(10) == 15.0
    assert convergence_bound(3, margin=2) == 5.0


def test_colour_values_round_trip() -> None:
    state = release(colour("blue", "1.0.0"), colour("green", "1.1.0"), active="green")
    assert state.colour_values() == {
        "activeColor": "green",
        "blue": {"tag": "1.0.0", "version": "1.0.0"},
        "green": {"tag": "1.1.0", "version": "1.1.0"},
    }


@pytest.mark.parametrize("bad", ["red", ""])
def test_unknown_colour(bad: str) -> None:
    from verification.bluegreen.model import other

    with pytest.raises(Exception, match="unknown colour"):
        other(bad)


def test_only_forbidden() -> None:
    from verification.bluegreen.model import only_forbidden

    forbidden = Answer("p", "/healthz", None, None, "forbidden: this identity may not use pods/portforward")
    assert only_forbidden([forbidden, forbidden])
    assert not only_forbidden([forbidden, Answer("p", "/readyz", 503, "1")])
    assert not only_forbidden([])
