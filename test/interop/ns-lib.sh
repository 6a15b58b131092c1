# test/interop/ns-lib.sh: what the live nft proofs (nft-live.sh, nft-zones.sh) share, sourced.
# Every namespace and process they make stays inside namespaces named ssnx-*.

nsx() { local ns=$1; shift; ip netns exec "$ns" "$@"; }

# ns_remove NS...: kills what runs in each namespace (by pid: only ours), then deletes it (and its veths).
ns_remove() {
  local ns p
  for ns in "$@"; do
    for p in $(ip netns pids "$ns" 2>/dev/null); do kill -KILL "$p" 2>/dev/null || true; done
    ip netns del "$ns" 2>/dev/null || true
  done
}

# clone_link CLONE_NS HOST_NS I: clone I's eth0 (one MAC in every clone, 10.0.0.2/24, fd00::2/64,
# default route via 10.0.0.1) joined by a veth to the host's tapI (MAC 02:00:00:00:01:0I); both up.
clone_link() {
  local c=$1 h=$2 i=$3
  ip link add eth0 netns "$c" address 52:54:00:12:34:56 type veth peer name "tap$i" netns "$h" address "02:00:00:00:01:0$i"
  nsx "$c" ip link set eth0 up
  nsx "$h" ip link set "tap$i" up
  nsx "$c" ip addr add 10.0.0.2/24 dev eth0
  nsx "$c" ip addr add fd00::2/64 dev eth0 nodad
  nsx "$c" ip route add default via 10.0.0.1
}

# start_dnsmasq HOST_NS DIR: dnsmasq in HOST_NS answering www.example.test (A 192.0.2.80,
# AAAA 2001:db8::80) and nothing else (no upstream), its files in DIR; sets DNSMASQ_PID and
# returns once it listens.
start_dnsmasq() {
  local h=$1 dir=$2
  cat >"$dir/dnsmasq.conf" <<CONF
no-resolv
no-hosts
no-poll
port=53
user=root
group=root
local=/example.test/
host-record=www.example.test,192.0.2.80,2001:db8::80
log-facility=$dir/dnsmasq.log
CONF
  ip netns exec "$h" dnsmasq --keep-in-foreground --conf-file="$dir/dnsmasq.conf" --pid-file="$dir/dnsmasq.pid" &
  DNSMASQ_PID=$!
  for _ in $(seq 50); do nsx "$h" ss -Hlnu 'sport = :53' | grep -q . && break; sleep 0.1; done
}
