# kube-proxy and kube-router: a static binary plus iptables/ipset/conntrack from Debian, with
# the backend chosen like upstream's images do (iptables-wrapper).
ARG BASE
FROM ${BASE}
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
       iptables ipset conntrack iproute2 kmod ca-certificates \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY iptables-wrapper install-iptables-wrapper /tmp/
RUN sh /tmp/install-iptables-wrapper && rm /tmp/iptables-wrapper /tmp/install-iptables-wrapper
ARG BINARY
COPY ${BINARY} /usr/local/bin/${BINARY}
