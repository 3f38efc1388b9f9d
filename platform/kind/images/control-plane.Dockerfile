# kube-apiserver, kube-controller-manager, kube-scheduler, etcd: one static binary each on the
# local Debian base; kubeadm's static pod manifests name the command, so no ENTRYPOINT.
ARG BASE
FROM ${BASE}
ARG BINARY
COPY ${BINARY} /usr/local/bin/${BINARY}
