# CoreDNS as upstream ships it: the binary at /coredns as the entrypoint (kubeadm passes -conf).
FROM scratch
COPY coredns /coredns
EXPOSE 53 53/udp
ENTRYPOINT ["/coredns"]
