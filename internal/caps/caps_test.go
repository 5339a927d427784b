package caps

import (
	"os"
	"runtime"
	"testing"
)

func TestEffective(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("capabilities are Linux's")
	}
	set, ok := Effective()
	if !ok {
		t.Fatal("cannot read CapEff from /proc/self/status")
	}
	if has, _ := Has(); !has {
		t.Error("Has() with no capabilities asked for must hold")
	}
	// Root (CI) holds every capability; others hold none of these.
	root := os.Geteuid() == 0
	for _, c := range []int{NetAdmin, NetRaw, SysAdmin} {
		if has, _ := Has(c); has != root || (set&(1<<c) != 0) != root {
			t.Errorf("capability %d: has %v, euid 0 %v", c, has, root)
		}
	}
}
