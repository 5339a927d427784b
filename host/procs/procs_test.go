//go:build linux

package procs

import (
	"net"
	"os"
	"syscall"
	"testing"
)

// TestOwnersFindsThisProcess: the inode of this process's own listener maps
// to this process, by the name the kernel gives it.
func TestOwnersFindsThisProcess(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	raw, err := l.(*net.TCPListener).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var st syscall.Stat_t
	if err := raw.Control(func(fd uintptr) { err = syscall.Fstat(int(fd), &st) }); err != nil {
		t.Fatal(err)
	}
	inode := uint32(st.Ino)
	owners, _ := Owners("/proc", map[uint32]bool{inode: true})
	comm, _ := os.ReadFile("/proc/self/comm")
	ps := owners[inode]
	if len(ps) != 1 || ps[0].PID != os.Getpid() || ps[0].Name+"\n" != string(comm) {
		t.Errorf("owners of socket:[%d] = %+v, want pid %d %q", inode, ps, os.Getpid(), comm)
	}
	if got, _ := Owners(t.TempDir(), map[uint32]bool{inode: true}); len(got) != 0 {
		t.Errorf("an empty proc root gives %v", got)
	}
}
