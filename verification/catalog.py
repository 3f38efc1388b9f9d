"""What exists: apps, environments, images and ports, read from platform/ and nowhere else.

- an environment (or profile) is a folder platform/environments/<env>/ with a values.yaml;
- an app is deployed in an environment when <env>/<app>.yaml exists beside it; its NodePort there
  (profiles published on the host, e2e) is that file's `service.nodePort`;
- every app has its source folder platform/apps/<app>/ with an app.yaml saying how the suite runs
  it from source (runtime, start arguments, what a local run needs), and an image reference
  `images.<app>` in platform/versions.yaml.

Adding an app is data: those files. Bad data gives one UserError line naming the file and the fix.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from verification.errors import UserError
from verification.paths import REPO_ROOT
from verification.yamlio import load_file, only_fields

COMMON_VALUES = "values.yaml"
DESCRIPTOR = "app.yaml"
RUNTIMES = ("node", "python")  # how a local run starts: `node ARGS` or the suite's own `python ARGS`
# app.yaml fields; `requires` lists what a local run needs besides the runtime, `setup` provides it.
FIELDS = {"runtime", "start", "requires", "setup"}
REQUIRES = {"paths", "modules"}


@dataclass(frozen=True)
class App:
    name: str
    source: Path  # platform/apps/<name>
    runtime: str
    start: tuple[str, ...]  # arguments to the runtime, run in `source`
    paths: tuple[str, ...]  # files or folders under `source` a local run needs (e.g. node_modules)
    modules: tuple[str, ...]  # Python modules a local run imports
    setup: str  # the command that provides `paths` / `modules`
    image: str  # versions.yaml images.<name>
    node_ports: Mapping[str, int] = field(default_factory=dict)  # environment -> NodePort (http)


@dataclass(frozen=True)
class Catalog:
    root: Path
    environments: tuple[str, ...]
    deployed: Mapping[str, tuple[str, ...]]  # environment -> apps with a values file there
    apps: Mapping[str, App]

    def names(self) -> tuple[str, ...]:
        return tuple(self.apps)

    def app(self, name: str) -> App:
        if name not in self.apps:
            raise UserError(f"unknown app {name!r} (known: {', '.join(self.apps) or 'none'}; see platform/apps/)")
        return self.apps[name]

    def apps_in(self, env: str) -> tuple[str, ...]:
        if env not in self.deployed:
            where = self.root / "platform" / "environments" / env / COMMON_VALUES
            raise UserError(f"{where}: no such environment {env!r} (known: {', '.join(self.environments)})")
        return self.deployed[env]

    def node_ports(self, env: str) -> dict[str, int]:
        """App -> NodePort of its active Service's http port in `env` (apps without one left out)."""
        return {a: self.apps[a].node_ports[env] for a in self.apps_in(env) if env in self.apps[a].node_ports}


def load(root: Path = REPO_ROOT) -> Catalog:
    platform = root / "platform"
    envs_dir = platform / "environments"
    environments = tuple(sorted(p.parent.name for p in envs_dir.glob(f"*/{COMMON_VALUES}")))
    deployed: dict[str, tuple[str, ...]] = {}
    ports: dict[str, dict[str, int]] = {}
    for env in environments:
        files = sorted(p for p in (envs_dir / env).glob("*.yaml") if p.name != COMMON_VALUES)
        deployed[env] = tuple(p.stem for p in files)
        taken: dict[int, Path] = {}
        for path in files:
            port = _node_port(path)
            if port is None:
                continue
            if port in taken:
                raise UserError(f"{path}: service.nodePort {port} is {taken[port].name}'s too (give each app its own)")
            taken[port] = path
            ports.setdefault(path.stem, {})[env] = port
    sources = {p.parent.name for p in (platform / "apps").glob(f"*/{DESCRIPTOR}")}
    names = sorted({a for apps in deployed.values() for a in apps} | sources)
    images = _images(platform / "versions.yaml")
    apps = {}
    for name in names:
        envs = [env for env in environments if name in deployed[env]]
        if not envs:
            raise UserError(
                f"{platform / 'apps' / name / DESCRIPTOR}: app {name!r} is deployed nowhere "
                f"(add platform/environments/<env>/{name}.yaml, or remove the app's folder)"
            )
        if name not in sources:
            raise UserError(
                f"{envs_dir / envs[0] / (name + '.yaml')}: app {name!r} has no source "
                f"(add platform/apps/{name}/{DESCRIPTOR}, or remove the values file)"
            )
        if name not in images:
            raise UserError(f"{platform / 'versions.yaml'}: no image for app {name!r} (add images.{name})")
        apps[name] = _app(platform / "apps" / name, images[name], ports.get(name, {}))
    return Catalog(root, environments, deployed, apps)


@cache
def current() -> Catalog:
    """The repository's catalog, read once per process."""
    return load()


def _node_port(path: Path) -> int | None:
    data = load_file(path) or {}
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a mapping of values")
    if data.get("app", path.stem) != path.stem:
        raise UserError(f"{path}: app is {data['app']!r}, but the file names {path.stem!r} (make them equal)")
    port = (data.get("service") or {}).get("nodePort")
    if port is not None and not isinstance(port, int):
        raise UserError(f"{path}: service.nodePort {port!r} is not a port number")
    return port


def _images(path: Path) -> dict[str, str]:
    data = load_file(path) or {}
    images = data.get("images") if isinstance(data, dict) else None
    if not isinstance(images, dict):
        raise UserError(f"{path}: expected a mapping `images:` of name -> reference")
    return {str(k): str(v) for k, v in images.items()}


def _app(source: Path, image: str, node_ports: dict[str, int]) -> App:
    path = source / DESCRIPTOR
    data = only_fields(load_file(path) or {}, FIELDS, str(path))
    runtime = data.get("runtime")
    if runtime not in RUNTIMES:
        raise UserError(f"{path}: runtime {runtime!r} is not one of {', '.join(RUNTIMES)}")
    start = data.get("start")
    if not isinstance(start, list) or not start or not all(isinstance(a, str) for a in start):
        raise UserError(f"{path}: start must be a non-empty list of arguments to {runtime}")
    requires = data.get("requires") or {}
    if not isinstance(requires, dict) or set(requires) - REQUIRES:
        raise UserError(f"{path}: requires takes {' and '.join(sorted(REQUIRES))} (lists of names)")
    return App(
        source.name,
        source,
        runtime,
        tuple(start),
        tuple(str(p) for p in requires.get("paths") or ()),
        tuple(str(m) for m in requires.get("modules") or ()),
        str(data.get("setup") or ""),
        image,
        node_ports,
    )
