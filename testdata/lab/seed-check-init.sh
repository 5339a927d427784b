#!/bin/busybox sh
# /init of the seed-check VM (Debian 12's Linux 6.1 under qemu), copied into
# the initramfs by run-seed-check. It starts tfolab's Go listeners as
# seed-init.sh does, on loopback (no network device is needed: check runs
# on the server host itself), then runs a static `tfopcap check` next to
# them and prints its JSON between TFOPCAP-CHECK-BEGIN and -END.
/bin/busybox mkdir -p /proc /sys /dev /tmp /bin /sbin
/bin/busybox mount -t proc proc /proc
/bin/busybox mount -t sysfs sys /sys
/bin/busybox mount -t devtmpfs dev /dev 2>/dev/null
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
echo "TFOLAB-KERNEL $(uname -r) $(uname -v)"
for m in inet_diag tcp_diag mptcp_diag; do
  insmod /modules/$m.ko && echo "TFOLAB-INSMOD ok $m" || echo "TFOLAB-INSMOD failed $m"
done
sysctl -w net.mptcp.enabled=1
sysctl -w net.ipv4.tcp_fastopen=3
ip link set lo up
ip addr add 10.77.0.1/32 dev lo
# Listeners as in seed-init.sh: the Xray-like Go default (MPTCP, the
# TCP_FASTOPEN error logged) and SetMultipathTCP(false).
/tfolab serve -manifest /tmp/listeners.jsonl -duration 600s \
  -listen name=xray-like-default,addr=10.77.0.1:8001,mptcp=default,tfo=256,ctlerr=log \
  -listen name=setmultipathtcp-false,addr=10.77.0.1:8002,mptcp=off,tfo=256 \
  > /tmp/serve.out 2>&1 &
for i in $(seq 100); do grep -q READY /tmp/serve.out 2>/dev/null && break; sleep 0.2; done
cat /tmp/serve.out
echo "TFOPCAP-CHECK-BEGIN"
/tfopcap check --format json --interval 1s 8001 8002
echo "TFOPCAP-CHECK-END rc=$?"
# Without a probe (as without CAP_NET_RAW) the kernel release and the
# protocol still decide the seed's case.
echo "TFOPCAP-NOPROBE-BEGIN"
/tfopcap check --format json --interval 0 --no-probe 8001
echo "TFOPCAP-NOPROBE-END rc=$?"
/tfopcap check 8001 8002
poweroff -f
