// Package storetest is the conformance suite every tracker.Store must pass.
// A store's own tests call Run with a constructor; the suite drives the
// store's clock through Clock so that expiry is tested without waiting.
// Stores that keep the registered torrents (tracker.AllowStore) are also
// driven through the tracker and its registry, as --registration runs them.
package storetest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

// Lifetime is the peer lifetime the suite asks of a store.
const Lifetime = 60 * time.Second

// Clock is a clock the suite moves by hand.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock returns a clock set to a fixed instant.
func NewClock() *Clock {
	return &Clock{now: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
}

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// Factory builds a fresh, empty store with the given peer lifetime and clock.
// It registers its own cleanup with t.
type Factory func(t *testing.T, lifetime time.Duration, clock *Clock) tracker.Store

// Run runs the conformance suite against stores made by newStore.
func Run(t *testing.T, newStore Factory) {
	cases := []struct {
		name string
		fn   func(*testing.T, tracker.Store, *Clock)
	}{
		{"FirstAnnounceCountsThePeer", testFirstAnnounce},
		{"AnnounceNeverReturnsTheAnnouncingPeer", testNeverSelf},
		{"SeederReceivesOnlyLeechers", testSeederGetsLeechers},
		{"LeecherReceivesSeedersAndLeechers", testLeecherGetsBoth},
		{"NumWantCapsTheSampleWithDistinctPeers", testNumWant},
		{"SampleIsRandom", testSampleRandom},
		{"StoppedRemovesThePeer", testStopped},
		{"StoppedForUnknownSwarmIsHarmless", testStoppedUnknown},
		{"CompletedCountsOneDownload", testCompleted},
		{"LeftZeroMakesASeederAndBack", testRoleChange},
		{"APeerThatSeededCountsNoDownloadUntilItLeaves", testRecovery},
		{"AddressFamiliesAreSeparate", testFamilies},
		{"SamePeerIDFromAnotherAddressIsAnotherPeer", testPeerIdentity},
		{"PeerIDsFollowPeersWhenAsked", testPeerIDs},
		{"DualStackPeerCountsOnce", testDualStackOnce},
		{"DualStackPeerStopsPerFamily", testDualStackStop},
		{"DualStackHalvesExpireApart", testDualStackExpiry},
		{"DualStackNeedsTheSameKey", testDualStackKeys},
		{"DualStackPeerFinishesOnce", testDualStackFinish},
		{"KeyDoesNotTakeOverAnotherAddress", testKeyKeepsAddress},
		{"AChangedKeyKeepsThePeer", testKeyChange},
		{"SilentPeersExpire", testExpiry},
		{"ReannouncingPeersStay", testReannounceKeeps},
		{"ScrapeReportsCountsAndZeroForUnknown", testScrape},
		{"FullScrapeListsSwarms", testFullScrape},
		{"ConcurrentAnnouncesKeepExactCounts", testConcurrent},
		{"PingSucceeds", testPing},
		{"TotalsFollowTheSwarms", testTotals},
		{"RegistrationsGiveEveryHashOneSwarm", testRegistrations},
		{"HybridTorrentIsOneSwarmUnderBothHashes", testHybrid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clock := NewClock()
			s := newStore(t, Lifetime, clock)
			c.fn(t, s, clock)
		})
	}
}

// Hash returns a test info hash numbered n.
func Hash(n int) tracker.InfoHash {
	var h tracker.InfoHash
	copy(h[:], "storetest-hash------")
	binary.BigEndian.PutUint32(h[16:], uint32(n))
	return h
}

// ID returns a test peer ID numbered n.
func ID(n int) tracker.PeerID {
	var id tracker.PeerID
	copy(id[:], "-ST0001-")
	binary.BigEndian.PutUint32(id[16:], uint32(n))
	return id
}

// Addr4 returns the IPv4 address 10.0.x.y:port for peer n.
func Addr4(n int) netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(n >> 8), byte(n)}), uint16(6881+n%1000))
}

// Addr6 returns the IPv6 address 2001:db8::n:port for peer n.
func Addr6(n int) netip.AddrPort {
	b := [16]byte{0x20, 0x01, 0x0d, 0xb8}
	b[14], b[15] = byte(n>>8), byte(n)
	return netip.AddrPortFrom(netip.AddrFrom16(b), uint16(6881+n%1000))
}

// Counter is a store that keeps its swarm totals for the tracker's gauges.
// The suite checks the totals of stores that have it and skips those
// checks for stores that do not.
type Counter interface {
	Totals(ctx context.Context) (tracker.Totals, error)
	// SweepExpired drops every expired peer now, as the store's own
	// sweep does in its time.
	SweepExpired(ctx context.Context) error
}

func checkTotals(t *testing.T, what string, s tracker.Store, want tracker.Totals) {
	t.Helper()
	c, ok := s.(Counter)
	if !ok {
		return
	}
	got, err := c.Totals(context.Background())
	if err != nil {
		t.Fatalf("%s: totals: %v", what, err)
	}
	if got != want {
		t.Fatalf("%s: totals %+v, want %+v", what, got, want)
	}
}

type announcer struct {
	t *testing.T
	s tracker.Store
}

func (a announcer) do(h tracker.InfoHash, n int, addr netip.AddrPort, ev tracker.Event, seeder bool, numWant int) tracker.SwarmAnswer {
	a.t.Helper()
	return a.doKey(h, n, 0, addr, ev, seeder, numWant)
}

// doKey announces with a key (0: none).
func (a announcer) doKey(h tracker.InfoHash, n int, key uint32, addr netip.AddrPort, ev tracker.Event, seeder bool, numWant int) tracker.SwarmAnswer {
	a.t.Helper()
	var out tracker.SwarmAnswer
	pa := tracker.PeerAnnounce{InfoHash: h, PeerID: ID(n), Key: key, Addr: addr, Event: ev, Seeder: seeder, NumWant: numWant}
	if err := a.s.Announce(context.Background(), pa, &out); err != nil {
		a.t.Fatalf("announce peer %d: %v", n, err)
	}
	if len(out.Peers)%tracker.CompactSize(addr.Addr().Unmap()) != 0 {
		a.t.Fatalf("announce peer %d: %d bytes of peers is not a whole number of entries", n, len(out.Peers))
	}
	return out
}

func leech4(a announcer, h tracker.InfoHash, n int) tracker.SwarmAnswer {
	a.t.Helper()
	return a.do(h, n, Addr4(n), tracker.EventStarted, false, 50)
}

func seed4(a announcer, h tracker.InfoHash, n int) tracker.SwarmAnswer {
	a.t.Helper()
	return a.do(h, n, Addr4(n), tracker.EventStarted, true, 50)
}

func compact(ap netip.AddrPort) []byte {
	a := ap.Addr()
	b := a.AsSlice()
	return binary.BigEndian.AppendUint16(b, ap.Port())
}

// entries splits compact peers into their entries.
func entries(peers []byte, size int) [][]byte {
	var out [][]byte
	for i := 0; i+size <= len(peers); i += size {
		out = append(out, peers[i:i+size])
	}
	return out
}

func contains(peers []byte, size int, ap netip.AddrPort) bool {
	want := compact(ap)
	for _, e := range entries(peers, size) {
		if bytes.Equal(e, want) {
			return true
		}
	}
	return false
}

func checkCounts(t *testing.T, what string, got tracker.SwarmAnswer, seeders, leechers, downloaded int) {
	t.Helper()
	if got.Seeders != seeders || got.Leechers != leechers || got.Downloaded != downloaded {
		t.Fatalf("%s: seeders/leechers/downloaded = %d/%d/%d, want %d/%d/%d",
			what, got.Seeders, got.Leechers, got.Downloaded, seeders, leechers, downloaded)
	}
}

func testFirstAnnounce(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	got := leech4(a, Hash(1), 1)
	checkCounts(t, "first leecher", got, 0, 1, 0)
	if len(got.Peers) != 0 {
		t.Fatalf("first announce got %d bytes of peers, want none", len(got.Peers))
	}
	got = seed4(a, Hash(2), 2)
	checkCounts(t, "first seeder of another torrent", got, 1, 0, 0)
}

func testNeverSelf(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	for n := range 5 {
		leech4(a, h, n)
	}
	for range 20 {
		got := a.do(h, 3, Addr4(3), tracker.EventNone, false, 4)
		if contains(got.Peers, 6, Addr4(3)) {
			t.Fatalf("announce of peer 3 returned peer 3 itself: %x", got.Peers)
		}
		if n := len(got.Peers) / 6; n != 4 {
			t.Fatalf("got %d peers, want the 4 others", n)
		}
	}
}

func testSeederGetsLeechers(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	for n := 1; n <= 3; n++ {
		seed4(a, h, n)
	}
	for n := 10; n < 13; n++ {
		leech4(a, h, n)
	}
	got := seed4(a, h, 1)
	checkCounts(t, "seeder re-announce", got, 3, 3, 0)
	if len(got.Peers)/6 != 3 {
		t.Fatalf("seeder got %d peers, want the 3 leechers", len(got.Peers)/6)
	}
	for n := 10; n < 13; n++ {
		if !contains(got.Peers, 6, Addr4(n)) {
			t.Errorf("seeder's peers lack leecher %d", n)
		}
	}
}

func testLeecherGetsBoth(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	seed4(a, h, 1)
	seed4(a, h, 2)
	leech4(a, h, 10)
	got := leech4(a, h, 11)
	checkCounts(t, "leecher", got, 2, 2, 0)
	for _, n := range []int{1, 2, 10} {
		if !contains(got.Peers, 6, Addr4(n)) {
			t.Errorf("leecher's peers lack peer %d", n)
		}
	}
	if len(got.Peers)/6 != 3 {
		t.Fatalf("leecher got %d peers, want 3", len(got.Peers)/6)
	}
}

func testNumWant(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	for n := range 100 {
		seed4(a, h, n)
	}
	for _, want := range []int{0, 1, 7, 50, 99, 200} {
		got := a.do(h, 1000, Addr4(1000), tracker.EventNone, false, want)
		n := len(got.Peers) / 6
		if n != min(want, 100) {
			t.Fatalf("numwant %d: got %d peers, want %d", want, n, min(want, 100))
		}
		seen := map[string]bool{}
		for _, e := range entries(got.Peers, 6) {
			if seen[string(e)] {
				t.Fatalf("numwant %d: peer %x returned twice", want, e)
			}
			seen[string(e)] = true
		}
	}
	// A leecher among leechers: the sample is drawn from the list that
	// holds the announcer, which it must skip without coming up short.
	h = Hash(2)
	for n := range 100 {
		leech4(a, h, n)
	}
	for _, want := range []int{1, 15, 16, 17, 50, 98, 99, 100} {
		for range 20 {
			got := a.do(h, 42, Addr4(42), tracker.EventNone, false, want)
			if n := len(got.Peers) / 6; n != min(want, 99) {
				t.Fatalf("leecher, numwant %d: got %d peers, want %d", want, n, min(want, 99))
			}
			if contains(got.Peers, 6, Addr4(42)) {
				t.Fatalf("leecher, numwant %d: got itself", want)
			}
			seen := map[string]bool{}
			for _, e := range entries(got.Peers, 6) {
				if seen[string(e)] {
					t.Fatalf("leecher, numwant %d: peer %x returned twice", want, e)
				}
				seen[string(e)] = true
			}
		}
	}
}

func testSampleRandom(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	const swarm = 200
	for n := range swarm {
		seed4(a, h, n)
	}
	hits := map[string]int{}
	for range 100 {
		got := a.do(h, 5000, Addr4(5000), tracker.EventNone, false, 10)
		for _, e := range entries(got.Peers, 6) {
			hits[string(e)]++
		}
	}
	// 1,000 picks from 200 peers: a fair sampler reaches nearly all of
	// them; one that always starts at the same place reaches 10.
	if len(hits) < swarm/2 {
		t.Fatalf("100 samples of 10 reached only %d of %d peers", len(hits), swarm)
	}
}

func testStopped(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	seed4(a, h, 1)
	leech4(a, h, 2)
	got := a.do(h, 2, Addr4(2), tracker.EventStopped, false, 50)
	checkCounts(t, "after stopped", got, 1, 0, 0)
	if len(got.Peers) != 0 {
		t.Fatalf("stopped announce got peers back: %x", got.Peers)
	}
	got = leech4(a, h, 3)
	if contains(got.Peers, 6, Addr4(2)) {
		t.Fatal("stopped peer is still handed out")
	}
	checkCounts(t, "new leecher", got, 1, 1, 0)
}

func testStoppedUnknown(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	got := a.do(Hash(9), 1, Addr4(1), tracker.EventStopped, false, 50)
	checkCounts(t, "stopped in unknown swarm", got, 0, 0, 0)
	var st [1]tracker.ScrapeStats
	if err := s.Scrape(context.Background(), []tracker.InfoHash{Hash(9)}, st[:]); err != nil {
		t.Fatal(err)
	}
	if st[0] != (tracker.ScrapeStats{}) {
		t.Fatalf("stopped announce created a swarm: %+v", st[0])
	}
}

func testCompleted(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	// step announces and checks the counts, and that Finished is set
	// exactly when the download count moved.
	last := 0
	step := func(what string, n int, ev tracker.Event, seeder bool, seeders, leechers, downloaded int) {
		t.Helper()
		got := a.do(h, n, Addr4(n), ev, seeder, 50)
		checkCounts(t, what, got, seeders, leechers, downloaded)
		if got.Finished != (downloaded > last) {
			t.Fatalf("%s: Finished = %v with downloads going %d -> %d", what, got.Finished, last, downloaded)
		}
		last = downloaded
	}
	step("leecher 1", 1, tracker.EventStarted, false, 0, 1, 0)
	step("leecher 2", 2, tracker.EventStarted, false, 0, 2, 0)
	step("completed", 1, tracker.EventCompleted, true, 1, 1, 1)
	// A repeated completed from a peer already seeding is not a new download.
	step("repeated completed", 1, tracker.EventCompleted, true, 1, 1, 1)
	step("second download", 2, tracker.EventCompleted, true, 2, 0, 2)
	// A peer that was never seen and arrives completed counts too.
	step("completed from new peer", 3, tracker.EventCompleted, true, 3, 0, 3)
	// A leecher that stops with nothing left finished without saying so.
	step("leecher 4", 4, tracker.EventStarted, false, 3, 1, 3)
	step("leecher stopped with left=0", 4, tracker.EventStopped, true, 3, 0, 4)
	// So did a leecher whose next regular announce has nothing left.
	step("leecher 5", 5, tracker.EventStarted, false, 3, 1, 4)
	step("leecher re-announced with left=0", 5, tracker.EventNone, true, 4, 0, 5)
	// A seeder that stops, or starts as a seeder, is no download.
	step("seeder stops", 5, tracker.EventStopped, true, 3, 0, 5)
	step("seeder starts", 6, tracker.EventStarted, true, 4, 0, 5)
}

func testRoleChange(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	leech4(a, h, 1)
	got := a.do(h, 1, Addr4(1), tracker.EventNone, true, 50)
	checkCounts(t, "leecher turned seeder", got, 1, 0, 1)
	got = a.do(h, 1, Addr4(1), tracker.EventNone, false, 50)
	checkCounts(t, "seeder turned leecher", got, 0, 1, 1)
}

// testRecovery is the origin that lost a piece on disk: it seeds, reports
// something left while it fetches or re-verifies the piece, and seeds
// again. That is no download, however often it happens and whether or not
// it says completed; only a peer that left (stopped or expired) and came
// back counts anew.
func testRecovery(t *testing.T, s tracker.Store, clock *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	step := func(what string, n int, ev tracker.Event, seeder bool, seeders, leechers, downloaded int) {
		t.Helper()
		got := a.do(h, n, Addr4(n), ev, seeder, 50)
		checkCounts(t, what, got, seeders, leechers, downloaded)
		if got.Finished {
			t.Fatalf("%s: Finished set, with %d downloads", what, downloaded)
		}
	}
	step("origin starts seeding", 1, tracker.EventStarted, true, 1, 0, 0)
	step("origin lost a piece", 1, tracker.EventNone, false, 0, 1, 0)
	step("origin healed", 1, tracker.EventNone, true, 1, 0, 0)
	step("origin lost a piece again", 1, tracker.EventNone, false, 0, 1, 0)
	// Re-announcing as a leecher for longer than a peer lifetime keeps
	// the peer's history, as it keeps the peer.
	for range 3 {
		clock.Advance(Lifetime / 2)
		step("origin still fetching", 1, tracker.EventNone, false, 0, 1, 0)
	}
	step("origin healed and says completed", 1, tracker.EventCompleted, true, 1, 0, 0)

	// A leecher counted on completed while it still reported something
	// left is not counted again when it reports nothing left.
	got := a.do(h, 2, Addr4(2), tracker.EventCompleted, false, 50)
	checkCounts(t, "completed with something left", got, 1, 1, 1)
	step("then nothing left", 2, tracker.EventNone, true, 2, 0, 1)

	// A peer that left and came back is another download.
	step("origin stops", 1, tracker.EventStopped, true, 1, 0, 1)
	step("origin starts leeching", 1, tracker.EventStarted, false, 1, 1, 1)
	got = a.do(h, 1, Addr4(1), tracker.EventNone, true, 50)
	checkCounts(t, "origin that came back finishes", got, 2, 0, 2)
	if !got.Finished {
		t.Fatal("a peer that stopped and came back was not counted")
	}
	step("it loses a piece", 1, tracker.EventNone, false, 1, 1, 2)
	// So is one that went silent for longer than its lifetime.
	clock.Advance(2*Lifetime + time.Second)
	step("back after expiry", 1, tracker.EventStarted, false, 0, 1, 2)
	got = a.do(h, 1, Addr4(1), tracker.EventNone, true, 50)
	checkCounts(t, "back after expiry, finished", got, 1, 0, 3)
	if !got.Finished {
		t.Fatal("a peer that expired and came back was not counted")
	}
}

func testFamilies(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	a.do(h, 1, Addr4(1), tracker.EventStarted, true, 50)
	a.do(h, 2, Addr6(2), tracker.EventStarted, true, 50)
	got := a.do(h, 3, Addr6(3), tracker.EventStarted, false, 50)
	checkCounts(t, "IPv6 leecher", got, 2, 1, 0)
	if len(got.Peers) != 18 || !contains(got.Peers, 18, Addr6(2)) {
		t.Fatalf("IPv6 leecher got %x, want only the IPv6 seeder", got.Peers)
	}
	got = a.do(h, 4, Addr4(4), tracker.EventStarted, false, 50)
	if len(got.Peers) != 6 || !contains(got.Peers, 6, Addr4(1)) {
		t.Fatalf("IPv4 leecher got %x, want only the IPv4 seeder", got.Peers)
	}
	// An IPv4-mapped IPv6 address is an IPv4 peer.
	mapped := netip.AddrPortFrom(netip.AddrFrom16(Addr4(5).Addr().As16()), 7000)
	got = a.do(h, 5, mapped, tracker.EventStarted, false, 50)
	if len(got.Peers)%6 != 0 || !contains(got.Peers, 6, Addr4(1)) {
		t.Fatalf("IPv4-mapped leecher got %x, want IPv4 entries", got.Peers)
	}
}

func testPeerIdentity(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	seed4(a, h, 1)
	// Peer ID 1 again, from another address, stopping: must not remove the
	// real peer 1.
	a.do(h, 1, Addr4(77), tracker.EventStopped, false, 50)
	got := leech4(a, h, 2)
	checkCounts(t, "after spoofed stop", got, 1, 1, 0)
	if !contains(got.Peers, 6, Addr4(1)) {
		t.Fatal("a stop from another address removed the peer")
	}
}

func testPeerIDs(t *testing.T, s tracker.Store, _ *Clock) {
	h := Hash(1)
	a := announcer{t, s}
	for n := 1; n <= 3; n++ {
		seed4(a, h, n)
	}
	var out tracker.SwarmAnswer
	pa := tracker.PeerAnnounce{InfoHash: h, PeerID: ID(9), Addr: Addr4(9), NumWant: 50, WantPeerIDs: true}
	if err := s.Announce(context.Background(), pa, &out); err != nil {
		t.Fatal(err)
	}
	if len(out.PeerIDs) != len(out.Peers)/6*20 || len(out.Peers) != 18 {
		t.Fatalf("got %d bytes of peers and %d of peer IDs", len(out.Peers), len(out.PeerIDs))
	}
	for i, e := range entries(out.Peers, 6) {
		var n int
		for m := 1; m <= 3; m++ {
			if bytes.Equal(e, compact(Addr4(m))) {
				n = m
			}
		}
		id := ID(n)
		if !bytes.Equal(out.PeerIDs[i*20:i*20+20], id[:]) {
			t.Fatalf("entry %d (%x): peer ID %x, want %x", i, e, out.PeerIDs[i*20:i*20+20], id)
		}
	}
}

func testExpiry(t *testing.T, s tracker.Store, clock *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	seed4(a, h, 1)
	leech4(a, h, 2)
	clock.Advance(2*Lifetime + time.Second)
	got := leech4(a, h, 3)
	checkCounts(t, "after lifetime", got, 0, 1, 0)
	if len(got.Peers) != 0 {
		t.Fatalf("expired peers handed out: %x", got.Peers)
	}
}

func testReannounceKeeps(t *testing.T, s tracker.Store, clock *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	seed4(a, h, 1)
	for range 6 {
		clock.Advance(Lifetime / 2)
		seed4(a, h, 1)
	}
	got := leech4(a, h, 2)
	checkCounts(t, "after re-announces", got, 1, 1, 0)
	if !contains(got.Peers, 6, Addr4(1)) {
		t.Fatal("a peer that kept announcing expired")
	}
}

func testScrape(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	seed4(a, Hash(1), 1)
	leech4(a, Hash(1), 2)
	a.do(Hash(1), 3, Addr4(3), tracker.EventCompleted, true, 50)
	leech4(a, Hash(2), 4)
	hashes := []tracker.InfoHash{Hash(1), Hash(2), Hash(3)}
	out := make([]tracker.ScrapeStats, len(hashes))
	if err := s.Scrape(context.Background(), hashes, out); err != nil {
		t.Fatal(err)
	}
	want := []tracker.ScrapeStats{{Seeders: 2, Leechers: 1, Downloaded: 1}, {Leechers: 1}, {}}
	for i := range want {
		if out[i] != want[i] {
			t.Errorf("scrape %d: got %+v, want %+v", i, out[i], want[i])
		}
	}
}

func testFullScrape(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	for n := range 5 {
		seed4(a, Hash(n), n)
	}
	got := map[tracker.InfoHash]tracker.ScrapeStats{}
	err := s.FullScrape(context.Background(), 100, func(h tracker.InfoHash, st tracker.ScrapeStats) { got[h] = st })
	var refusal tracker.Failure
	if errors.As(err, &refusal) && len(got) == 0 {
		// A store may refuse full scrape (listing every swarm would walk
		// a shared keyspace); it must say so as a failure for the client.
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 5 {
		t.Fatalf("full scrape listed %d torrents, want 5", len(got))
	}
	for n := range 5 {
		if got[Hash(n)].Seeders != 1 {
			t.Errorf("torrent %d: %+v", n, got[Hash(n)])
		}
	}
	count := 0
	if err := s.FullScrape(context.Background(), 3, func(tracker.InfoHash, tracker.ScrapeStats) { count++ }); err != nil {
		t.Fatal(err)
	}
	if count != 3 {
		t.Fatalf("full scrape with max 3 listed %d", count)
	}
}

func testConcurrent(t *testing.T, s tracker.Store, _ *Clock) {
	const workers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				n := w*each + i
				var out tracker.SwarmAnswer
				pa := tracker.PeerAnnounce{InfoHash: Hash(n % 3), PeerID: ID(n), Addr: Addr4(n), Event: tracker.EventStarted, Seeder: n%2 == 0, NumWant: 10}
				if err := s.Announce(context.Background(), pa, &out); err != nil {
					errs <- fmt.Errorf("peer %d: %w", n, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	hashes := []tracker.InfoHash{Hash(0), Hash(1), Hash(2)}
	out := make([]tracker.ScrapeStats, 3)
	if err := s.Scrape(context.Background(), hashes, out); err != nil {
		t.Fatal(err)
	}
	total := 0
	for i, st := range out {
		total += st.Seeders + st.Leechers
		if st.Seeders == 0 || st.Leechers == 0 {
			t.Errorf("torrent %d: %+v", i, st)
		}
	}
	if total != workers*each {
		t.Fatalf("counted %d peers, want %d", total, workers*each)
	}
	checkTotals(t, "after concurrent announces", s, tracker.Totals{Torrents: 3, Seeders4: workers * each / 2, Leechers4: workers * each / 2})
}

func testTotals(t *testing.T, s tracker.Store, clock *Clock) {
	c, ok := s.(Counter)
	if !ok {
		t.Skip("the store keeps no totals")
	}
	a := announcer{t, s}
	checkTotals(t, "empty store", s, tracker.Totals{})
	seed4(a, Hash(1), 1)
	leech4(a, Hash(1), 2)
	a.do(Hash(1), 3, Addr6(3), tracker.EventStarted, false, 50)
	a.do(Hash(1), 4, Addr6(4), tracker.EventStarted, true, 50)
	leech4(a, Hash(2), 5)
	checkTotals(t, "two swarms", s, tracker.Totals{Torrents: 2, Seeders4: 1, Leechers4: 2, Seeders6: 1, Leechers6: 1})
	// Re-announcing changes nothing; a leecher that completes moves.
	leech4(a, Hash(1), 2)
	a.do(Hash(1), 2, Addr4(2), tracker.EventCompleted, true, 50)
	checkTotals(t, "after a completion", s, tracker.Totals{Torrents: 2, Seeders4: 2, Leechers4: 1, Seeders6: 1, Leechers6: 1})
	// The last peer of a swarm stops: one torrent fewer. A stop in an
	// unknown swarm changes nothing.
	a.do(Hash(2), 5, Addr4(5), tracker.EventStopped, false, 50)
	a.do(Hash(9), 9, Addr4(9), tracker.EventStopped, false, 50)
	checkTotals(t, "after stops", s, tracker.Totals{Torrents: 1, Seeders4: 2, Seeders6: 1, Leechers6: 1})
	// Half a lifetime on, two of the peers announce again; a lifetime
	// after that, the others have expired, and after the next sweep
	// nobody counts them.
	clock.Advance(Lifetime / 2)
	seed4(a, Hash(1), 1)
	leech4(a, Hash(3), 7)
	clock.Advance(Lifetime/2 + time.Second)
	if err := c.SweepExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkTotals(t, "after one swarm's silent peers expired", s, tracker.Totals{Torrents: 2, Seeders4: 1, Leechers4: 1})
	clock.Advance(Lifetime)
	if err := c.SweepExpired(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkTotals(t, "after every peer expired", s, tracker.Totals{})
}

func testPing(t *testing.T, s tracker.Store, _ *Clock) {
	if err := s.Ping(context.Background()); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

// Key returns a test key for peer n, never 0.
func Key(n int) uint32 { return 0x5ee00000 + uint32(n)*0x10001 }

func scrapeOne(t *testing.T, s tracker.Store, h tracker.InfoHash) tracker.ScrapeStats {
	t.Helper()
	var st [1]tracker.ScrapeStats
	if err := s.Scrape(context.Background(), []tracker.InfoHash{h}, st[:]); err != nil {
		t.Fatal(err)
	}
	return st[0]
}

func checkScrape(t *testing.T, what string, s tracker.Store, h tracker.InfoHash, want tracker.ScrapeStats) {
	t.Helper()
	if got := scrapeOne(t, s, h); got != want {
		t.Fatalf("%s: scrape %+v, want %+v", what, got, want)
	}
}

// testDualStackOnce is a client that announces over IPv4 and over IPv6
// with one peer ID and key (BEP 7): one peer in the counts, while each
// family's clients get the address of their family.
func testDualStackOnce(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	got := a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStarted, true, 50)
	checkCounts(t, "seeder over IPv4", got, 1, 0, 0)
	got = a.doKey(h, 1, Key(1), Addr6(1), tracker.EventStarted, true, 50)
	checkCounts(t, "the same seeder over IPv6", got, 1, 0, 0)
	checkScrape(t, "dual-stack seeder", s, h, tracker.ScrapeStats{Seeders: 1})
	checkTotals(t, "dual-stack seeder", s, tracker.Totals{Torrents: 1, SeedersBoth: 1})
	got = a.doKey(h, 2, Key(2), Addr4(2), tracker.EventStarted, false, 50)
	checkCounts(t, "IPv4 leecher", got, 1, 1, 0)
	if len(got.Peers) != 6 || !contains(got.Peers, 6, Addr4(1)) {
		t.Fatalf("IPv4 leecher got %x, want the seeder's IPv4 address", got.Peers)
	}
	got = a.doKey(h, 3, Key(3), Addr6(3), tracker.EventStarted, false, 50)
	checkCounts(t, "IPv6 leecher", got, 1, 2, 0)
	if len(got.Peers) != 18 || !contains(got.Peers, 18, Addr6(1)) {
		t.Fatalf("IPv6 leecher got %x, want the seeder's IPv6 address", got.Peers)
	}
	// Re-announces change nothing; the seeder gets each family's
	// leecher over that family.
	got = a.doKey(h, 1, Key(1), Addr6(1), tracker.EventNone, true, 50)
	checkCounts(t, "seeder re-announces over IPv6", got, 1, 2, 0)
	if len(got.Peers) != 18 || !contains(got.Peers, 18, Addr6(3)) {
		t.Fatalf("seeder over IPv6 got %x, want the IPv6 leecher", got.Peers)
	}
	got = a.doKey(h, 1, Key(1), Addr4(1), tracker.EventNone, true, 50)
	if len(got.Peers) != 6 || !contains(got.Peers, 6, Addr4(2)) {
		t.Fatalf("seeder over IPv4 got %x, want the IPv4 leecher", got.Peers)
	}
	// A dual-stack leecher is one leecher too, and the rule for a peer
	// whose families disagree: a seeder when either says it has nothing
	// left.
	a.doKey(h, 4, Key(4), Addr4(4), tracker.EventStarted, false, 50)
	got = a.doKey(h, 4, Key(4), Addr6(4), tracker.EventStarted, false, 50)
	checkCounts(t, "dual-stack leecher", got, 1, 3, 0)
	checkTotals(t, "dual-stack leecher", s, tracker.Totals{Torrents: 1, SeedersBoth: 1, LeechersBoth: 1, Leechers4: 1, Leechers6: 1})
	got = a.doKey(h, 4, Key(4), Addr6(4), tracker.EventNone, true, 50)
	checkCounts(t, "seeder over IPv6, leecher over IPv4", got, 2, 2, 1)
	checkTotals(t, "half seeder", s, tracker.Totals{Torrents: 1, SeedersBoth: 2, Leechers4: 1, Leechers6: 1})
	got = a.doKey(h, 4, Key(4), Addr4(4), tracker.EventNone, true, 50)
	checkCounts(t, "seeder over both", got, 2, 2, 1)
	if got.Finished {
		t.Fatal("a peer that finished over IPv6 finished again over IPv4")
	}
	got = a.doKey(h, 1, Key(1), Addr4(1), tracker.EventNone, false, 50)
	checkCounts(t, "leecher over IPv4, seeder over IPv6", got, 2, 2, 1)
	checkScrape(t, "end", s, h, tracker.ScrapeStats{Seeders: 2, Leechers: 2, Downloaded: 1})
}

func testDualStackStop(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStarted, true, 50)
	a.doKey(h, 1, Key(1), Addr6(1), tracker.EventStarted, true, 50)
	got := a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStopped, true, 50)
	checkCounts(t, "stopped over IPv4", got, 1, 0, 0)
	checkTotals(t, "stopped over IPv4", s, tracker.Totals{Torrents: 1, Seeders6: 1})
	got = a.do(h, 2, Addr4(2), tracker.EventStarted, false, 50)
	if len(got.Peers) != 0 {
		t.Fatalf("the address stopped over IPv4 is still handed out: %x", got.Peers)
	}
	got = a.do(h, 3, Addr6(3), tracker.EventStarted, false, 50)
	checkCounts(t, "IPv6 leecher", got, 1, 2, 0)
	if !contains(got.Peers, 18, Addr6(1)) {
		t.Fatal("a stop over IPv4 removed the IPv6 address")
	}
	// Back over IPv4: one peer again.
	got = a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStarted, true, 50)
	checkCounts(t, "back over IPv4", got, 1, 2, 0)
	got = a.doKey(h, 1, Key(1), Addr6(1), tracker.EventStopped, true, 50)
	checkCounts(t, "stopped over IPv6", got, 1, 2, 0)
	got = a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStopped, true, 50)
	checkCounts(t, "stopped over both", got, 0, 2, 0)
	checkScrape(t, "end", s, h, tracker.ScrapeStats{Leechers: 2})
}

func testDualStackExpiry(t *testing.T, s tracker.Store, clock *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStarted, false, 50)
	a.doKey(h, 1, Key(1), Addr6(1), tracker.EventStarted, false, 50)
	// Only the IPv6 half goes on announcing.
	for range 5 {
		clock.Advance(Lifetime / 2)
		a.doKey(h, 1, Key(1), Addr6(1), tracker.EventNone, false, 50)
	}
	got := a.do(h, 2, Addr4(2), tracker.EventStarted, true, 50)
	checkCounts(t, "IPv4 half expired", got, 1, 1, 0)
	if len(got.Peers) != 0 {
		t.Fatalf("the expired IPv4 half is still handed out: %x", got.Peers)
	}
	got = a.do(h, 3, Addr6(3), tracker.EventStarted, true, 50)
	if !contains(got.Peers, 18, Addr6(1)) {
		t.Fatal("the IPv6 half expired with the IPv4 one")
	}
	if c, ok := s.(Counter); ok {
		if err := c.SweepExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	checkTotals(t, "IPv4 half expired", s, tracker.Totals{Torrents: 1, Leechers6: 1, Seeders4: 1, Seeders6: 1})
	checkScrape(t, "IPv4 half expired", s, h, tracker.ScrapeStats{Seeders: 2, Leechers: 1})
	// The IPv4 half comes back: one peer again, and it finishes once.
	a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStarted, false, 50)
	checkScrape(t, "IPv4 half back", s, h, tracker.ScrapeStats{Seeders: 2, Leechers: 1})
	got = a.doKey(h, 1, Key(1), Addr4(1), tracker.EventCompleted, true, 50)
	checkCounts(t, "completed over IPv4", got, 3, 0, 1)
	got = a.doKey(h, 1, Key(1), Addr6(1), tracker.EventCompleted, true, 50)
	checkCounts(t, "completed over IPv6", got, 3, 0, 1)
	// Both halves silent: both expire.
	clock.Advance(2*Lifetime + time.Second)
	if c, ok := s.(Counter); ok {
		if err := c.SweepExpired(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	checkTotals(t, "all expired", s, tracker.Totals{})
	checkScrape(t, "all expired", s, h, tracker.ScrapeStats{Downloaded: 1})
}

// testDualStackKeys: without the same non-zero key, the same peer ID over
// the two families is two peers (a peer ID is no proof: any client can
// send another's).
func testDualStackKeys(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	for i, c := range []struct {
		name   string
		k4, k6 uint32
	}{
		{"no key", 0, 0},
		{"key over IPv4 only", Key(1), 0},
		{"key over IPv6 only", 0, Key(1)},
		{"other keys", Key(1), Key(2)},
	} {
		h := Hash(10 + i)
		a.doKey(h, 1, c.k4, Addr4(1), tracker.EventStarted, true, 50)
		got := a.doKey(h, 1, c.k6, Addr6(1), tracker.EventStarted, true, 50)
		checkCounts(t, c.name, got, 2, 0, 0)
	}
	// A leecher that completes over one family and, with another key,
	// over the other is two peers that finished.
	h := Hash(20)
	a.doKey(h, 1, Key(1), Addr4(1), tracker.EventCompleted, true, 50)
	got := a.doKey(h, 1, Key(2), Addr6(1), tracker.EventCompleted, true, 50)
	checkCounts(t, "two keys, two completions", got, 2, 0, 2)
	checkTotals(t, "no pairs", s, tracker.Totals{Torrents: 5, Seeders4: 5, Seeders6: 5})
}

func testDualStackFinish(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStarted, false, 50)
	a.doKey(h, 1, Key(1), Addr6(1), tracker.EventStarted, false, 50)
	got := a.doKey(h, 1, Key(1), Addr4(1), tracker.EventCompleted, true, 50)
	checkCounts(t, "completed over IPv4", got, 1, 0, 1)
	if !got.Finished {
		t.Fatal("the completion was not counted")
	}
	got = a.doKey(h, 1, Key(1), Addr6(1), tracker.EventCompleted, true, 50)
	checkCounts(t, "completed over IPv6", got, 1, 0, 1)
	if got.Finished {
		t.Fatal("one download counted twice")
	}
	// A peer that finished over one family and left it has still
	// finished for the other.
	a.doKey(h, 2, Key(2), Addr4(2), tracker.EventStarted, false, 50)
	a.doKey(h, 2, Key(2), Addr6(2), tracker.EventStarted, false, 50)
	a.doKey(h, 2, Key(2), Addr4(2), tracker.EventCompleted, true, 50)
	a.doKey(h, 2, Key(2), Addr4(2), tracker.EventStopped, true, 50)
	got = a.doKey(h, 2, Key(2), Addr6(2), tracker.EventNone, true, 50)
	checkCounts(t, "seeder over IPv6 after IPv4 stopped", got, 2, 0, 2)
	if got.Finished {
		t.Fatal("a download counted again over the other family")
	}
	// A half that comes back to a peer that has finished is no download
	// either.
	a.doKey(h, 1, Key(1), Addr6(1), tracker.EventStopped, true, 50)
	got = a.doKey(h, 1, Key(1), Addr6(1), tracker.EventCompleted, true, 50)
	checkCounts(t, "IPv6 half back, completed", got, 2, 0, 2)
	if got.Finished {
		t.Fatal("a download counted again when a half came back")
	}
}

// testKeyKeepsAddress: within a family the address identifies a peer, key
// or not; a second address with the same peer ID and key is another peer
// and cannot remove the first.
func testKeyKeepsAddress(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStarted, true, 50)
	a.doKey(h, 1, Key(1), Addr6(1), tracker.EventStarted, true, 50)
	got := a.doKey(h, 1, Key(1), Addr4(77), tracker.EventStopped, false, 50)
	checkCounts(t, "stop from another address with the key", got, 1, 0, 0)
	got = a.doKey(h, 1, Key(1), Addr4(77), tracker.EventStarted, false, 50)
	checkCounts(t, "another address with the key", got, 1, 1, 0)
	got = a.do(h, 2, Addr4(2), tracker.EventStarted, false, 50)
	if !contains(got.Peers, 6, Addr4(1)) || !contains(got.Peers, 6, Addr4(77)) {
		t.Fatalf("IPv4 leecher got %x, want both addresses", got.Peers)
	}
	// The first address stops; the other takes the key over and is the
	// IPv4 half of the peer from now on, counted once with it.
	a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStopped, true, 50)
	got = a.doKey(h, 1, Key(1), Addr4(77), tracker.EventNone, false, 50)
	checkCounts(t, "after the first address stopped", got, 1, 1, 0)
	// A client that announced without a key and now sends one is still
	// one entry.
	a.do(h, 3, Addr4(3), tracker.EventStarted, false, 50)
	got = a.doKey(h, 3, Key(3), Addr4(3), tracker.EventNone, false, 50)
	checkCounts(t, "a key sent late", got, 1, 2, 0)
	got = a.doKey(h, 3, Key(3), Addr6(3), tracker.EventNone, false, 50)
	checkCounts(t, "and its IPv6 half", got, 1, 2, 0)
}

// testKeyChange: the address, not the key, tells whether an announce is a
// known peer's within its family. aria2c sends another UDP key with every
// announce and goes straight to stopped with nothing left when it
// finishes: that is its download, and removes it.
func testKeyChange(t *testing.T, s tracker.Store, _ *Clock) {
	a := announcer{t, s}
	h := Hash(1)
	a.do(h, 9, Addr4(9), tracker.EventStarted, true, 50)
	a.doKey(h, 1, Key(1), Addr4(1), tracker.EventStarted, false, 50)
	got := a.doKey(h, 1, Key(2), Addr4(1), tracker.EventNone, false, 50)
	checkCounts(t, "another key", got, 1, 1, 0)
	got = a.doKey(h, 1, 0, Addr4(1), tracker.EventNone, false, 50)
	checkCounts(t, "no key", got, 1, 1, 0)
	got = a.doKey(h, 1, Key(3), Addr4(1), tracker.EventStopped, true, 50)
	checkCounts(t, "stopped with nothing left and a third key", got, 1, 0, 1)
	if !got.Finished {
		t.Fatal("the download was not counted")
	}
	// A dual-stack peer whose key changes over one family is two peers
	// until the other family's announce brings the same key.
	a.doKey(h, 2, Key(2), Addr4(2), tracker.EventStarted, false, 50)
	a.doKey(h, 2, Key(2), Addr6(2), tracker.EventStarted, false, 50)
	got = a.doKey(h, 2, Key(5), Addr4(2), tracker.EventNone, false, 50)
	checkCounts(t, "keys differ", got, 1, 2, 1)
	got = a.doKey(h, 2, Key(5), Addr6(2), tracker.EventNone, false, 50)
	checkCounts(t, "keys agree again", got, 1, 1, 1)
}
