#!/bin/busybox sh
# /init of the seed VM (Debian 12's Linux 6.1 under qemu). Copied into the
# initramfs by run-seed. Everything it learns goes to the serial console,
# which the host captures; lines starting with "TFOLAB-JSON " are manifest
# records, "TFOLAB-READY" tells the host the listeners are up.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
echo "TFOLAB-KERNEL $(uname -r) $(uname -v)"
for m in $(cat /modules.order); do
  if insmod "/modules/$m"; then echo "TFOLAB-INSMOD ok $m"; else echo "TFOLAB-INSMOD failed $m"; fi
done
# read settings passed on the kernel command line (tfolab.*=)
DURATION=180
for a in $(cat /proc/cmdline); do
  case "$a" in tfolab.duration=*) DURATION=${a#tfolab.duration=} ;; esac
done
sysctl -w net.mptcp.enabled=1
sysctl -w net.ipv4.tcp_fastopen=3
sysctl -w net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 >/dev/null
ip link set lo up
IF=eth0
for i in 1 2 3 4 5 6 7 8 9 10; do [ -e /sys/class/net/$IF ] && break; sleep 1; done
sysctl -w net.ipv6.conf.$IF.accept_dad=0 >/dev/null
ip link set $IF address 02:77:00:00:00:01
ip addr add 10.77.0.1/24 dev $IF
ip -6 addr add fd77::1/64 dev $IF  # busybox ip has no "nodad"; accept_dad=0 above
ip link set $IF up
ip neigh replace 10.77.0.2 lladdr 02:77:00:00:00:02 dev $IF nud permanent
ip -6 neigh replace fd77::2 lladdr 02:77:00:00:00:02 dev $IF nud permanent
# the IPv6 address must be usable before tfolab binds it
for i in $(seq 50); do ip -6 addr show dev $IF | grep fd77::1 | grep -qv tentative && break; sleep 0.2; done
echo "TFOLAB-SYSCTL net.mptcp.enabled=$(cat /proc/sys/net/mptcp/enabled) net.ipv4.tcp_fastopen=$(cat /proc/sys/net/ipv4/tcp_fastopen)"
ip addr show dev $IF
# Listeners: see run-seed for what each port is meant to show.
/tfolab serve -manifest /tmp/listeners.jsonl -duration ${DURATION}s \
  -listen name=xray-like-default,addr=10.77.0.1:8001,mptcp=default,tfo=256,ctlerr=log \
  -listen name=setmultipathtcp-false,addr=10.77.0.1:8002,mptcp=off,tfo=256 \
  -listen name=default-ctlerr-return,addr=10.77.0.1:8003,mptcp=default,tfo=256,ctlerr=return \
  -listen name=explicit-mptcp,addr=10.77.0.1:8004,mptcp=on,tfo=256,ctlerr=log \
  -listen name=xray-like-default,addr=[fd77::1]:8001,mptcp=default,tfo=256,ctlerr=log \
  -listen name=setmultipathtcp-false,addr=[fd77::1]:8002,mptcp=off,tfo=256 \
  > /tmp/serve.out 2>&1 &
PID=$!
for i in $(seq 100); do grep -q READY /tmp/serve.out 2>/dev/null && break; sleep 0.2; done
cat /tmp/serve.out
while read -r l; do echo "TFOLAB-JSON $l"; done < /tmp/listeners.jsonl
echo "TFOLAB-READY"
wait $PID
echo "TFOLAB-DONE"
cat /proc/net/netstat | grep -i TcpExt | head -2 | sed 's/^/TFOLAB-NETSTAT /'
poweroff -f
