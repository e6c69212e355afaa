package swarmload

import "math/rand/v2"

// peerGraph decides which trading leechers connect to which, as a tracker
// would have introduced them: it returns, for each of n leechers, the
// others it dials. Each dials up to half of d others at random, so every
// leecher ends up with about d connections and never more, no pair is
// connected twice and, for d of 3 or more, the graph is connected but for
// rare exceptions. The same seed gives the same graph.
func peerGraph(n, d int, seed uint64) [][]int {
	dials := make([][]int, n)
	if n < 2 || d < 1 {
		return dials
	}
	rng := rand.New(rand.NewPCG(seed, seed+1))
	deg := make([]int, n)
	linked := make(map[[2]int]bool)
	want := max(1, d/2)
	for i := range n {
		// Random tries, a bounded number: late leechers may find the
		// others full and start with fewer connections.
		for try := 0; try < 20*d && len(dials[i]) < want && deg[i] < d; try++ {
			j := rng.IntN(n)
			pair := [2]int{min(i, j), max(i, j)}
			if j == i || deg[j] >= d || linked[pair] {
				continue
			}
			linked[pair] = true
			dials[i] = append(dials[i], j)
			deg[i]++
			deg[j]++
		}
	}
	return dials
}
