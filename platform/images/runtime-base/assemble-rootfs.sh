#!/bin/sh
# Assemble the minimal root filesystem every stack image starts from, in "$1":
# busybox with a short list of applets linked (a shell for `kubectl exec` and image tests,
# wget/nc for probes; upstream Prometheus images are busybox-based too), tini as init,
# users (app = 10001), CA certificates and time zones. No package manager, no compiler.
# Debian's dynamic busybox, not busybox-static: the static one has dpkg applets and a
# "standalone" shell that runs any built-in applet, so `dpkg` would work without a link.
set -eu
root=$1
mkdir -p "$root/bin" "$root/sbin" "$root/etc/ssl/certs" "$root/usr/share" "$root/tmp" "$root/proc" "$root/sys" "$root/dev"
sh "$(dirname "$0")/copy-with-libs.sh" "$root" /bin/busybox:/bin/busybox
for applet in sh cat chmod cp cut date df du echo env false find grep head hostname id kill ln ls mkdir \
    mv nc nslookup printf ps pwd readlink rm sed sleep sort stat tail test tr true uname wc wget [; do
    ln -s busybox "$root/bin/$applet"
done
install -m 0755 /usr/bin/tini-static "$root/sbin/tini"
cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
cp -a /usr/share/zoneinfo "$root/usr/share/zoneinfo"
cat > "$root/etc/passwd" <<'PASSWD'
root:x:0:0:root:/root:/sbin/nologin
app:x:10001:10001:app:/tmp:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
PASSWD
cat > "$root/etc/group" <<'GROUP'
root:x:0:
app:x:10001:
nogroup:x:65534:
GROUP
# Go's resolver reads these; glibc programs (Debian's prometheus) need nsswitch to use files+dns.
printf 'hosts: files dns\n' > "$root/etc/nsswitch.conf"
: > "$root/etc/hosts"
: > "$root/etc/resolv.conf"
chmod 1777 "$root/tmp"
