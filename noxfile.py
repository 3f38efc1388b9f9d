"""Sessions: lint, tests (unit + conformance), conformance, mutants, bench, tools, images, cluster, e2e."""

import json
import os
import shlex
import time
from pathlib import Path

import nox

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_existing_virtualenvs = True
# uv makes each session's venv and installs into it from its cache (pyproject.toml's [tool.uv] has the
# machine's TLS setting); without uv (`pip install 'nox[uv]'`), virtualenv and pip, much slower.
nox.options.default_venv_backend = "uv|virtualenv"
nox.options.error_on_missing_interpreters = True

ROOT = Path(__file__).parent
ARTIFACTS = Path(os.environ.get("PLATFORM_VERIFY_ARTIFACTS", ROOT / "artifacts"))
# External binaries the conformance suite drives (versions pinned in platform/versions.yaml).
CONFORMANCE_TOOLS = ["helm", "promtool", "amtool", "gitlab-ci-local"]
# The live loopback alert test and the load benchmarks run real servers from Debian's packages.
TEST_TOOLS = [*CONFORMANCE_TOOLS, "prometheus", "prometheus-alertmanager", "wrk"]
E2E_TOOLS = [*TEST_TOOLS, "kind", "kubectl"]
# The apps and their setup commands, as the catalog reads them (the session's interpreter has the package).
APPS_SETUP = (
    "import json; from verification import catalog; "
    "print(json.dumps([[str(a.source), a.setup] for a in catalog.current().apps.values()]))"
)


def _install(session: nox.Session) -> None:
    if session.venv_backend != "uv":
        # A fresh clone's install on 2 cores: 9 s with uv (its cache cold), 76 s with virtualenv and pip.
        session.warn(f"venv backend {session.venv_backend}, not uv (not installed?): pip installs, slowly")
    # pip too, which a uv venv lacks: scripts run `python3 -m pip` (sample2-app's prepare-image.sh)
    session.install("-e", ".[test,dev]", "pip")
    _apps(session)


def _apps(session: nox.Session) -> None:
    """Each app's `setup` (platform/apps/<app>/app.yaml) in its folder, so tests run it from source."""
    listing = session.run_install("python", "-c", APPS_SETUP, silent=True)  # None when installs are skipped
    # npm: the lock file pins every version, so metadata already in npm's cache is used without asking
    # the registry again (anything missing is still fetched): 3 s instead of 5-7 s for sample-app.
    env = {"npm_config_prefer_offline": "true"}
    for source, setup in json.loads(listing) if isinstance(listing, str) else []:
        with session.chdir(source):
            _setup(session, shlex.split(setup), env)


def _setup(session: nox.Session, argv: list[str], env: dict[str, str]) -> None:
    """The one place an app's setup command is translated: `pip install ARGS` is the session's own
    install (`uv pip install ARGS` into the session venv with uv, its pip without), so it never
    reaches another Python's pip; anything else runs as written."""
    if argv[:2] == ["pip", "install"]:
        session.install(*argv[2:], silent=True, env=env)
    else:
        session.run_install(*argv, external=True, silent=True, env=env)


def _tools(session: nox.Session, names: list[str]) -> None:
    # Explicit, visible install step: tests themselves never download anything.
    session.run("platform-verify", "tools", "install", *names)


def _crds(session: nox.Session) -> None:
    # Explicit, visible preparation: CRD schemas of the pinned ArgoCD and prometheus-operator.
    session.run("platform-verify", "crds", "fetch")


@nox.session
def lint(session: nox.Session) -> None:
    """ruff check and format check; mypy, strict for verification/ (configured in pyproject.toml)."""
    # The project itself (with the test extra: the suites import pytest and hypothesis) so mypy
    # resolves every import against the real, typed dependencies; the dev extra brings mypy and stubs.
    session.install("-e", ".[test,dev]")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("mypy")


@nox.session
def tests(session: nox.Session) -> None:
    """Unit tests of the suite itself plus the conformance suite (no cluster)."""
    _install(session)
    _tools(session, TEST_TOOLS)
    _crds(session)
    ARTIFACTS.mkdir(exist_ok=True)
    session.run(
        "pytest",
        "tests",
        "verification/conformance",
        f"--junitxml={ARTIFACTS / 'junit-tests.xml'}",
        *session.posargs,
    )


@nox.session
def conformance(session: nox.Session) -> None:
    """Only the conformance suite: what runs before every merge."""
    _install(session)
    _tools(session, CONFORMANCE_TOOLS)
    _crds(session)
    session.run("pytest", "verification/conformance", *session.posargs)


@nox.session
def mutants(session: nox.Session) -> None:
    """Each misconfiguration of verification/mutants/catalog on a copy must turn conformance red.

    Prints the kill rate, the wall time and every survivor; `-- --area charts`, `-- --id ID`,
    `-- --list`, `-- --jobs N`, `-- --rev HEAD` select and tune (see `python -m verification.mutants -h`).
    """
    _install(session)
    _tools(session, CONFORMANCE_TOOLS)
    _crds(session)
    report = ARTIFACTS / "mutants" / "report.json"
    session.run("python", "-m", "verification.mutants", f"--report={report}", *session.posargs)


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks that print figures (conformance wall time and external-tool share, ...)."""
    _install(session)
    _tools(session, CONFORMANCE_TOOLS)
    _crds(session)
    for script in sorted((ROOT / "benchmarks").glob("*.py")):
        if script.name.startswith("e2e_"):
            continue  # reports on an e2e run's artifacts; `nox -s e2e` prints it
        session.run("python", str(script), *session.posargs)


@nox.session
def tools(session: nox.Session) -> None:
    """Install (or show) every pinned external tool."""
    _install(session)
    session.run("platform-verify", "tools", *(session.posargs or ["install"]))


@nox.session
def images(session: nox.Session) -> None:
    """Build or pull every image the e2e needs (`-- --rebuild` forces a rebuild)."""
    _install(session)
    _tools(session, E2E_TOOLS)
    session.run("platform-verify", "images", *session.posargs)


@nox.session
def cluster(session: nox.Session) -> None:
    """`nox -s cluster -- up|down|status`: the named kind cluster for e2e."""
    _install(session)
    _tools(session, E2E_TOOLS)
    session.run("platform-verify", "cluster", *(session.posargs or ["status"]))


@nox.session
def e2e(session: nox.Session) -> None:
    """The main job: a real kind cluster, the stack deployed, live behaviour against the models."""
    ARTIFACTS.mkdir(exist_ok=True)
    setup: dict[str, float] = {}
    for name, step in (
        ("install", lambda: _install(session)),
        ("tools", lambda: _tools(session, E2E_TOOLS)),
        ("crds", lambda: _crds(session)),
    ):
        begun = time.monotonic()
        step()
        setup[name] = round(time.monotonic() - begun, 1)
    (ARTIFACTS / "e2e-setup-timings.json").write_text(json.dumps(setup) + "\n")
    begun = time.monotonic()
    try:
        session.run(
            "pytest",
            "verification/e2e",
            "-p",
            "no:cacheprovider",
            f"--artifacts={ARTIFACTS}",
            f"--junitxml={ARTIFACTS / 'junit-e2e.xml'}",
            *session.posargs,
        )
    finally:
        (ARTIFACTS / "e2e-pytest-seconds.json").write_text(json.dumps(round(time.monotonic() - begun, 1)) + "\n")
        # The wall-time report (phases and their shares); never the reason a run fails.
        session.run(
            "python", str(ROOT / "benchmarks" / "e2e_phases.py"), f"--artifacts={ARTIFACTS}", success_codes=[0, 2]
        )
