#!/usr/bin/env bash
# test/interop/nft-zones.sh SCRIPT ZONES: export nft --mode conntrack-zones, live (issue 24).
#
# Three clones ssnx-zc{0,1,2}-PID with one IP (10.0.0.2/24, fd00::2/64) and one MAC behind
# tap0..tap2 of a host ssnx-zh-PID whose taps all carry 10.0.0.1/24 and fd00::1/64 and which
# runs dnsmasq (www.example.test: A 192.0.2.80, AAAA 2001:db8::80). The policy routes listed in SCRIPT's header are
# run, SCRIPT is loaded twice; ZONES=0 empties its zone chain (the control). Then each clone in
# turn sends the same query (same id, same source port) over IPv4 and IPv6 and opens TCP to a
# closed port; one line per attempt on stdout. Namespaces are removed on exit.
set -Eeuo pipefail
script=$1 zones=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
H=ssnx-zh-$$
clones=(ssnx-zc0-$$ ssnx-zc1-$$ ssnx-zc2-$$)
# shellcheck source=ns-lib.sh
. "$here/ns-lib.sh"
cleanup() { ns_remove $H "${clones[@]}"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
quiet() {
  nsx "$1" sysctl -qw net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
    net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.addr_gen_mode=1 \
    net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.rp_filter=0 net.ipv4.tcp_timestamps=0
  nsx "$1" ip link set lo up
}
ip netns add $H
quiet $H
for i in 0 1 2; do
  C=${clones[$i]}
  ip netns add "$C"
  quiet "$C"
  clone_link "$C" $H $i
  nsx $H ip addr add 10.0.0.1/24 dev tap$i
  nsx $H ip addr add fd00::1/64 dev tap$i nodad
done
# the routes the script's header lists, as printed
grep -E '^#   ip ' "$script" | sed 's/^#   //' | while read -r line; do eval "ip netns exec $H $line"; done
nsx $H nft -f "$script"
nsx $H nft -f "$script"
[[ $zones == 1 ]] || nsx $H nft flush chain inet ssnat zone_in
work=$(mktemp -d /tmp/ssnx-zones.XXXXXX)
trap 'cleanup; rm -rf "$work"' EXIT
start_dnsmasq $H "$work"
disown "$DNSMASQ_PID"
for i in 0 1 2; do
  nsx "${clones[$i]}" /usr/bin/python3 "$here/nft-live.py" same "clone$i"
done
