#!/usr/bin/env bash
# bench/live.sh: tfopcap live (each capture backend) against tcpdump on the
# same replay into a veth.
#
#   bench/live.sh [-n RUNS] [--loop N] [--bin DIR]
#
# Needs root, ip, tcpdump, tcpreplay, jq, python3. Replays the SYN/SYN-ACK/RST
# packets of bench/data/real-handshake.pcap (bench/realcap's 60000 real TFO
# connections, which bench/run makes first) 4 times, as issue 18 did; without
# it, of bench/data/live-handshakes.pcap 12 times, made once here: in two
# namespaces joined by a veth, python3 opens 20000 connections, two thirds to
# a listening port (SYN, SYN-ACK) and one third to a closed one (SYN, RST),
# and tcpdump keeps the SYN/SYN-ACK/RST packets. RUNS times (default 3)
# and in turn, each tool listens on one end of a veth pair in namespaces
# lvb-rx/lvb-tx while `tcpreplay --topspeed --loop=N` sends the
# capture from the other end, and the script prints per tool: packets the
# replay sent, packets the tool captured and the kernel dropped (from the
# tool's own counters), CPU seconds (user+system, from GNU time) per million
# packets sent, and the replay's rate; medians with the min-max spread, and
# each backend's CPU ratio to tcpdump. The frames carry other MACs, so the
# receiving kernel discards them after the capture taps: nothing answers.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=3 loop= bin=bench/data/bin
while [ $# -gt 0 ]; do
	case "$1" in
	-n) runs=$2; shift 2 ;;
	--loop) loop=$2; shift 2 ;;
	--bin) bin=$2; shift 2 ;;
	-h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "bench/live.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ "$(id -u)" = 0 ] || { echo "bench/live.sh: needs root (namespaces, packet sockets)" >&2; exit 2; }
for tool in ip tcpdump tcpreplay jq python3 /usr/bin/time; do
	command -v "$tool" >/dev/null || { echo "bench/live.sh: $tool is missing" >&2; exit 2; }
done
data=bench/data
mkdir -p "$bin"
[ -x "$bin/tfopcap" ] || go build -o "$bin/tfopcap" ./cmd/tfopcap
capture=$data/live-handshakes.pcap
filter='(ip and tcp[tcpflags] & (tcp-syn|tcp-rst) != 0) or (ip6 and ip6[6] == 6 and ip6[53] & 0x06 != 0)'

tmp=$(mktemp -d)
cleanup() {
	for ns in lvb-rx lvb-tx lvb-cli lvb-srv; do ip netns del "$ns" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT

# pair NS1 NS2 IF1 IF2: a veth between two new namespaces, up.
pair() {
	ip netns add "$1"
	ip netns add "$2"
	ip link add "$3" netns "$1" type veth peer name "$4" netns "$2"
	ip -n "$1" link set "$3" up
	ip -n "$2" link set "$4" up
	ip -n "$1" link set lo up
	ip -n "$2" link set lo up
}

# make_capture: real kernel handshakes, SYN/SYN-ACK/RST only.
make_capture() {
	echo "making $capture (20000 real handshakes)"
	pair lvb-cli lvb-srv lvbc0 lvbs0
	ip -n lvb-cli addr add 198.18.0.2/24 dev lvbc0
	ip -n lvb-srv addr add 198.18.0.1/24 dev lvbs0
	ip netns exec lvb-srv python3 -c '
import socket, threading
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("198.18.0.1", 8443)); s.listen(4096)
while True:
    c, _ = s.accept(); c.close()
' &
	local srv=$!
	ip netns exec lvb-cli tcpdump -q -i lvbc0 -s 192 -B 65536 -w "$capture.tmp" "$filter" 2>"$tmp/dump.err" &
	local dump=$!
	sleep 1
	ip netns exec lvb-cli python3 -c '
import socket
for i in range(20000):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\1\0\0\0\0\0\0\0")
    try:
        s.connect(("198.18.0.1", 8443 if i % 3 else 8444))
    except OSError:
        pass
    s.close()
'
	sleep 1
	kill -INT "$dump"
	wait "$dump" || true
	kill "$srv"
	wait "$srv" 2>/dev/null || true
	ip netns del lvb-cli
	ip netns del lvb-srv
	mv "$capture.tmp" "$capture"
}
real=$data/real-handshake.pcap
if [ -s "$real" ]; then
	capture=$data/live-real-handshake.pcap
	if [ ! -s "$capture" ] || [ "$real" -nt "$capture" ]; then
		tcpdump -r "$real" -w "$capture" "$filter" 2>/dev/null
	fi
	loop=${loop:-4}
else
	[ -s "$capture" ] || make_capture
	loop=${loop:-12}
fi
packets=$(tcpdump -r "$capture" 2>/dev/null | wc -l)

pair lvb-tx lvb-rx lvbt0 lvbr0

# run NAME CMD...: the command listens on lvbr0 in lvb-rx while the replay
# runs; appends "sent captured dropped cpu_seconds pps" to $tmp/NAME.
run() {
	local name=$1 pid
	shift
	: >"$tmp/out" >"$tmp/err"
	ip netns exec lvb-rx /usr/bin/time -f 'cpu %U %S' -o "$tmp/time" "$@" >"$tmp/out" 2>"$tmp/err" &
	pid=$!
	for _ in $(seq 100); do
		grep -qE 'listening on' "$tmp/err" && break
		sleep 0.05
	done
	sleep 0.2
	ip netns exec lvb-tx tcpreplay --topspeed --loop="$loop" -i lvbt0 "$capture" >"$tmp/replay" 2>&1
	sleep 0.5
	pkill -INT -P "$pid" 2>/dev/null || kill -INT "$pid"
	wait "$pid" || true
	local sent pps cpu got drop
	sent=$(sed -n 's/^Actual: \([0-9]*\) packets.*/\1/p' "$tmp/replay")
	pps=$(sed -n 's/.*Rated: .*, \([0-9.]*\) pps.*/\1/p' "$tmp/replay")
	cpu=$(awk '/^cpu/ { print $2 + $3 }' "$tmp/time")
	case "$name" in
	tcpdump)
		got=$(sed -n 's/^\([0-9]*\) packets captured.*/\1/p' "$tmp/err")
		drop=$(sed -n 's/^\([0-9]*\) packets dropped by kernel.*/\1/p' "$tmp/err") ;;
	*)
		got=$(jq '.live.received - .live.dropped' "$tmp/out")
		drop=$(jq '.live.dropped' "$tmp/out") ;;
	esac
	echo "$sent $got $drop $cpu $pps" >>"$tmp/$name"
}

tools=(tcpdump)
tfo=("$bin/tfopcap" live -i lvbr0 --format json --reply-timeout 1s)
for backend in afpacket pcap; do
	if ip netns exec lvb-rx "${tfo[@]}" --capture-backend "$backend" --duration 1ms >/dev/null 2>"$tmp/probe" ||
		! grep -q 'need libpcap\|Linux-only' "$tmp/probe"; then
		tools+=("$backend")
	fi
done
echo "live: $(nproc) cores, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1), load $(cut -d' ' -f1 /proc/loadavg)"
echo "replay: $capture ($packets SYN/SYN-ACK/RST packets) x $loop, tcpreplay --topspeed into a veth; $runs runs per tool, in turn"
for i in $(seq "$runs"); do
	for t in "${tools[@]}"; do
		case "$t" in
		tcpdump) run tcpdump tcpdump -i lvbr0 -s 192 -w /dev/null "$filter" ;;
		*) run "$t" "${tfo[@]}" --capture-backend "$t" ;;
		esac
	done
done

# stat FILE COLUMN: "median (min-max)" of a column.
stat() {
	awk -v c="$2" '{ print $c }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%s (%s-%s)", m, v[1], v[NR] }'
}
# per_million FILE: CPU seconds per million packets sent, median (min-max).
per_million() {
	awk '{ printf "%.3f\n", $4 / $1 * 1e6 }' "$1" | sort -g | awk '{ v[NR] = $1 } END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.3f %.3f %.3f", m, v[1], v[NR] }'
}
# The load at the start alone hides other work that started meanwhile.
echo "load at the end $(cut -d' ' -f1 /proc/loadavg)"
printf '%-9s %-26s %-26s %-22s %-26s %s\n' tool sent captured dropped "CPU s/Mpkt" "replay pps"
for t in "${tools[@]}"; do
	read -r m lo hi <<<"$(per_million "$tmp/$t")"
	printf '%-9s %-26s %-26s %-22s %-26s %s\n' "$t" "$(stat "$tmp/$t" 1)" "$(stat "$tmp/$t" 2)" "$(stat "$tmp/$t" 3)" \
		"$m ($lo-$hi)" "$(stat "$tmp/$t" 5)"
	echo "$m" >"$tmp/$t.cpu"
done
for t in "${tools[@]}"; do
	[ "$t" = tcpdump ] && continue
	printf 'ratio    %s/tcpdump CPU per packet = %s\n' "$t" "$(awk -v a="$(cat "$tmp/$t.cpu")" -v b="$(cat "$tmp/tcpdump.cpu")" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a (tcpdump under the 10 ms resolution of GNU time: raise --loop)" }')"
done
