# lib.sh: helpers shared by run-host and run-seed (sourced, not run).
# Capture helpers start four capturers at once on one interface of one
# namespace, so one run of the scenarios lands in every format:
#   NAME-eth.pcap      tcpdump -w, Ethernet, microsecond pcap
#   NAME.pcapng        dumpcap, pcapng
#   NAME-any-sll2.pcap tcpdump -i any (Linux cooked v2) in the same namespace
#   NAME-nsec.pcap     tcpdump --time-stamp-precision=nano (nanosecond magic)
# and cap_stop adds NAME-vlan100.pcap, an 802.1Q (VLAN 100) copy of
# NAME-eth.pcap made with tcprewrite.

SNAPLEN=${SNAPLEN:-256}
CAP_FILTER=${CAP_FILTER:-tcp}
CAP_PIDS=()

log() { echo "[$(date +%H:%M:%S)] $*" >&2; }
die() { log "FATAL: $*"; exit 1; }

# wait_for FILE REGEX SECONDS
wait_for() {
  local i n=$(( $3 * 10 ))
  for ((i = 0; i < n; i++)); do
    grep -qE "$2" "$1" 2>/dev/null && return 0
    sleep 0.1
  done
  return 1
}

# cap_start NS IFACE DIR NAME
cap_start() {
  local ns=$1 ifc=$2 dir=$3 name=$4 tmp
  tmp=$(mktemp -d)
  CAP_TMP=$tmp CAP_DIR=$dir CAP_NAME=$name
  rm -f "$dir/$name"-eth.pcap "$dir/$name".pcapng "$dir/$name"-any-sll2.pcap "$dir/$name"-nsec.pcap "$dir/$name"-vlan100.pcap
  # --immediate-mode: without it, TPACKET_V3 holds packets in a ring block
  # for up to a second and a capturer stopped right after the traffic loses
  # them.
  ip netns exec "$ns" tcpdump -Z root --immediate-mode -U -n -i "$ifc" -s "$SNAPLEN" \
    -w "$dir/$name-eth.pcap" $CAP_FILTER 2>"$tmp/eth.err" & CAP_PIDS+=($!)
  ip netns exec "$ns" tcpdump -Z root --immediate-mode -U -n -i any -s "$SNAPLEN" \
    -w "$dir/$name-any-sll2.pcap" $CAP_FILTER 2>"$tmp/any.err" & CAP_PIDS+=($!)
  ip netns exec "$ns" tcpdump -Z root --immediate-mode -U -n -i "$ifc" -s "$SNAPLEN" \
    --time-stamp-precision=nano -w "$dir/$name-nsec.pcap" $CAP_FILTER 2>"$tmp/nsec.err" & CAP_PIDS+=($!)
  ip netns exec "$ns" dumpcap -q -i "$ifc" -s "$SNAPLEN" -f "$CAP_FILTER" \
    -w "$dir/$name.pcapng" 2>"$tmp/ng.err" & CAP_PIDS+=($!)
  wait_for "$tmp/eth.err" listening 10 || die "tcpdump (eth) did not start: $(cat "$tmp/eth.err")"
  wait_for "$tmp/any.err" listening 10 || die "tcpdump (any) did not start: $(cat "$tmp/any.err")"
  wait_for "$tmp/nsec.err" listening 10 || die "tcpdump (nsec) did not start: $(cat "$tmp/nsec.err")"
  wait_for "$tmp/ng.err" Capturing 10 || die "dumpcap did not start: $(cat "$tmp/ng.err")"
  sleep 0.5
}

cap_stop() {
  sleep 1.2 # let the last packets reach the files
  local p
  for p in "${CAP_PIDS[@]}"; do kill -INT "$p" 2>/dev/null || true; done
  for p in "${CAP_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  CAP_PIDS=()
  tcprewrite --enet-vlan=add --enet-vlan-tag=100 --enet-vlan-cfi=0 --enet-vlan-pri=0 \
    --infile="$CAP_DIR/$CAP_NAME-eth.pcap" --outfile="$CAP_DIR/$CAP_NAME-vlan100.pcap" \
    || die "tcprewrite failed"
  chmod 644 "$CAP_DIR/$CAP_NAME"* 2>/dev/null || true # dumpcap writes 0600
  rm -rf "$CAP_TMP"
}

# capture_list DIR NAME: JSON array describing the five files
capture_list() {
  local dir=$1 name=$2 f fmt lt prec iface
  for f in "$name-eth.pcap" "$name.pcapng" "$name-any-sll2.pcap" "$name-nsec.pcap" "$name-vlan100.pcap"; do
    case $f in
      *-eth.pcap) fmt=pcap lt=EN10MB prec=usec how="tcpdump -i IFACE -s $SNAPLEN -w" ;;
      *.pcapng) fmt=pcapng lt=EN10MB prec=usec how="dumpcap -i IFACE -s $SNAPLEN -w" ;;
      *-any-sll2.pcap) fmt=pcap lt=LINUX_SLL2 prec=usec how="tcpdump -i any -s $SNAPLEN -w" ;;
      *-nsec.pcap) fmt=pcap lt=EN10MB prec=nsec how="tcpdump --time-stamp-precision=nano -i IFACE -s $SNAPLEN -w" ;;
      *-vlan100.pcap) fmt=pcap lt=EN10MB prec=usec how="tcprewrite --enet-vlan=add --enet-vlan-tag=100 of the -eth.pcap" ;;
    esac
    jq -n --arg file "$f" --arg fmt "$fmt" --arg lt "$lt" --arg prec "$prec" --arg how "$how" \
      --argjson bytes "$(stat -c %s "$dir/$f")" \
      --argjson packets "$(tshark -r "$dir/$f" 2>/dev/null | wc -l)" \
      '{file:$file, format:$fmt, link_type:$lt, ts_precision:$prec, made_by:$how, bytes:$bytes, packets:$packets, vlan:(if ($file|test("vlan")) then 100 else null end)}'
  done | jq -s .
}

# expected_counts LISTENERS.jsonl < ATTEMPTS.jsonl: the expected summary of
# a run, per server ip:port and in total: outcome counts, the verdict that
# docs/DESIGN.md's rules give for them, and how many attempts' SYN and reply
# carry MPTCP (an MPTCP socket's first SYN always carries MP_CAPABLE; the
# SYN-ACK does when the listener is MPTCP too; an RST never does).
expected_counts() {
  jq -s --slurpfile L "$1" '
    def counts: group_by(.expect) | map({key: .[0].expect, value: length}) | from_entries;
    def verdict: ((.granted // 0) + (.accepted // 0) + (.renewed // 0)) as $g
      | ((.omitted // 0) + (.rejected // 0)) as $o
      | if $g > 0 and $o == 0 then "grants" elif $o > 0 and $g == 0 then "omits"
        elif $g > 0 then "mixed" else "inconclusive" end;
    ($L | map({key: .spec.addr, value: .mptcp}) | from_entries) as $lm
    | {
    totals: {attempts: length, outcomes: counts},
    servers: (group_by(.server) | map({key: .[0].server, value: {attempts: length,
      outcomes: counts, verdict: (counts | verdict),
      mptcp: {syn: map(select(.sock == "mptcp")) | length,
              synack: map(select(.sock == "mptcp" and ($lm[.server] // false)
                                 and (.expect != "refused" and .expect != "unanswered"))) | length}}})
      | from_entries)
  }'
}
