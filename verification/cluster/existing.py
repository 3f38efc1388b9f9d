"""`--cluster existing`: a cluster built elsewhere, given by kubeconfig and context.

Checked up front (preflight: the context exists, answers, and allows what the suite does), then
used through a kubeconfig of that one context only (kubectl, helm and the probes then need no
--context), with a run id under which everything the suite applies is labelled and, at the end,
removed (ownership.py).
"""

from pathlib import Path

from verification import tools
from verification.cluster import ownership, preflight
from verification.cluster.cluster import Cluster
from verification.run import run


def connect(kubeconfig: Path, context: str | None, where: Path) -> Cluster:
    """The preflighted cluster; its one-context kubeconfig is written to `where`."""
    _, chosen = preflight.check(kubeconfig, context)
    minified = where / "existing-cluster.kubeconfig"
    kubectl = tools.require("kubectl").path
    view = run(
        [kubectl, "config", "view", "--kubeconfig", kubeconfig, "--context", chosen, "--minify", "--flatten", "--raw"],
        timeout=30,
    )
    minified.write_text(view.stdout)
    minified.chmod(0o600)  # it holds the context's credentials
    return Cluster(chosen, minified, "existing", "existing", run_id=ownership.new_run_id())
