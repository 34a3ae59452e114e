# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#
# netns.sh - the packet tests' and the benchmark's network namespace, sourced
# by tests/packet/run.sh and tests/bench/run.sh.
#
# One namespace, two veth pairs with both ends inside it: pkc0 faces the
# clients (10.10.0.1/16, fd00:10::1/64), pks0 faces the backends
# (10.20.0.1/24, fd00:20::1/64). bpf_fib_lookup() resolves next hops from
# PERMANENT neighbour entries with fixed MACs, so the expected output frames
# can be written down byte for byte. The MACs below are repeated in
# tests/packet/pkt.h (PKT_MAC_*): change both together.
#
#   netns_setup NAME      create and configure the namespace
#   netns_cleanup NAME    delete it (safe to call twice)
#   netns_run NAME CMD... run a command inside (nsenter, not "ip netns exec",
#                         which remounts /sys and hides /sys/fs/bpf)

NETNS_MAC_PKC0=02:6c:70:00:00:01
NETNS_MAC_PKS0=02:6c:70:00:00:02
NETNS_MAC_CLIENT=02:6c:70:00:01:02
NETNS_MAC_BACKEND_PREFIX=02:6c:70:00:02	# :11, :12, :13

netns_run()
{
	local name=$1
	shift
	nsenter --net="/run/netns/$name" "$@"
}

netns_cleanup()
{
	ip netns del "$1" 2>/dev/null || true
}

netns_setup()
{
	local name=$1 i

	if [ "$(id -u)" -ne 0 ]; then
		echo "netns: must run as root" >&2
		return 1
	fi
	# Libraries pin and look up maps under /sys/fs/bpf.
	if ! mountpoint -q /sys/fs/bpf; then
		mount -t bpf bpf /sys/fs/bpf || return 1
	fi
	netns_cleanup "$name"
	ip netns add "$name" || return 1

	# Forwarding first: bpf_fib_lookup() answers FWD_DISABLED without it,
	# and the "all" switch is copied to interfaces created afterwards.
	netns_run "$name" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
		net.ipv6.conf.default.forwarding=1 net.ipv6.conf.default.accept_dad=0 || return 1

	ip -n "$name" link add pkc0 address $NETNS_MAC_PKC0 type veth peer name pkc1 || return 1
	ip -n "$name" link add pks0 address $NETNS_MAC_PKS0 type veth peer name pks1 || return 1
	ip -n "$name" addr add 10.10.0.1/16 dev pkc0 || return 1
	ip -n "$name" addr add fd00:10::1/64 dev pkc0 nodad || return 1
	ip -n "$name" addr add 10.20.0.1/24 dev pks0 || return 1
	ip -n "$name" addr add fd00:20::1/64 dev pks0 nodad || return 1
	for i in lo pkc0 pkc1 pks0 pks1; do
		ip -n "$name" link set "$i" up || return 1
	done

	ip -n "$name" neigh replace 10.10.0.2 lladdr $NETNS_MAC_CLIENT nud permanent dev pkc0 ||
		return 1
	ip -n "$name" neigh replace fd00:10::2 lladdr $NETNS_MAC_CLIENT nud permanent dev pkc0 ||
		return 1
	for i in 11 12 13; do
		ip -n "$name" neigh replace 10.20.0.$i lladdr $NETNS_MAC_BACKEND_PREFIX:$i \
			nud permanent dev pks0 || return 1
		ip -n "$name" neigh replace fd00:20::$i lladdr $NETNS_MAC_BACKEND_PREFIX:$i \
			nud permanent dev pks0 || return 1
	done
	# A network behind a router (10.20.0.13): a cluster node there is
	# reached encapsulated (tests/packet/test_cluster.c).
	ip -n "$name" route add 10.98.0.0/24 via 10.20.0.13 dev pks0 || return 1
}
