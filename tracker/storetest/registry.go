package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/allowlist"
)

// The registration cases run on stores that also keep the registered
// torrents (tracker.AllowStore) and are skipped on those that do not.

func allowStore(t *testing.T, s tracker.Store) tracker.AllowStore {
	t.Helper()
	as, ok := s.(tracker.AllowStore)
	if !ok {
		t.Skip("the store keeps no registered torrents")
	}
	return as
}

// V2 returns the truncated v2 info hash of test torrent n: another 20
// bytes than Hash(n), as a hybrid torrent's two hashes are.
func V2(n int) tracker.InfoHash {
	h := Hash(n)
	copy(h[:16], "storetest-v2hash")
	return h
}

func listed(t *testing.T, as tracker.AllowStore) []tracker.Registration {
	t.Helper()
	list, err := as.ListAllowed(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	slices.SortFunc(list, func(a, b tracker.Registration) int { return slices.Compare(a.InfoHash[:], b.InfoHash[:]) })
	return list
}

func testRegistrations(t *testing.T, s tracker.Store, _ *Clock) {
	as := allowStore(t, s)
	ctx := context.Background()
	version := func() int64 {
		t.Helper()
		v, err := as.AllowedVersion(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	check := func(what string, want ...tracker.Registration) {
		t.Helper()
		if got := listed(t, as); !slices.Equal(got, want) {
			t.Fatalf("%s: registrations %v, want %v", what, got, want)
		}
	}
	add := func(r tracker.Registration) error { return as.AddAllowed(ctx, r) }
	mustAdd := func(what string, r tracker.Registration) {
		t.Helper()
		before := version()
		if err := add(r); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if version() == before {
			t.Fatalf("%s: the version did not move", what)
		}
	}
	plain := tracker.Registration{InfoHash: Hash(1)}
	hybrid := tracker.Registration{InfoHash: Hash(2), Alias: V2(2)}
	check("empty")
	mustAdd("plain", plain)
	mustAdd("hybrid", hybrid)
	check("two", plain, hybrid)
	v := version()
	if err := add(hybrid); err != nil || version() != v {
		t.Fatalf("registering the same again: %v, version %d -> %d", err, v, version())
	}

	// Conflicts: every info hash has one swarm.
	for what, r := range map[string]tracker.Registration{
		"an alias registered as a torrent":       {InfoHash: V2(2)},
		"an alias that is a torrent":             {InfoHash: Hash(3), Alias: Hash(1)},
		"another torrent's alias":                {InfoHash: Hash(3), Alias: V2(2)},
		"an alias given to a registered torrent": {InfoHash: Hash(1), Alias: V2(2)},
	} {
		if err := add(r); !errors.Is(err, tracker.ErrConflict) {
			t.Errorf("registering %s: %v, want a conflict", what, err)
		}
	}
	if err := add(tracker.Registration{InfoHash: Hash(3), Alias: Hash(3)}); err == nil {
		t.Error("a torrent registered as its own alias")
	}
	if version() != v {
		t.Fatal("a refused registration moved the version")
	}
	check("after refusals", plain, hybrid)

	// A registration replaces the earlier one of its info hash, alias
	// and all; a dropped alias is free again.
	moved := tracker.Registration{InfoHash: Hash(2), Alias: V2(3)}
	mustAdd("new alias", moved)
	check("after the alias changed", plain, moved)
	mustAdd("the old alias as a torrent", tracker.Registration{InfoHash: V2(2)})
	mustAdd("v1 only again", tracker.Registration{InfoHash: Hash(2)})
	check("after the alias was dropped", plain, tracker.Registration{InfoHash: Hash(2)}, tracker.Registration{InfoHash: V2(2)})

	// Removal by the alias withdraws the torrent with it; unknown hashes
	// are no change.
	mustAdd("hybrid again", tracker.Registration{InfoHash: Hash(2), Alias: V2(4)})
	if err := as.RemoveAllowed(ctx, V2(4)); err != nil {
		t.Fatal(err)
	}
	check("removed by its alias", plain, tracker.Registration{InfoHash: V2(2)})
	mustAdd("the removed alias is free", tracker.Registration{InfoHash: Hash(5), Alias: V2(4)})
	if err := as.RemoveAllowed(ctx, Hash(5)); err != nil {
		t.Fatal(err)
	}
	v = version()
	for _, h := range []tracker.InfoHash{Hash(5), V2(4), Hash(9)} {
		if err := as.RemoveAllowed(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if version() != v {
		t.Fatal("removing what is not registered moved the version")
	}
	check("at the end", plain, tracker.Registration{InfoHash: V2(2)})
}

// testHybrid drives the tracker, with the registry over the store, as
// the tracker binary runs with --registration: a hybrid torrent registered
// with its v2 hash is one swarm under both hashes.
func testHybrid(t *testing.T, s tracker.Store, _ *Clock) {
	as := allowStore(t, s)
	ctx := context.Background()
	reg := allowlist.NewRegistry(ctx, as, nil)
	tr, err := tracker.New(tracker.Config{Aliases: reg}, s, reg)
	if err != nil {
		t.Fatal(err)
	}
	v1, v2 := Hash(1), V2(1)
	if err := reg.Add(ctx, tracker.Registration{InfoHash: v1, Alias: v2}); err != nil {
		t.Fatal(err)
	}
	announce := func(h tracker.InfoHash, n int, ev tracker.Event, left int64) tracker.SwarmAnswer {
		t.Helper()
		var resp tracker.AnnounceResponse
		req := tracker.AnnounceRequest{InfoHash: h, PeerID: ID(n), Addr: Addr4(n), Event: ev, Left: left, NumWant: 50}
		if err := tr.Announce(ctx, &req, &resp); err != nil {
			t.Fatalf("announce of peer %d under %s: %v", n, h, err)
		}
		return resp.Swarm
	}
	scrape := func(what string, want tracker.ScrapeStats) {
		t.Helper()
		hashes := []tracker.InfoHash{v2, v1, v2}
		out := make([]tracker.ScrapeStats, 3)
		if err := tr.Scrape(ctx, hashes, out); err != nil {
			t.Fatal(err)
		}
		// The frontends key the answer by the hashes asked for.
		if !slices.Equal(hashes, []tracker.InfoHash{v2, v1, v2}) {
			t.Fatalf("%s: scrape rewrote the hashes asked for: %v", what, hashes)
		}
		for i, st := range out {
			if st != want {
				t.Fatalf("%s: scrape %d of v2, v1, v2: %+v, want %+v", what, i, st, want)
			}
		}
	}

	// Peers announced under either hash are returned under both.
	announce(v1, 1, tracker.EventStarted, 0)
	got := announce(v2, 2, tracker.EventStarted, 100)
	checkCounts(t, "leecher under v2", got, 1, 1, 0)
	if !contains(got.Peers, 6, Addr4(1)) {
		t.Fatal("a leecher under the v2 hash was not given the seeder under v1")
	}
	got = announce(v1, 1, tracker.EventNone, 0)
	if !contains(got.Peers, 6, Addr4(2)) {
		t.Fatal("a seeder under v1 was not given the leecher under v2")
	}
	scrape("two peers", tracker.ScrapeStats{Seeders: 1, Leechers: 1})

	// A hybrid-aware client announces under both: it is one peer, and
	// its download counts once, whichever hash it finishes under first.
	announce(v1, 3, tracker.EventStarted, 100)
	got = announce(v2, 3, tracker.EventStarted, 100)
	checkCounts(t, "one client under both hashes", got, 1, 2, 0)
	if got = announce(v2, 3, tracker.EventCompleted, 0); !got.Finished {
		t.Fatal("completed under v2 was not counted")
	}
	if got = announce(v1, 3, tracker.EventCompleted, 0); got.Finished {
		t.Fatal("completed under v1 after v2 was counted again")
	}
	// aria2c-like: left=0 then stopped under the other hash.
	announce(v2, 4, tracker.EventStarted, 100)
	announce(v1, 4, tracker.EventNone, 100)
	if got = announce(v1, 4, tracker.EventNone, 0); !got.Finished {
		t.Fatal("left=0 under v1 was not counted")
	}
	if got = announce(v2, 4, tracker.EventStopped, 0); got.Finished {
		t.Fatal("stopped with left=0 under v2 after v1 was counted again")
	}
	checkCounts(t, "after two downloads", got, 2, 1, 2)
	scrape("after two downloads", tracker.ScrapeStats{Seeders: 2, Leechers: 1, Downloaded: 2})

	// Unregistering removes both hashes.
	if err := reg.Remove(ctx, v1); err != nil {
		t.Fatal(err)
	}
	for _, h := range []tracker.InfoHash{v1, v2} {
		var resp tracker.AnnounceResponse
		req := tracker.AnnounceRequest{InfoHash: h, PeerID: ID(1), Addr: Addr4(1), NumWant: 50}
		if err := tr.Announce(ctx, &req, &resp); !errors.Is(err, tracker.ErrUnknownTorrent) {
			t.Fatalf("announce under %s after unregistering: %v", h, err)
		}
	}

	// Registered on its own, the truncated v2 hash is an ordinary info
	// hash with a swarm of its own.
	if err := reg.Add(ctx, tracker.Registration{InfoHash: v2}); err != nil {
		t.Fatal(err)
	}
	if err := reg.Add(ctx, tracker.Registration{InfoHash: v1}); err != nil {
		t.Fatal(err)
	}
	got = announce(v2, 5, tracker.EventStarted, 100)
	if contains(got.Peers, 6, Addr4(1)) || got.Seeders+got.Leechers != 1 {
		t.Fatalf("the v2 hash registered on its own shares v1's swarm: %+v", got)
	}
}
