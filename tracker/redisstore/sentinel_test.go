package redisstore

import (
	"context"
	"syscall"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/internal/testenv"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/storetest"
)

func TestSentinelFailoverIsSurvived(t *testing.T) {
	rs := testenv.StartRedisSentinel(t)
	c, err := NewClient(ClientConfig{Addrs: []string{rs.Sentinel}, MasterName: rs.MasterName, Timeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Client: c, Timeout: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	announce := func(n int, seeder bool) (tracker.SwarmAnswer, error) {
		var out tracker.SwarmAnswer
		pa := tracker.PeerAnnounce{InfoHash: storetest.Hash(1), PeerID: storetest.ID(n), Addr: storetest.Addr4(n), Seeder: seeder, NumWant: 50}
		err := s.Announce(ctx, pa, &out)
		return out, err
	}

	// Through the Sentinel, to the master.
	if _, err := announce(1, true); err != nil {
		t.Fatalf("announce through the Sentinel: %v", err)
	}
	if out, err := announce(2, false); err != nil || out.Seeders != 1 || out.Leechers != 1 || len(out.Peers) != 6 {
		t.Fatalf("second announce: %+v, %v", out, err)
	}
	if n, _ := rs.Master.CLI("dbsize"); n == "0\n" {
		t.Fatal("nothing written on the master")
	}
	rs.WaitReplicated(t)

	// The master dies; the Sentinel promotes the replica, and the store
	// follows it without a restart, with the swarm as it was.
	rs.Master.Proc.Stop(syscall.SIGKILL, time.Second)
	rs.WaitFailover(t, 30*time.Second)
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, err := announce(3, false)
		if err == nil {
			if out.Seeders != 1 || out.Leechers != 2 {
				t.Fatalf("after failover: %+v, want the swarm as before plus one leecher", out)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("store did not follow the failover: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping after failover: %v", err)
	}
	got, err := s.Totals(ctx)
	if err != nil || got != (tracker.Totals{Torrents: 1, Seeders4: 1, Leechers4: 2}) {
		t.Fatalf("totals after failover: %+v, %v", got, err)
	}
}
