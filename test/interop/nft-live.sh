#!/usr/bin/env bash
# test/interop/nft-live.sh SCRIPT OUTDIR: the exported nft ruleset, live (issue 24).
#
#   clone nsI (I = 0, 1, 2): eth0 10.0.0.2/24 fd00::2/64, MAC 52:54:00:12:34:56 in every clone
#     <veth> host ns: tapI 192.168.(11+I).1/24 fd00:(11+I)::1/64, dnsmasq (www.example.test),
#            SCRIPT loaded (nft -f, twice), plus `dup to "mon0"` at the end of from_tap0 and
#            the start of to_tap0
#            mon0 <veth> monitor ns: mon1 (no addresses, no IPv6)
# Captures (pcap, tcpdump): OUTDIR/guest.pcap on tap0 (the guest's view: before ingress,
# after egress) and OUTDIR/mon.pcap on mon1 (the host's view of every frame tap0 carried).
# Namespaces are ssnx-{c,h,m}-PID, removed on exit whatever happens.
set -Eeuo pipefail
script=$1 out=$2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
id=$$
C0=ssnx-c0-$id C1=ssnx-c1-$id C2=ssnx-c2-$id H=ssnx-h-$id M=ssnx-m-$id
pids=()
# shellcheck source=ns-lib.sh
. "$here/ns-lib.sh"
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  ns_remove $C0 $C1 $C2 $H $M
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for ns in $C0 $C1 $C2 $H $M; do
  ip netns add "$ns"
  nsx "$ns" sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.addr_gen_mode=1 \
    net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.accept_dad=0 \
    net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0 \
    net.ipv6.conf.default.router_solicitations=0 net.ipv6.conf.all.router_solicitations=0 \
    net.ipv6.conf.default.mldv1_unsolicited_report_interval=0 \
    net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0 net.ipv4.tcp_timestamps=0
  nsx "$ns" ip link set lo up
done
nsx $M sysctl -qw net.ipv6.conf.default.disable_ipv6=1 net.ipv6.conf.all.disable_ipv6=1
ip link add mon0 netns $H type veth peer name mon1 netns $M
nsx $H sysctl -qw net.ipv6.conf.mon0.disable_ipv6=1
nsx $H ip link set mon0 up
nsx $M ip link set mon1 up
for i in 0 1 2; do
  C=ssnx-c$i-$id h=$((11 + i))
  clone_link $C $H $i
  nsx $C ethtool -K eth0 tx off >/dev/null
  nsx $H ethtool -K tap$i tx off >/dev/null
  nsx $H ip addr add 192.168.$h.1/24 dev tap$i
  nsx $H ip addr add fd00:$h::1/64 dev tap$i nodad
  # IPv6 neighbours are static: the live ruleset does not translate NDP targets (the script says so)
  nsx $C ip -6 neigh replace fd00::1 lladdr 02:00:00:00:01:0$i dev eth0 nud permanent
  nsx $H ip -6 neigh replace fd00:$h::2 lladdr 52:54:00:12:34:56 dev tap$i nud permanent
done

nsx $H nft -f "$script"
nsx $H nft -f "$script"
nsx $H nft add rule netdev ssnat from_tap0 dup to '"mon0"'
nsx $H nft insert rule netdev ssnat to_tap0 dup to '"mon0"'

start_dnsmasq $H "$out"
pids+=("$DNSMASQ_PID")
sleep 1 # MLD reports of the new addresses go by before the captures start

ip netns exec $H tcpdump -U -n -s 0 -i tap0 -w "$out/guest.pcap" 2>"$out/tcpdump-guest.log" &
pids+=($!)
ip netns exec $M tcpdump -U -n -s 0 -i mon1 -w "$out/mon.pcap" 2>"$out/tcpdump-mon.log" &
pids+=($!)
for _ in $(seq 50); do
  grep -q listening "$out/tcpdump-guest.log" 2>/dev/null && grep -q listening "$out/tcpdump-mon.log" 2>/dev/null && break
  sleep 0.1
done
sleep 0.5

for i in 0 1 2; do
  nsx ssnx-c$i-$id /usr/bin/python3 "$here/nft-live.py" send 10.0.0.1 fd00::1 >>"$out/send.log" 2>&1 || { cat "$out/send.log" >&2; exit 1; }
done
sleep 0.5
kill -INT "${pids[1]}" "${pids[2]}"
wait "${pids[1]}" "${pids[2]}" 2>/dev/null || true
cat "$out/send.log"
