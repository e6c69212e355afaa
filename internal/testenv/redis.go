package testenv

import (
	"context"
	"fmt"
	"os"
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

// RedisSentinel is a master, one replica of it and one Sentinel watching
// them, started for a test.
type RedisSentinel struct {
	// MasterName is the name the Sentinel knows the master by.
	MasterName string
	// Sentinel is the Sentinel's address, Master and Replica the servers
	// as they were started (after a failover, Replica is the master).
	Sentinel        string
	SentinelProc    *Proc
	Master, Replica *RedisServer
}

// StartRedisSentinel starts a master, a replica of it and a Sentinel
// (redis-server --sentinel) that fails the master over to the replica one
// second after it stops answering. It returns once the replica is in sync
// and the Sentinel knows it, so that a failover can happen at once.
func StartRedisSentinel(t testing.TB) *RedisSentinel {
	t.Helper()
	master := StartRedis(t)
	host, port, _ := strings.Cut(master.Addr, ":")
	replica := StartRedis(t, "--replicaof", host, port)
	s := &RedisSentinel{MasterName: "bitorigin", Master: master, Replica: replica}

	// The Sentinel rewrites its configuration file, so it gets its own.
	dir := t.TempDir()
	sport := FreeTCPPort(t)
	conf := filepath.Join(dir, "sentinel.conf")
	cfg := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\n"+
		"sentinel monitor %s %s %s 1\n"+
		"sentinel down-after-milliseconds %[3]s 1000\n"+
		"sentinel failover-timeout %[3]s 10000\n",
		sport, dir, s.MasterName, host, port)
	if err := os.WriteFile(conf, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	s.Sentinel = "127.0.0.1:" + strconv.Itoa(sport)
	s.SentinelProc = Start(t, LookPath(t, "redis-server"), []string{conf, "--sentinel"})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := WaitTCP(ctx, s.Sentinel); err != nil {
		t.Fatalf("sentinel did not start: %v\n%s", err, s.SentinelProc.Tail(2000))
	}

	// A failover needs a replica that is in sync and that the Sentinel
	// has found (through the master's INFO, every few seconds).
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, _ := replica.CLI("info", "replication")
		replicas, _ := RedisCLI(t, "127.0.0.1", strconv.Itoa(sport), "sentinel", "replicas", s.MasterName)
		if strings.Contains(info, "master_link_status:up") && strings.Contains(replicas, replica.Addr[strings.LastIndexByte(replica.Addr, ':')+1:]) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica not in sync or not known to the Sentinel:\n%s\n%s\n%s", info, replicas, s.SentinelProc.Tail(2000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitReplicated waits until the replica has every write the master has.
func (s *RedisSentinel) WaitReplicated(t testing.TB) {
	t.Helper()
	offset := func(r *RedisServer, field string) int64 {
		out, err := r.CLI("info", "replication")
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(out, "\n") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
				n, _ := strconv.ParseInt(v, 10, 64)
				return n
			}
		}
		return -1
	}
	want := offset(s.Master, "master_repl_offset")
	deadline := time.Now().Add(10 * time.Second)
	for offset(s.Replica, "slave_repl_offset") < want {
		if time.Now().After(deadline) {
			t.Fatalf("replica did not reach offset %d", want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitFailover waits until the Sentinel names the replica as the master.
func (s *RedisSentinel) WaitFailover(t testing.TB, timeout time.Duration) {
	t.Helper()
	host, port, _ := strings.Cut(s.Sentinel, ":")
	deadline := time.Now().Add(timeout)
	for {
		out, _ := RedisCLI(t, host, port, "sentinel", "get-master-addr-by-name", s.MasterName)
		if strings.Join(strings.Fields(out), ":") == s.Replica.Addr {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no failover to %s within %s: Sentinel says %q\n%s", s.Replica.Addr, timeout, out, s.SentinelProc.Tail(3000))
		}
		time.Sleep(100 * time.Millisecond)
	}
}
