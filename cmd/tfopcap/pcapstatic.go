//go:build pcapstatic && linux && cgo

package main

// go build -tags pcapstatic links libpcap into the binary from Debian's
// libpcap.a, so that it no longer loads libpcap.so and the eight libraries
// that come with it at every start (libdbus, libsystemd and libsystemd's
// libgcrypt, lzma, zstd, lz4, libcap, gpg-error): the dynamic loader's
// lookups, the kernel's mappings and their page faults. An empty capture
// then takes 5.2 M instructions instead of 6.6 M (callgrind, whole
// process) and 750-790 page faults instead of 850-880, about what the
// CGO_ENABLED=0 build needs. It is a tag, not the default, because it
// needs the static archives, which Debian's libpcap-dev and
// libdbus-1-dev ship and other systems may not.
//
// The flags come first on the linker's command line (the main package's
// before its imports'): the archives define libpcap's symbols before
// gopacket's -lpcap is seen, and --as-needed then leaves libpcap.so out.
//
// Debian builds libpcap with D-Bus capture, and libdbus with systemd
// socket activation, for which it calls two functions of libsystemd
// (only from _dbus_listen_systemd_sockets, for a server's "systemd:"
// address). A D-Bus client, libpcap's only use of libdbus, never gets
// there; the stubs say what libsystemd says outside socket activation:
// no sockets passed.

// #cgo LDFLAGS: -Wl,--as-needed -l:libpcap.a -l:libdbus-1.a
// int sd_listen_fds(int unset_environment) { return 0; }
// int sd_is_socket(int fd, int family, int type, int listening) { return 0; }
import "C"
