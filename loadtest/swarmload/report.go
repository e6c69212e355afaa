package swarmload

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/bitorigin/bitorigin/loadtest"
	"github.com/bitorigin/bitorigin/metainfo"
)

// Report is the outcome of a swarm run, printed for people by WriteText
// and for machines as JSON.
type Report struct {
	Name        string `json:"name"`
	InfoHash    string `json:"info_hash"`
	Size        int64  `json:"size"`
	Pieces      int    `json:"pieces"`
	PieceLength int64  `json:"piece_length"`
	Seeder      string `json:"seeder"`

	Leechers  int `json:"leechers"`
	Completed int `json:"completed"`
	Failed    int `json:"failed"`
	// Duration is the wall time in seconds from the first dial to the last
	// leecher's end; Bytes the verified bytes of every leecher together.
	Duration float64 `json:"duration_s"`
	Bytes    int64   `json:"bytes"`
	// MBps is Bytes per second over Duration, in megabytes (10^6).
	MBps float64 `json:"mb_per_s"`
	// TimeToComplete is of the leechers that completed, each from its own
	// dial to its last verified piece.
	TimeToComplete loadtest.Summary `json:"time_to_complete"`

	// Trade is set when the leechers traded pieces among themselves,
	// PeersPerLeecher and LeecherUploadRate (bytes per second, 0 for no
	// cap) how.
	Trade             bool  `json:"trade"`
	PeersPerLeecher   int   `json:"peers_per_leecher,omitempty"`
	LeecherUploadRate int64 `json:"leecher_upload_rate,omitempty"`
	// FromSeeder and FromPeers are the block bytes the leechers received
	// from the seeder and from one another; Uploaded the bytes they sent
	// one another.
	FromSeeder int64 `json:"from_seeder"`
	FromPeers  int64 `json:"from_peers"`
	Uploaded   int64 `json:"uploaded_to_peers"`
	// OriginCopies is FromSeeder in copies of the torrent: about one when
	// the origin offloads to a trading swarm, Leechers when it serves
	// everyone. OriginShare is FromSeeder over Leechers times Size, the
	// share of the leechers' download that came from the origin.
	OriginCopies float64 `json:"origin_copies"`
	OriginShare  float64 `json:"origin_share"`
	// PeerFailures counts connections between leechers that could not
	// be made.
	PeerFailures int64 `json:"peer_failures,omitempty"`

	Requests     int64 `json:"requests"`
	Rejected     int64 `json:"rejected"` // BEP 6 reject request messages
	Chokes       int64 `json:"chokes"`
	HashFailures int64 `json:"hash_failures"`
	// Errors counts the failed leechers by class; ErrorExamples holds the
	// first error of each class.
	Errors        map[string]int64  `json:"errors"`
	ErrorExamples map[string]string `json:"error_examples,omitempty"`
}

func report(cfg *Config, t *metainfo.Torrent, addr string, results []leecherResult, elapsed time.Duration) *Report {
	info := &t.Info
	rep := &Report{
		Name:          info.Name,
		InfoHash:      t.InfoHash().String(),
		Size:          info.TotalLength(),
		Pieces:        info.NumPieces(),
		PieceLength:   info.PieceLength,
		Seeder:        addr,
		Leechers:      cfg.Leechers,
		Trade:         cfg.Trade,
		Duration:      elapsed.Seconds(),
		Errors:        map[string]int64{},
		ErrorExamples: map[string]string{},
	}
	ttc := loadtest.NewLatency(1)
	for _, r := range results {
		rep.Bytes += r.bytes
		rep.Requests += r.requests
		rep.Rejected += r.rejected
		rep.Chokes += r.chokes
		rep.HashFailures += r.hashFails
		rep.FromSeeder += r.fromSeeder
		rep.FromPeers += r.fromPeers
		rep.Uploaded += r.uploaded
		rep.PeerFailures += r.peerFailures
		if r.done {
			rep.Completed++
			ttc.Record(0, r.took)
			continue
		}
		rep.Failed++
		class := classify(r.err)
		rep.Errors[class]++
		if _, ok := rep.ErrorExamples[class]; !ok {
			rep.ErrorExamples[class] = r.err.Error()
		}
	}
	rep.TimeToComplete = ttc.Summary()
	if cfg.Trade {
		rep.PeersPerLeecher, rep.LeecherUploadRate = cfg.PeersPerLeecher, cfg.LeecherUploadRate
	}
	if rep.Size > 0 {
		rep.OriginCopies = float64(rep.FromSeeder) / float64(rep.Size)
		rep.OriginShare = rep.OriginCopies / float64(rep.Leechers)
	}
	if rep.Duration > 0 {
		rep.MBps = float64(rep.Bytes) / 1e6 / rep.Duration
	}
	return rep
}

// Check reports counts that do not add up; a report from Run always
// passes.
func (rep *Report) Check() error {
	var errs []error
	if rep.Completed+rep.Failed != rep.Leechers {
		errs = append(errs, fmt.Errorf("completed %d + failed %d != leechers %d", rep.Completed, rep.Failed, rep.Leechers))
	}
	var failed int64
	for _, n := range rep.Errors {
		failed += n
	}
	if failed != int64(rep.Failed) {
		errs = append(errs, fmt.Errorf("error classes add up to %d, failed %d", failed, rep.Failed))
	}
	if rep.TimeToComplete.Count != int64(rep.Completed) {
		errs = append(errs, fmt.Errorf("time to complete of %d leechers, completed %d", rep.TimeToComplete.Count, rep.Completed))
	}
	if rep.Bytes < int64(rep.Completed)*rep.Size {
		errs = append(errs, fmt.Errorf("bytes %d below completed %d x size %d", rep.Bytes, rep.Completed, rep.Size))
	}
	if rep.FromSeeder+rep.FromPeers < rep.Bytes {
		errs = append(errs, fmt.Errorf("received %d from the seeder + %d from peers, below %d verified", rep.FromSeeder, rep.FromPeers, rep.Bytes))
	}
	if rep.FromPeers > rep.Uploaded {
		errs = append(errs, fmt.Errorf("received %d from peers, more than the %d they uploaded", rep.FromPeers, rep.Uploaded))
	}
	return errors.Join(errs...)
}

// WriteText prints the report for people.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "torrent     %s (%s), %d bytes in %d pieces of %d\n", rep.Name, rep.InfoHash, rep.Size, rep.Pieces, rep.PieceLength)
	fmt.Fprintf(&b, "seeder      %s\n", rep.Seeder)
	fmt.Fprintf(&b, "leechers    %d: %d completed and verified, %d failed\n", rep.Leechers, rep.Completed, rep.Failed)
	if rep.Trade {
		upload := "no upload cap"
		if rep.LeecherUploadRate > 0 {
			upload = fmt.Sprintf("upload capped at %.2f MB/s each", float64(rep.LeecherUploadRate)/1e6)
		}
		fmt.Fprintf(&b, "trading     up to %d peers per leecher, %s; %d connections failed\n", rep.PeersPerLeecher, upload, rep.PeerFailures)
		fmt.Fprintf(&b, "received    %d bytes from the seeder, %d from other leechers (who uploaded %d)\n", rep.FromSeeder, rep.FromPeers, rep.Uploaded)
	} else {
		fmt.Fprintf(&b, "received    %d bytes, all from the seeder\n", rep.FromSeeder)
	}
	fmt.Fprintf(&b, "origin      share %.2f copies of the torrent (%.1f%% of what %d leechers downloaded)\n", rep.OriginCopies, 100*rep.OriginShare, rep.Leechers)
	fmt.Fprintf(&b, "rate        %.1f MB/s together (%d bytes in %.2fs)\n", rep.MBps, rep.Bytes, rep.Duration)
	t := rep.TimeToComplete
	fmt.Fprintf(&b, "complete in p50 %.0fms  p90 %.0fms  p99 %.0fms  max %.0fms\n", t.P50, t.P90, t.P99, t.Max)
	fmt.Fprintf(&b, "requests    %d, rejected %d, chokes %d, hash failures %d\n", rep.Requests, rep.Rejected, rep.Chokes, rep.HashFailures)
	for _, k := range slices.Sorted(maps.Keys(rep.Errors)) {
		fmt.Fprintf(&b, "error       %s: %d (first: %s)\n", k, rep.Errors[k], rep.ErrorExamples[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}
