// Package testenv starts the real programs that integration tests talk to
// (redis-server, BitTorrent clients, other trackers) on free loopback ports,
// and stops them when the test ends. It also writes the data tests serve
// (WriteData, WriteRandomFile) and runs a server under test on loopback
// (ServeLoopback).
//
// A missing program fails the test rather than skipping it: CI runs
// scripts/install-test-deps.sh first, so a missing program there is a bug.
package testenv

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"
)

// DebianPython is the interpreter that has libtorrent's Python bindings;
// another python3 earlier on PATH usually does not.
const DebianPython = "/usr/bin/python3"

// LookPath returns the path of a program the test needs, failing the test with
// a hint when it is not installed.
func LookPath(t testing.TB, name string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, dir := range []string{"/usr/bin", "/usr/sbin", "/usr/local/bin"} {
		p := filepath.Join(dir, name)
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p
		}
	}
	t.Fatalf("%s is not installed: run scripts/install-test-deps.sh (make test does)", name)
	return ""
}

// Proc is a program started for a test. Its standard output and error go to
// a log file that is printed, in its last part, when the test fails.
type Proc struct {
	Name    string
	Cmd     *exec.Cmd
	LogPath string

	done    chan struct{}
	waitErr error
	once    sync.Once
}

// Option adjusts a command before it starts.
type Option func(*exec.Cmd)

// Dir sets the working directory of the program.
func Dir(dir string) Option { return func(c *exec.Cmd) { c.Dir = dir } }

// Env adds environment variables (KEY=VALUE) to the program's environment.
func Env(kv ...string) Option {
	return func(c *exec.Cmd) {
		if c.Env == nil {
			c.Env = os.Environ()
		}
		c.Env = append(c.Env, kv...)
	}
}

// Start runs a program for the duration of the test. It is stopped with
// SIGTERM (then SIGKILL after five seconds) when the test ends.
func Start(t testing.TB, name string, args []string, opts ...Option) *Proc {
	t.Helper()
	logf, err := os.CreateTemp(t.TempDir(), filepath.Base(name)+"-*.log")
	if err != nil {
		t.Fatalf("create log for %s: %v", name, err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	for _, o := range opts {
		o(cmd)
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		t.Fatalf("start %s: %v", name, err)
	}
	p := &Proc{Name: filepath.Base(name), Cmd: cmd, LogPath: logf.Name(), done: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.Stop(syscall.SIGTERM, 5*time.Second)
		if t.Failed() {
			t.Logf("last output of %s %v:\n%s", p.Name, args, p.Tail(4000))
		}
	})
	return p
}

// Stop sends sig to the program's process group and waits up to grace for it
// to exit, then kills it. It returns the program's exit error.
func (p *Proc) Stop(sig syscall.Signal, grace time.Duration) error {
	p.once.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = syscall.Kill(-p.Cmd.Process.Pid, sig)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = syscall.Kill(-p.Cmd.Process.Pid, syscall.SIGKILL)
			<-p.done
		}
	})
	<-p.done
	return p.waitErr
}

// Wait waits up to timeout for the program to exit by itself.
func (p *Proc) Wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.waitErr
	case <-time.After(timeout):
		return fmt.Errorf("%s still running after %s", p.Name, timeout)
	}
}

// Exited reports whether the program has exited.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Tail returns up to n bytes from the end of the program's output.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.LogPath)
	if err != nil {
		return fmt.Sprintf("(read log: %v)", err)
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// Output returns everything the program has written so far.
func (p *Proc) Output() []byte {
	b, _ := os.ReadFile(p.LogPath)
	return b
}

// WaitOutput waits up to timeout for the program's output to contain s.
func (p *Proc) WaitOutput(s string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		if bytes.Contains(p.Output(), []byte(s)) {
			return nil
		}
		if p.Exited() {
			return fmt.Errorf("%s exited before printing %q", p.Name, s)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not print %q within %s", p.Name, s, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// WaitTCP waits until something accepts TCP connections at addr.
func WaitTCP(ctx context.Context, addr string) error {
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for %s: %w", addr, errors.Join(err, ctx.Err()))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// WriteRandomFile writes size pseudo-random bytes (from seed) to path.
func WriteRandomFile(t testing.TB, path string, size int64, seed uint64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<16)
	x := seed*0x9E3779B97F4A7C15 + 1
	for size > 0 {
		for i := 0; i+8 <= len(buf); i += 8 {
			// xorshift64*: fast, deterministic, good enough for test payloads.
			x ^= x >> 12
			x ^= x << 25
			x ^= x >> 27
			v := x * 2685821657736338717
			for j := range 8 {
				buf[i+j] = byte(v >> (8 * j))
			}
		}
		n := int64(len(buf))
		if size < n {
			n = size
		}
		if _, err := f.Write(buf[:n]); err != nil {
			t.Fatal(err)
		}
		size -= n
	}
}

// SHA256File returns the hex SHA-256 of a file's contents.
func SHA256File(t testing.TB, path string) string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("hash %s: %v", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		t.Fatalf("hash %s: %v", path, err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
