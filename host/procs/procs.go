// Package procs finds the processes that hold sockets, as `ss -p` does: by
// reading the socket:[INODE] links under /proc/PID/fd. Another user's
// processes are visible only with CAP_SYS_PTRACE (root): Owners then
// reports how many /proc/PID/fd directories it could not read, so that a
// caller can say why a socket has no owner.
package procs

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Process is one process holding a socket.
type Process struct {
	PID  int
	Name string // comm, as ps shows it
}

// Owners maps the socket inodes in want to the processes holding them,
// reading procRoot (normally "/proc"). Unreadable counts the processes
// whose fd directory it could not read (permission), whose sockets it
// therefore cannot see.
func Owners(procRoot string, want map[uint32]bool) (owners map[uint32][]Process, unreadable int) {
	owners = make(map[uint32][]Process)
	entries, err := os.ReadDir(procRoot)
	if err != nil {
		return owners, 0
	}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || !e.IsDir() {
			continue
		}
		dir := filepath.Join(procRoot, e.Name())
		fds, err := os.ReadDir(filepath.Join(dir, "fd"))
		if err != nil {
			if os.IsPermission(err) {
				unreadable++
			}
			continue
		}
		var p *Process
		for _, fd := range fds {
			inode, ok := socketInode(filepath.Join(dir, "fd", fd.Name()))
			if !ok || !want[inode] {
				continue
			}
			if p == nil {
				p = &Process{PID: pid, Name: comm(dir)}
			}
			if !hasPID(owners[inode], pid) {
				owners[inode] = append(owners[inode], *p)
			}
		}
	}
	return owners, unreadable
}

// socketInode reads an fd link of the form socket:[INODE].
func socketInode(link string) (uint32, bool) {
	target, err := os.Readlink(link)
	if err != nil {
		return 0, false
	}
	s, ok := strings.CutPrefix(target, "socket:[")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(strings.TrimSuffix(s, "]"), 10, 32)
	return uint32(n), err == nil
}

func comm(dir string) string {
	b, err := os.ReadFile(filepath.Join(dir, "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

func hasPID(ps []Process, pid int) bool {
	for _, p := range ps {
		if p.PID == pid {
			return true
		}
	}
	return false
}
