package swarmload

import "testing"

func TestPeerGraphBoundsEveryLeechersConnectionsAndConnectsThemAll(t *testing.T) {
	for _, tt := range []struct{ n, d int }{{2, 8}, {3, 2}, {20, 8}, {200, 8}, {500, 16}} {
		dials := peerGraph(tt.n, tt.d, 1)
		deg := make([]int, tt.n)
		adj := make([][]int, tt.n)
		seen := map[[2]int]bool{}
		for i, js := range dials {
			for _, j := range js {
				pair := [2]int{min(i, j), max(i, j)}
				if i == j || seen[pair] {
					t.Fatalf("n %d d %d: leecher %d dials %d twice or itself", tt.n, tt.d, i, j)
				}
				seen[pair] = true
				deg[i]++
				deg[j]++
				adj[i] = append(adj[i], j)
				adj[j] = append(adj[j], i)
			}
		}
		for i, k := range deg {
			if k > tt.d || k == 0 {
				t.Errorf("n %d d %d: leecher %d has %d connections", tt.n, tt.d, i, k)
			}
		}
		// Every leecher reaches every other.
		reached := map[int]bool{0: true}
		for queue := []int{0}; len(queue) > 0; queue = queue[1:] {
			for _, j := range adj[queue[0]] {
				if !reached[j] {
					reached[j] = true
					queue = append(queue, j)
				}
			}
		}
		if len(reached) != tt.n {
			t.Errorf("n %d d %d: leecher 0 reaches %d of %d", tt.n, tt.d, len(reached), tt.n)
		}
	}
}
