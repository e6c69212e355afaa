package seeder

import (
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/bitorigin/bitorigin/metrics"
)

// collector reports the running seeder's gauges and per-torrent series
// when Prometheus scrapes.
type collector struct {
	s                 *Seeder
	peers, unchoked   *prometheus.Desc
	busy              *prometheus.Desc
	pending, torrents *prometheus.Desc
	uploaded, size    *prometheus.Desc
	torrentPeers, pcs *prometheus.Desc
	// The offload policy's view, per torrent, when it is on.
	offered, idleOffered, spreading, copies *prometheus.Desc
}

// Collector returns a Prometheus collector of the seeder's peers
// (connected, unchoked, busy, still connecting), the torrents served by state
// and, per torrent, labelled by info hash and name: bytes uploaded, size,
// connected peers and pieces by verification result. The torrents are the
// publisher's own catalogue, so the series are bounded. The bytes come
// from counters the serving path keeps anyway; nothing is counted twice.
func (s *Seeder) Collector() prometheus.Collector {
	name := func(n string) string { return prometheus.BuildFQName(metrics.Namespace, "seeder", n) }
	torrent := []string{"info_hash", "name"}
	return &collector{
		s:        s,
		peers:    prometheus.NewDesc(name("peers"), "Peer connections past the handshake, in all torrents.", nil, nil),
		unchoked: prometheus.NewDesc(name("unchoked_peers"), "Peers we upload to now (holding an upload slot).", nil, nil),
		busy: prometheus.NewDesc(name("busy_peers"),
			"Peers whose requests wait or whose blocks are being sent (or wait for --upload-rate), in all torrents: 0 means the origin's uplink is idle, when the offload policy may reveal spreading pieces.", nil, nil),
		torrents: prometheus.NewDesc(name("torrents"),
			"Torrents served, by state: complete, or partial (some pieces failed verification and are never served).", []string{"state"}, nil),
		pending: prometheus.NewDesc(name("pending_connections"),
			"Connections not yet past the handshake, by stage: handshake (accepted), dial (opened by us).", []string{"stage"}, nil),
		uploaded: prometheus.NewDesc(name("uploaded_bytes_total"),
			"Block bytes sent to peers, by torrent.", torrent, nil),
		size: prometheus.NewDesc(name("torrent_size_bytes"),
			"Size of the torrent's data: what one completed download delivers.", torrent, nil),
		torrentPeers: prometheus.NewDesc(name("torrent_peers"),
			"Peer connections past the handshake, by torrent.", torrent, nil),
		pcs: prometheus.NewDesc(name("torrent_pieces"),
			"Pieces of the torrent by verification result (verified: served; failed: never served).",
			[]string{"info_hash", "name", "state"}, nil),
		offered: prometheus.NewDesc(name("offload_offered_pieces_total"),
			"Pieces the offload policy revealed to a leecher (a have message), by torrent; about the piece count per copy the origin sends.", torrent, nil),
		idleOffered: prometheus.NewDesc(name("offload_idle_offered_pieces_total"),
			"Of the pieces revealed, those revealed although the swarm was spreading them, because the origin's uplink was idle (at most one for every n fresh ones, n the connected peers), by torrent.", torrent, nil),
		spreading: prometheus.NewDesc(name("offload_withheld_pieces"),
			"Pieces connected leechers lack that the origin withholds because another peer has them or is getting them (the swarm carries them), summed over leechers, by torrent.", torrent, nil),
		copies: prometheus.NewDesc(name("swarm_copies"),
			"Full copies of the torrent the connected peers hold among them (distributed copies), by torrent; only with offload on.", torrent, nil),
	}
}

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.peers, c.unchoked, c.busy, c.pending, c.torrents, c.uploaded, c.size, c.torrentPeers, c.pcs,
		c.offered, c.idleOffered, c.spreading, c.copies} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s := c.s
	s.mu.Lock()
	handshaking, dialing := s.gate.Handshakes(), s.dialing
	list := s.list
	s.mu.Unlock()
	peers, unchoked := s.slots.len(), s.slots.unchoked()
	perTorrent := make([]int, len(list))
	for i, sw := range list {
		perTorrent[i] = sw.swarm.Len()
	}

	gauge := func(d *prometheus.Desc, v int, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, float64(v), labels...)
	}
	gauge(c.peers, peers)
	gauge(c.unchoked, unchoked)
	gauge(c.busy, int(s.peerCfg.Uplink.Busy()))
	gauge(c.pending, handshaking, "handshake")
	gauge(c.pending, dialing, "dial")
	complete := 0
	for _, sw := range list {
		if sw.Complete() {
			complete++
		}
	}
	gauge(c.torrents, complete, "complete")
	gauge(c.torrents, len(list)-complete, "partial")
	for i, sw := range list {
		hash, name := sw.InfoHash().String(), labelValue(sw.Name())
		ch <- prometheus.MustNewConstMetric(c.uploaded, prometheus.CounterValue, float64(sw.Uploaded()), hash, name)
		ch <- prometheus.MustNewConstMetric(c.size, prometheus.GaugeValue, float64(sw.Meta.Info.TotalLength()), hash, name)
		gauge(c.torrentPeers, perTorrent[i], hash, name)
		verified := sw.Verified()
		gauge(c.pcs, int(verified), hash, name, "verified")
		gauge(c.pcs, int(sw.NumPieces()-verified), hash, name, "failed")
		if st, ok := sw.swarm.OffloadStatus(); ok {
			ch <- prometheus.MustNewConstMetric(c.offered, prometheus.CounterValue, float64(st.Offered), hash, name)
			ch <- prometheus.MustNewConstMetric(c.idleOffered, prometheus.CounterValue, float64(st.IdleOffered), hash, name)
			gauge(c.spreading, st.Spreading, hash, name)
			ch <- prometheus.MustNewConstMetric(c.copies, prometheus.GaugeValue, st.Copies, hash, name)
		}
	}
}

// labelValue makes a torrent name a valid label value. Prometheus wants
// UTF-8, and a .torrent made elsewhere may name its torrent in another
// encoding (BEP 3 asks for UTF-8; old tools wrote the local code page):
// MustNewConstMetric would panic on it, and client_golang, recovering,
// drops that series and every one after it in the scrape.
func labelValue(s string) string { return strings.ToValidUTF8(s, "\uFFFD") }
