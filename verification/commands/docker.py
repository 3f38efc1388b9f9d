"""`platform-verify docker up|status`: the Docker engine the kind cluster runs on."""

import argparse

from verification.cluster import capabilities, docker


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("docker", help="start (installing if needed) or show the Docker engine")
    parser.add_argument("action", choices=["up", "status"], nargs="?", default="status")
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    if args.action == "up":
        docker.ensure_engine()
    if not docker.engine_answers():
        print("docker engine: not answering (run `platform-verify docker up` as root)")
        return 1
    wrapper = "needed" if capabilities.lacks_sys_resource() else "not needed"
    print(f"docker engine: answering; default runtime {docker.default_runtime()} (runc wrapper {wrapper})")
    return 0
