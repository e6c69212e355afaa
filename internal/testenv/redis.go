package testenv

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// RedisServer is a redis-server started for a test.
type RedisServer struct {
	Addr string
	Proc *Proc
	args []string
	bin  string
	t    testing.TB
}

// StartRedis starts a throwaway redis-server on a free loopback port. Its
// Restart method brings it back on the same port after Stop.
func StartRedis(t testing.TB, extraArgs ...string) *RedisServer {
	t.Helper()
	bin := LookPath(t, "redis-server")
	port := FreeTCPPort(t)
	dir := t.TempDir()
	r := &RedisServer{
		Addr: "127.0.0.1:" + strconv.Itoa(port),
		bin:  bin,
		t:    t,
		args: append([]string{
			"--bind", "127.0.0.1", "--port", strconv.Itoa(port),
			"--save", "", "--appendonly", "no", "--dir", dir,
		}, extraArgs...),
	}
	r.start()
	return r
}

func (r *RedisServer) start() {
	r.t.Helper()
	r.Proc = Start(r.t, r.bin, r.args)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WaitTCP(ctx, r.Addr); err != nil {
		r.t.Fatalf("redis-server did not start: %v\n%s", err, r.Proc.Tail(2000))
	}
}

// Restart starts the server again, empty, on the same address.
func (r *RedisServer) Restart() {
	r.t.Helper()
	r.start()
}

// CLI runs redis-cli against the server and returns its output.
func (r *RedisServer) CLI(args ...string) (string, error) {
	host, port, _ := strings.Cut(r.Addr, ":")
	return RedisCLI(r.t, host, port, args...)
}

// RedisCLI runs redis-cli against host:port.
func RedisCLI(t testing.TB, host, port string, args ...string) (string, error) {
	t.Helper()
	cli := LookPath(t, "redis-cli")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, cli, append([]string{"-h", host, "-p", port}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("redis-cli %v: %w: %s", args, err, out)
	}
	return string(out), nil
}

// StartRedisCluster starts three redis-server processes in cluster mode on
// loopback and joins them into one Cluster of three masters. It returns
// their addresses.
func StartRedisCluster(t testing.TB) []string {
	t.Helper()
	var addrs []string
	for range 3 {
		dir := t.TempDir()
		// The bus port defaults to the port + 10,000, which may be taken
		// or, for an ephemeral port, past 65,535: pick a free one.
		r := StartRedis(t, "--cluster-enabled", "yes",
			"--cluster-config-file", filepath.Join(dir, "nodes.conf"),
			"--cluster-port", strconv.Itoa(FreeTCPPort(t)),
			"--cluster-node-timeout", "2000")
		addrs = append(addrs, r.Addr)
	}
	host, port, _ := strings.Cut(addrs[0], ":")
	if out, err := RedisCLI(t, host, port, append([]string{"--cluster", "create"}, append(addrs, "--cluster-yes")...)...); err != nil {
		t.Fatalf("create cluster: %v\n%s", err, out)
	}
	// Wait until every node agrees the cluster is up.
	deadline := time.Now().Add(20 * time.Second)
	for _, a := range addrs {
		h, p, _ := strings.Cut(a, ":")
		for {
			out, _ := RedisCLI(t, h, p, "cluster", "info")
			if strings.Contains(out, "cluster_state:ok") {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster not ok on %s:\n%s", a, out)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	return addrs
}
