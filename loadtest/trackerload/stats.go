package trackerload

// ActionCounts counts one action's measured requests: Sent is OK plus
// Failures (answers with a failure reason) plus Errors (no usable answer).
type ActionCounts struct {
	Sent     int64 `json:"sent"`
	OK       int64 `json:"ok"`
	Failures int64 `json:"failures"`
	Errors   int64 `json:"errors"`
}

// stats is one worker's tally of measured requests. Only its worker
// writes it; the run merges them at the end.
type stats struct {
	actions      [numActions]ActionCounts
	dropped      int64
	backlogged   int64
	connects     int64
	peers        int64 // peers in successful announce answers
	peersMax     int64
	announcesOK  int64
	failures     map[string]int64 // failure reason -> count
	errs         map[string]int64 // error class -> count
	errExamples  map[string]string
	latencyShard int
}

func newStats(worker int) *stats {
	return &stats{
		failures:     map[string]int64{},
		errs:         map[string]int64{},
		errExamples:  map[string]string{},
		latencyShard: worker,
	}
}

// maxReasons bounds the distinct failure reasons kept, in case a tracker
// puts something unique in each.
const maxReasons = 50

// record counts one exchange.
func (s *stats) record(q *query, a *answer, err error) {
	as := &s.actions[q.action]
	as.Sent++
	if a.connected {
		s.connects++
	}
	switch {
	case err != nil:
		as.Errors++
		class := classify(err)
		s.errs[class]++
		if _, ok := s.errExamples[class]; !ok {
			s.errExamples[class] = err.Error()
		}
	case a.failure:
		as.Failures++
		if _, ok := s.failures[string(a.reason)]; ok || len(s.failures) < maxReasons {
			s.failures[string(a.reason)]++
		} else {
			s.failures["(other reasons)"]++
		}
	default:
		as.OK++
		if q.action != ActionScrape {
			s.announcesOK++
			s.peers += int64(a.peers)
			s.peersMax = max(s.peersMax, int64(a.peers))
		}
	}
}

// merge adds o into s.
func (s *stats) merge(o *stats) {
	for a := range s.actions {
		s.actions[a].Sent += o.actions[a].Sent
		s.actions[a].OK += o.actions[a].OK
		s.actions[a].Failures += o.actions[a].Failures
		s.actions[a].Errors += o.actions[a].Errors
	}
	s.dropped += o.dropped
	s.backlogged += o.backlogged
	s.connects += o.connects
	s.peers += o.peers
	s.peersMax = max(s.peersMax, o.peersMax)
	s.announcesOK += o.announcesOK
	for k, v := range o.failures {
		s.failures[k] += v
	}
	for k, v := range o.errs {
		s.errs[k] += v
	}
	for k, v := range o.errExamples {
		if _, ok := s.errExamples[k]; !ok {
			s.errExamples[k] = v
		}
	}
}
