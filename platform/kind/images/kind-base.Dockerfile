# The kind base image, built offline: kind's own base-image recipe (images/base/Dockerfile of the
# pinned kind module) on the local debootstrapped Debian, with binaries built from Go modules
# instead of downloaded. The build context is assembled by verification/cluster/node_image.py:
#   files/  kind's images/base/files, read from the pinned kind module at build time
#   bin/    containerd, ctr, containerd-shim-runc-v2, crictl, runc, runc-wrapper
#   cni/    CNI plugins
ARG BASE
FROM ${BASE}

COPY --chmod=0755 files/usr/local/bin/* /usr/local/bin/
COPY --chmod=0644 files/kind/ /kind/
COPY --chmod=0755 files/kind/bin/ /kind/bin/
COPY --chmod=0644 files/LICENSES/* /LICENSES/
COPY --chmod=0644 files/etc/* /etc/
COPY --chmod=0644 files/etc/containerd/* /etc/containerd/
COPY --chmod=0644 files/etc/default/* /etc/default/
COPY --chmod=0644 files/etc/sysctl.d/* /etc/sysctl.d/
COPY --chmod=0644 files/etc/systemd/system/* /etc/systemd/system/
COPY --chmod=0644 files/etc/systemd/system/kubelet.service.d/* /etc/systemd/system/kubelet.service.d/

# Same packages and systemd trimming as kind's recipe.
RUN chmod 755 /kind/bin && \
    echo "Installing Packages ..." \
    && DEBIAN_FRONTEND=noninteractive clean-install \
      systemd \
      conntrack iptables nftables iproute2 ethtool util-linux mount kmod \
      libseccomp2 pigz fuse-overlayfs \
      nfs-common open-iscsi \
      bash ca-certificates curl jq procps ipset \
    && find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete \
    && rm -f /lib/systemd/system/multi-user.target.wants/* \
    && rm -f /etc/systemd/system/*.wants/* \
    && rm -f /lib/systemd/system/local-fs.target.wants/* \
    && rm -f /lib/systemd/system/sockets.target.wants/*udev* \
    && rm -f /lib/systemd/system/sockets.target.wants/*initctl* \
    && rm -f /lib/systemd/system/basic.target.wants/* \
    && echo "ReadKMsg=no" >> /etc/systemd/journald.conf \
    && ln -s "$(which systemd)" /sbin/init

RUN echo "Enabling / Disabling services ... " \
    && systemctl enable kubelet.service \
    && systemctl enable containerd.service \
    && systemctl enable undo-mount-hacks.service \
    && systemctl mask systemd-binfmt.service

RUN echo "Ensuring /etc/kubernetes/manifests" \
    && mkdir -p /etc/kubernetes/manifests

COPY --chmod=0755 bin/containerd bin/ctr bin/containerd-shim-runc-v2 bin/crictl /usr/local/bin/
RUN ctr oci spec \
        | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' \
        | jq 'del(.process.rlimits)' \
        > /etc/containerd/cri-base.json \
    && containerd --version

# runc: the real one as runc.real, the wrapper in runc's place (containerd calls `runc` from
# PATH). The wrapper is a plain exec of runc.real wherever the capability bounding set is full,
# and on machines like this build sandbox it drops capabilities the node lacks and clamps
# negative oomScoreAdj (the kubelet asks -998 for every pod sandbox).
COPY --chmod=0755 bin/runc /usr/local/sbin/runc.real
COPY --chmod=0755 bin/runc-wrapper /usr/local/sbin/runc
RUN runc --version

RUN mkdir -p /opt/cni/bin
COPY --chmod=0755 cni/ /opt/cni/bin/

ENV container=docker
STOPSIGNAL SIGRTMIN+3
ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]
