"""Pure logic of the pinned Go builds: versions, stamping, cache keys, wrapper modules."""

from verification.cluster import gobuild
from verification.cluster.gobuild import Component

ETCD_GO_MOD = """module go.etcd.io/etcd/server/v3

go 1.25.0

require go.etcd.io/etcd/api/v3 v3.5.31

replace (
\tgo.etcd.io/etcd/api/v3 => ../api
\tgo.etcd.io/etcd/client/pkg/v3 => ../client/pkg // local
)

replace go.etcd.io/etcd/raft/v3 => ../raft
replace github.com/example/fork => github.com/other/fork v1.2.3
"""


def test_staging_version_maps_minor_and_patch() -> None:
    assert gobuild.staging_version("v1.33.6") == "v0.33.6"


def test_kubernetes_ldflags_stamp_both_version_packages() -> None:
    flags = gobuild.kubernetes_ldflags("v1.33.6")
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        assert f"-X {pkg}.gitVersion=v1.33.6" in flags
        assert f"-X {pkg}.gitMajor=1" in flags
        assert f"-X {pkg}.gitMinor=33" in flags


def test_relative_replaces_only() -> None:
    assert gobuild.relative_replaces(ETCD_GO_MOD) == [
        "go.etcd.io/etcd/api/v3",
        "go.etcd.io/etcd/client/pkg/v3",
        "go.etcd.io/etcd/raft/v3",
    ]


def test_wrapper_go_mod_pins_replaced_siblings() -> None:
    comp = Component("kubernetes", "k8s.io/kubernetes", "v1.33.6", ("cmd/kubelet",))
    text = gobuild.wrapper_go_mod(comp, ["k8s.io/api"], "v0.33.6")
    assert "require k8s.io/kubernetes v1.33.6" in text
    assert "\tk8s.io/api => k8s.io/api v0.33.6" in text
    text = gobuild.wrapper_go_mod(comp, ["k8s.io/api", "k8s.io/psa"], "v0.33.6", {"k8s.io/psa": "v0.33.7"})
    assert "\tk8s.io/psa => k8s.io/psa v0.33.7" in text


def test_binary_names_drop_major_version_suffix_and_rename() -> None:
    etcd = Component("etcd", "go.etcd.io/etcd/server/v3", "v3.5.31", (".",), extra={"rename": {"server": "etcd"}})
    assert etcd.binaries() == ["etcd"]
    router = Component("kube-router", "github.com/cloudnativelabs/kube-router/v2", "v2.1.0", ("cmd/kube-router",))
    assert router.binaries() == ["kube-router"]


def test_cache_key_changes_with_every_input() -> None:
    base = Component("runc", "github.com/opencontainers/runc", "v1.3.0", (".",), ldflags="-X main.version={version}")
    key = gobuild.cache_key(base, "go1.26.8")
    assert key == gobuild.cache_key(base, "go1.26.8")
    variants = [
        Component("runc", "github.com/opencontainers/runc", "v1.3.1", (".",), ldflags="-X main.version={version}"),
        Component("runc", "github.com/opencontainers/runc", "v1.3.0", (".",), ldflags="-X main.v={version}"),
        Component("runc", "github.com/opencontainers/runc", "v1.3.0", (".",), tags="seccomp"),
    ]
    assert all(gobuild.cache_key(v, "go1.26.8") != key for v in variants)
    assert gobuild.cache_key(base, "go1.27.0") != key


def test_every_pinned_component_resolves() -> None:
    comps = gobuild.components()
    assert {"kubernetes", "containerd", "runc", "crictl", "cni-plugins", "etcd", "coredns", "kube-router"} <= set(comps)
    assert "kube-apiserver" in comps["kubernetes"].binaries()
    assert comps["kubernetes"].version.startswith("v1.33.")
