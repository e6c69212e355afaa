package redisstore

import "github.com/bitorigin/bitorigin/tracker"

// pick appends to out at most numWant peers taken at random from a
// sample's seeders and leechers (joined members: a compact address of size
// bytes and a peer ID each), split the way the announce script splits an
// answer: a seeder gets leechers only; a leecher gets seeders and leechers
// in proportion to the lists' sizes cs and cl (the announcer one of the
// leechers), then more of either kind when the other runs short, never more
// of a kind than its list now holds. self is never picked. intn is the
// random source (rand.IntN), a parameter so that tests can fix it.
func pick(out *tracker.SwarmAnswer, seeders, leechers string, size int, self string, seeder bool, numWant, cs, cl int, wantIDs bool, intn func(int) int) {
	entry := size + 20
	selfS, as := find(seeders, entry, self)
	selfL, al := find(leechers, entry, self)
	var ks, kl int
	if seeder {
		kl = min(numWant, cl, al)
	} else {
		cl = max(cl-1, 0)
		if cs+cl <= numWant {
			ks, kl = cs, cl
		} else {
			ks = min(cs, (numWant*cs*2+cs+cl)/(2*(cs+cl)))
			kl = numWant - ks
			if kl > cl {
				kl = cl
				ks = numWant - kl
			}
		}
		ks, kl = min(ks, as), min(kl, al)
		spare := numWant - ks - kl
		add := max(min(spare, min(as, cs)-ks), 0)
		ks, spare = ks+add, spare-add
		kl += max(min(spare, min(al, cl)-kl), 0)
	}
	choose(out, seeders, entry, size, selfS, ks, wantIDs, intn)
	choose(out, leechers, entry, size, selfL, kl, wantIDs, intn)
}

// find returns the index of self among the joined members (-1 if absent)
// and how many members there are besides it.
func find(joined string, entry int, self string) (int, int) {
	n := len(joined) / entry
	for i := range n {
		if joined[i*entry:(i+1)*entry] == self {
			return i, n - 1
		}
	}
	return -1, n
}

// choose appends k members of joined, distinct and at random, skipping the
// one at index skip: a partial Fisher-Yates shuffle of their indices.
func choose(out *tracker.SwarmAnswer, joined string, entry, size, skip, k int, wantIDs bool, intn func(int) int) {
	if k <= 0 {
		return
	}
	var idx [sampleSize]uint16
	n := 0
	for i := range min(len(joined)/entry, sampleSize) {
		if i != skip {
			idx[n] = uint16(i)
			n++
		}
	}
	for i := range min(k, n) {
		j := i + intn(n-i)
		idx[i], idx[j] = idx[j], idx[i]
		m := joined[int(idx[i])*entry : int(idx[i]+1)*entry]
		out.Peers = append(out.Peers, m[:size]...)
		if wantIDs {
			out.PeerIDs = append(out.PeerIDs, m[size:]...)
		}
	}
}
