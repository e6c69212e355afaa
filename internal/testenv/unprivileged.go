package testenv

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// unprivilegedEnv marks the run of a test binary that Unprivileged started.
const unprivilegedEnv = "BITORIGIN_TEST_UNPRIVILEGED"

// nobody is the user and group ID of Debian's nobody.
const nobody = 65534

// Unprivileged reports whether the calling test runs without root, so that
// file permissions hold for it (root reads any file, and CI runs as root).
// As root, it runs the same test again in a copy of the test binary as the
// user nobody, fails t if that run fails or does not run the test, and
// returns false: the caller returns at once. The unprivileged run makes its
// own files (its t.TempDir is its own).
//
//	if !testenv.Unprivileged(t) {
//		return
//	}
func Unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Getenv(unprivilegedEnv) == "1" || os.Geteuid() != 0 {
		return true
	}
	// The go tool's build folder is private to root: copy the binary out.
	dir, err := os.MkdirTemp("", "unprivileged-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "test")
	if err := copyFile(os.Args[0], bin, 0o755); err != nil {
		t.Fatalf("copying the test binary: %v", err)
	}
	cmd := exec.Command(bin, "-test.run=^"+t.Name()+"$", "-test.count=1", "-test.v")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), unprivilegedEnv+"=1", "HOME="+dir, "TMPDIR=")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s as user nobody: %v\n%s", t.Name(), err, out)
	}
	if !strings.Contains(string(out), "--- PASS: "+t.Name()) {
		t.Fatalf("%s as user nobody did not pass:\n%s", t.Name(), out)
	}
	return false
}

func copyFile(from, to string, mode os.FileMode) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode)
	if err != nil {
		return err
	}
	if _, err := io.Copy(dst, src); err != nil {
		dst.Close()
		return err
	}
	return dst.Close()
}
