"""Every blue-green chart render (app x environment x active colour) conforms.

All renders happen once, in parallel, in a module fixture: helm start-up dominates each one.
"""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from verification import catalog
from verification.errors import UserError
from verification.models.delivery import chart as bg
from verification.versions import image as versions_image

RELEASES = [(app, env) for env in bg.environments() for app in bg.apps(env)]
RENDER_KEYS = [(app, env, color) for app, env in RELEASES for color in bg.COLORS]


def _id(key: tuple[str, ...]) -> str:
    return "-".join(key)


@pytest.fixture(scope="module")
def renders(chart_renders: dict[tuple[str, str, str], bg.Render]) -> dict[tuple[str, str, str], bg.Render]:
    return {key: chart_renders[key] for key in RENDER_KEYS}  # rendered once per session (conftest.py)


@pytest.fixture(scope="module")
def lints() -> dict[tuple[str, str], list[str]]:
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(RELEASES, pool.map(lambda k: bg.lint(*k), RELEASES), strict=True))


def test_every_environment_deploys_every_app() -> None:
    assert set(bg.environments()) >= {"test", "staging", "e2e"}
    for env in bg.environments():
        assert bg.apps(env) == list(catalog.current().names()), f"apps with values in {env}"


@pytest.mark.parametrize("key", RENDER_KEYS, ids=_id)
def test_render_conforms(renders: dict[tuple[str, str, str], bg.Render], key: tuple[str, str, str]) -> None:
    problems = bg.violations(renders[key])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", RENDER_KEYS, ids=_id)
def test_render_matches_pinned_schema(
    renders: dict[tuple[str, str, str], bg.Render], key: tuple[str, str, str]
) -> None:
    problems = bg.check_schema(renders[key])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("release", RELEASES, ids=_id)
def test_images_are_the_pinned_ones(renders: dict[tuple[str, str, str], bg.Render], release: tuple[str, str]) -> None:
    problems = [p for color in bg.COLORS for p in bg.check_image_pinned_in_versions(renders[(*release, color)])]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("release", RELEASES, ids=_id)
def test_switch_changes_only_services(renders: dict[tuple[str, str, str], bg.Render], release: tuple[str, str]) -> None:
    problems = bg.check_switch_changes_only_services(renders[(*release, "blue")], renders[(*release, "green")])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("release", RELEASES, ids=_id)
def test_helm_lint_is_clean(lints: dict[tuple[str, str], list[str]], release: tuple[str, str]) -> None:
    assert not lints[release], "\n".join(lints[release])


@pytest.mark.parametrize("release", [r for r in RELEASES if r[1] in ("test", "staging")], ids=_id)
def test_workloads_agree_with_intent(renders: dict[tuple[str, str, str], Any], release: tuple[str, str]) -> None:
    workloads = bg.load_workloads_intent()
    if workloads is None:
        pytest.skip(f"{bg.WORKLOADS_INTENT} does not exist yet; conventions are checked by test_render_conforms")
    problems = bg.check_intent_workloads(renders[(*release, "blue")], workloads)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("key", [k for k in RENDER_KEYS if k[2] == "blue"], ids=_id)
def test_service_monitor_matches_the_operator_crd(
    renders: dict[tuple[str, str, str], bg.Render], key: tuple[str, str, str]
) -> None:
    from verification.models.schema import crd as crd_schema

    crd_schema.require_fetched()
    problems = [p for o in renders[key].of_kind("ServiceMonitor") for p in crd_schema.validate_document(o)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("app", bg.apps("test"))
def test_a_digest_pins_only_its_colour_and_a_switch_keeps_it(app: str) -> None:
    # What `bluegreen deploy --digest` writes: the idle colour pulls TAG@DIGEST, the other keeps its tag.
    reference = versions_image(app)
    digest = "sha256:" + "0123456789abcdef" * 4
    pinned = {"green": {"tag": bg.split_image(reference)[1], "digest": digest}}
    blue, green = (bg.render(app, "test", active, overrides=pinned) for active in bg.COLORS)
    images = {c: [x["image"] for x in bg.containers(d or {})] for c, d in bg.colour_deployments(blue).items()}
    assert images == {"blue": [reference], "green": [f"{reference}@{digest}"]}
    assert not bg.check_images(blue) + bg.check_image_pinned_in_versions(blue)
    assert not bg.check_switch_changes_only_services(blue, green)
    with pytest.raises(UserError, match=r"green/digest.*does not match"):
        bg.render(app, "test", "blue", overrides={"green": {"digest": digest[:-1]}})
