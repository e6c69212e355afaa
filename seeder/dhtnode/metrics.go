package dhtnode

import (
	"fmt"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
)

// methods are the KRPC query methods counted by name (BEP 5); others are
// counted as "other", so that a peer cannot grow the label set.
var methods = []string{"ping", "find_node", "get_peers", "announce_peer", "other"}

// queryResults label what became of a query received.
var queryResults = []string{"answered", "limited", "refused"}

// announceResults label the outcome of one announce of one torrent.
var announceResults = []string{"ok", "no_reply", "no_nodes"}

// nodeMetrics are the node's counters; the gauges come from the node at
// scrape time. A nil *nodeMetrics records nothing.
type nodeMetrics struct {
	packets, bytes [2]prometheus.Counter                    // in, out
	queries        map[string]map[string]prometheus.Counter // by method, then result
	announces      map[string]prometheus.Counter
	introductions  map[string]prometheus.Counter
	pings          map[string]prometheus.Counter
	found          map[string]prometheus.Counter
	all            []prometheus.Collector
}

// newMetrics returns the node's metrics, to register once n.srv is set;
// no Registerer gives nil.
func newMetrics(reg prometheus.Registerer, n *Node) *nodeMetrics {
	if reg == nil {
		return nil
	}
	const sub = "seeder_dht"
	packets := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "packets_total",
		Help: "UDP packets of the DHT node (BEP 5), by direction: in (received), out (sent).",
	}, []string{"direction"})
	bytes := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "bytes_total",
		Help: "UDP payload bytes of the DHT node, by direction: in (received), out (sent).",
	}, []string{"direction"})
	queries := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "queries_received_total",
		Help: "KRPC queries received, by method and result: answered, limited (over the per-IP rate, dropped unanswered) or refused (BEP 44 put and get, which the node does not offer, and malformed announce_peer; dropped unanswered).",
	}, []string{"method", "result"})
	announces := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "announces_total",
		Help: "Announces of one torrent to the DHT (get_peers toward the info hash, then announce_peer to the closest nodes), by result: ok (some node answered), no_reply, no_nodes (the routing table is empty and no bootstrap node is set).",
	}, []string{"result"})
	introductions := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "port_messages_total",
		Help: "DHT nodes named by peers' port messages (BEP 5), by result: queued (to be pinged), duplicate (pinged lately), limited (over the per-IP or total bound of pings, dropped), invalid (an address no node of ours can reach).",
	}, []string{"result"})
	pings := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "port_pings_total",
		Help: "Pings of nodes named by port messages, by result: answered (the node enters the routing table if its bucket has room), no_answer, known (already in the routing table, not pinged).",
	}, []string{"result"})
	found := prometheus.NewCounterVec(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "peers_found_total",
		Help: "Peers of the torrents the node announces that it handed to the seeder to dial, by source: traversal (get_peers answers during our announce), announce_peer (announced to our node).",
	}, []string{"source"})
	sent := prometheus.NewCounterFunc(prometheus.CounterOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "queries_sent_total",
		Help: "KRPC queries the node sent (find_node, get_peers, announce_peer, ping), retries excluded.",
	}, func() float64 { return float64(n.srv.Stats().OutboundQueriesAttempted) })
	nodes := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "routing_table_nodes",
		Help: "Nodes in the routing table.",
	}, func() float64 { return float64(n.srv.Stats().Nodes) })
	good := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "routing_table_good_nodes",
		Help: "Nodes in the routing table that answered lately (good in BEP 5's sense).",
	}, func() float64 { return float64(n.srv.Stats().GoodNodes) })
	torrents := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "torrents",
		Help: "Info hashes the node announces and answers get_peers with our address for (a hybrid torrent has two).",
	}, func() float64 { return float64(n.numAnnounced()) })
	stored := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Namespace: metrics.Namespace, Subsystem: sub, Name: "stored_peers",
		Help: "Peers other nodes' announce_peer stored here, in all info hashes.",
	}, func() float64 { return float64(n.peers.len()) })
	m := &nodeMetrics{queries: map[string]map[string]prometheus.Counter{}, announces: map[string]prometheus.Counter{},
		introductions: map[string]prometheus.Counter{}, pings: map[string]prometheus.Counter{},
		found: map[string]prometheus.Counter{},
		all: []prometheus.Collector{packets, bytes, queries, announces, introductions, pings, found, sent, nodes, good,
			torrents, stored}}
	for i, dir := range []string{"in", "out"} {
		m.packets[i] = packets.WithLabelValues(dir)
		m.bytes[i] = bytes.WithLabelValues(dir)
	}
	for _, q := range methods {
		m.queries[q] = map[string]prometheus.Counter{}
		for _, r := range queryResults {
			m.queries[q][r] = queries.WithLabelValues(q, r)
		}
	}
	for _, r := range announceResults {
		m.announces[r] = announces.WithLabelValues(r)
	}
	for _, r := range introduceResults {
		m.introductions[r] = introductions.WithLabelValues(r)
	}
	for _, r := range pingResults {
		m.pings[r] = pings.WithLabelValues(r)
	}
	for _, r := range foundSources {
		m.found[r] = found.WithLabelValues(r)
	}
	return m
}

// register registers every metric with reg.
func (m *nodeMetrics) register(reg prometheus.Registerer) error {
	if m == nil {
		return nil
	}
	for _, c := range m.all {
		if err := reg.Register(c); err != nil {
			return fmt.Errorf("dht metrics: %w", err)
		}
	}
	return nil
}

// packet counts one packet of n bytes, received or sent.
func (m *nodeMetrics) packet(out bool, n int) {
	if m == nil {
		return
	}
	i := 0
	if out {
		i = 1
	}
	m.packets[i].Inc()
	m.bytes[i].Add(float64(n))
}

// query counts a query received, by result.
func (m *nodeMetrics) query(method, result string) {
	if m == nil {
		return
	}
	c, ok := m.queries[method]
	if !ok {
		c = m.queries["other"]
	}
	c[result].Inc()
}

// announced counts one announce by result.
func (m *nodeMetrics) announced(result string) {
	if m != nil {
		m.announces[result].Inc()
	}
}

// introduced counts a node named by a port message, by result.
func (m *nodeMetrics) introduced(result string) {
	if m != nil {
		m.introductions[result].Inc()
	}
}

// pinged counts the end of a ping of such a node, by result.
func (m *nodeMetrics) pinged(result string) {
	if m != nil {
		m.pings[result].Inc()
	}
}

// foundPeers counts n peers handed to the seeder, by source.
func (m *nodeMetrics) foundPeers(source string, n int) {
	if m != nil {
		m.found[source].Add(float64(n))
	}
}
