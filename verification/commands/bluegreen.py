"""`platform-verify bluegreen status|deploy|switch|rollback APP --env ENV`: the switch orchestrator.

The same code runs in GitLab deploy jobs and in e2e (verification.bluegreen.orchestrator).
A switch or rollback first prints its plan (what the flip changes, field by field) and refuses
anything but the colour's fields, or another --env than the release was deployed with.
Exit codes: 0 done, 1 refused, failed or (status) not installed (with an automatic rollback when a flip did not verify),
2 bad input.
"""

import argparse
from pathlib import Path

from rich.console import Console

from verification.errors import UserError
from verification.models.delivery import chart
from verification.versions import image

# Options passed on under their own name to connect() (and through it to the Orchestrator).
PASSED_ON = "namespace context kubeconfig source sync_command url preview_url timeout dry_run change_profile".split()


def register(sub: "argparse._SubParsersAction[argparse.ArgumentParser]") -> None:  # generic for mypy only
    parser = sub.add_parser("bluegreen", help="deploy, switch, roll back or show an app's blue-green release")
    parser.add_argument("action", choices=["status", "deploy", "switch", "rollback"])
    parser.add_argument("app", help="an app with values in platform/environments/<ENV>/<APP>.yaml")
    parser.add_argument("--env", required=True, help="values profile: platform/environments/<ENV> (test, staging, e2e)")
    parser.add_argument("--namespace", help="namespace of the release (default: the environment's; e2e: test)")
    parser.add_argument("--context", help="kubeconfig context (default: the current one)")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG or ~/.kube/config)")
    parser.add_argument(
        "--version",
        dest="app_version",
        help="deploy: APP_VERSION to deploy (default: the tag of images.APP in versions.yaml); "
        "switch: refuse unless the idle colour runs this version",
    )
    parser.add_argument("--tag", help="deploy: image tag (default: the version)")
    parser.add_argument(
        "--digest",
        type=_digest,
        help="deploy: pin the tag to this image digest (sha256:<64 hex>, what the registry served for it); "
        "the pods pull REPOSITORY:TAG@DIGEST and the colour is ready only when every pod runs it",
    )
    parser.add_argument(
        "--values",
        action="append",
        default=[],
        metavar="FILE",
        help="extra values file after the environment's (repeatable)",
    )
    parser.add_argument(
        "--source",
        choices=["helm", "gitops"],
        default="helm",
        help="source of truth: the Helm release (default) or, where ArgoCD syncs the app, its values file "
        "platform/environments/ENV/APP.yaml in git",
    )
    parser.add_argument(
        "--sync-command",
        help="gitops: shell command run after the values file is written (commit, push, argocd app sync); "
        "gets BLUEGREEN_APP, BLUEGREEN_ENV, BLUEGREEN_NAMESPACE, BLUEGREEN_VALUES_FILE, BLUEGREEN_ACTIVE_COLOR",
    )
    parser.add_argument(
        "--preview-url",
        help="smoke-test the idle colour through this URL of the preview Service (ingress or NodePort) "
        "instead of a port-forward to each pod",
    )
    parser.add_argument("--url", help="also verify the live active Service at this URL (e.g. the e2e NodePort)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds to wait for a rollout (default 300)")
    parser.add_argument(
        "--dry-run",
        action="store_true",
        help="print the plan (what would change, field by field, and whether it is allowed) and change nothing",
    )
    parser.add_argument(
        "--change-profile",
        action="store_true",
        help="deploy only: redeploy a release with another --env than it was deployed with (never a switch)",
    )
    parser.set_defaults(func=_run)


def _run(args: argparse.Namespace) -> int:
    from verification.bluegreen.orchestrator import connect, summary_table
    from verification.cluster import preflight

    if args.kubeconfig:  # read by the one loader first: the kubernetes client's own parse is a traceback
        preflight.context_of(Path(args.kubeconfig), args.context)
    given = {name: getattr(args, name) for name in PASSED_ON}
    orchestrator = connect(args.app, args.env, extra_values=tuple(args.values), **given)
    if args.action == "status":
        state, table = orchestrator.status()
        Console().print(table)
        return 0 if state.installed else 1
    if args.action == "deploy":
        version = args.app_version or _default_version(args.app)
        outcome = orchestrator.deploy(version, args.tag, args.digest)
    elif args.action == "switch":
        outcome = orchestrator.switch(args.app_version)
    else:
        if args.app_version or args.tag or args.digest:
            raise UserError("rollback takes no --version, --tag or --digest: it flips back to the colour kept running")
        outcome = orchestrator.rollback()
    if outcome.dry_run:
        if outcome.plan is not None:
            Console().print(outcome.plan.table())
        print(f"dry run: {outcome.action} of {args.app} planned; nothing changed")
        return 0
    Console().print(summary_table(outcome))
    return 0


def _digest(text: str) -> str:
    if not chart.DIGEST.fullmatch(text):
        raise argparse.ArgumentTypeError(f"{text!r} is not an image digest: expected sha256: and 64 lowercase hex")
    return text


def _default_version(app: str) -> str:
    reference = image(app)
    tag = chart.split_image(reference)[1]
    if not tag:
        raise UserError(f"platform/versions.yaml: images.{app} ({reference}) has no tag; pass --version")
    return tag
