package redisstore

import (
	"encoding/hex"
	"slices"
	"testing"

	"github.com/bitorigin/bitorigin/tracker/storetest"
)

func TestSwarmKeysShareOneHashTagAndCostTwoAllocations(t *testing.T) {
	for _, cluster := range []bool{false, true} {
		s := &Store{prefix: "bt", shards: newShards("bt", cluster)}
		h := storetest.Hash(7)
		keys, id := s.keys(h, 3)
		if id != hex.EncodeToString(h[:]) {
			t.Fatalf("id %q, want the hex info hash", id)
		}
		base := "bt:{" + id + "}:"
		shard := s.shards.of([]byte(id))
		want := []string{base + "s4", base + "l4", base + "s6", base + "l6", base + "d", base + "c",
			shard + "n", shard + "x", base + "f", base + "p", base + "h3"}
		if !slices.Equal(keys, want) {
			t.Fatalf("cluster %v: keys\n%q\nwant\n%q", cluster, keys, want)
		}
		if got, _ := s.keys(h, -1); !slices.Equal(got, want[:10]) {
			t.Fatalf("cluster %v: keys without an identity %q", cluster, got)
		}
		if k := identityKeyN(keys, 5); k != base+"h5" {
			t.Fatalf("identity hash 5: %q", k)
		}
		if cluster && keySlot(id) != keySlot(shard[len("bt:{"):len(shard)-len("}:")]) {
			t.Fatalf("shard %q is not in the slot of %q", shard, id)
		}
		if n := testing.AllocsPerRun(100, func() { s.keys(h, 3) }); n > 2 {
			t.Fatalf("cluster %v: %v allocations per call, want 2", cluster, n)
		}
	}
}
