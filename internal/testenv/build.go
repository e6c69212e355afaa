package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sync"
	"testing"
)

var (
	buildMu  sync.Mutex
	buildDir string
	built    = map[string]string{}
)

// Build compiles the main package pkg (an import path such as
// github.com/bitorigin/bitorigin/cmd/tracker) once per test process and
// returns the binary's path. Call RemoveBuilds from TestMain to delete them.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if p, ok := built[pkg]; ok {
		return p
	}
	if buildDir == "" {
		d, err := os.MkdirTemp("", "bitorigin-testbin-")
		if err != nil {
			t.Fatalf("build %s: %v", pkg, err)
		}
		buildDir = d
	}
	out := filepath.Join(buildDir, path.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

// RemoveBuilds deletes the binaries Build made.
func RemoveBuilds() error {
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		return nil
	}
	err := os.RemoveAll(buildDir)
	buildDir = ""
	clear(built)
	if err != nil {
		return fmt.Errorf("remove test binaries: %w", err)
	}
	return nil
}
