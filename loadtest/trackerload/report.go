package trackerload

import (
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/bitorigin/bitorigin/loadtest"
)

// Report is the outcome of a Run, over its measured window only. It is
// printed for people by WriteText and for machines as JSON.
//
// The counts add up: Intended = Sent + Dropped, Sent = Responses + Errors,
// Responses = the OK and Failures of every action, Errors = the sum of
// ErrorClasses, and Latency.Count = Responses.
type Report struct {
	Target     string `json:"target"`
	Protocol   string `json:"protocol"`             // http, https or udp
	Connection string `json:"connection,omitempty"` // HTTP: keep-alive or close
	// Mode is the pace: open (a fixed rate), closed (workers back to
	// back) or realistic (peers honour the interval).
	Mode       string  `json:"mode"`
	TargetRate float64 `json:"target_rate"` // requests/s; 0 unless open
	Slots      int     `json:"slots"`       // requests in flight at most
	// Duration is the measured time in seconds (shorter than asked when
	// the run was interrupted); Warmup came before it.
	Duration    float64 `json:"duration_s"`
	Warmup      float64 `json:"warmup_s"`
	Interrupted bool    `json:"interrupted,omitempty"`

	Torrents   int    `json:"torrents"`
	Peers      int    `json:"peers"`
	Popularity string `json:"popularity"`
	Mix        string `json:"mix"`

	// Intended is the requests the schedule wanted sent in the window;
	// Dropped were not sent, because the run ended or they had waited
	// longer than the time-out for a free slot; Backlogged were sent late,
	// after waiting for a slot.
	Intended   int64 `json:"intended"`
	Sent       int64 `json:"sent"`
	Dropped    int64 `json:"dropped"`
	Backlogged int64 `json:"backlogged"`
	// Responses are answers the tracker gave, failure reasons included;
	// Errors are requests with no usable answer.
	Responses int64 `json:"responses"`
	Errors    int64 `json:"errors"`
	// SentRate and AchievedRate are Sent and Responses per second.
	SentRate     float64 `json:"sent_rate"`
	AchievedRate float64 `json:"achieved_rate"`

	Actions        map[string]ActionCounts `json:"actions"`
	FailureReasons map[string]int64        `json:"failure_reasons"`
	ErrorClasses   map[string]int64        `json:"error_classes"`
	// ErrorExamples holds the first error of each class, verbatim.
	ErrorExamples map[string]string `json:"error_examples,omitempty"`

	// Latency is of Responses, from the time each request was due: in an
	// open-loop run, waiting for a slot counts.
	Latency loadtest.Summary `json:"latency"`
	// PeersPerAnswer is the mean number of peers in successful announce
	// answers; PeersMax the most in one.
	PeersPerAnswer float64 `json:"peers_per_answer"`
	PeersMax       int64   `json:"peers_max"`
	// UDPConnects is the BEP 15 connection IDs fetched.
	UDPConnects int64 `json:"udp_connects,omitempty"`
}

func (r *runner) report(intended, backlogged int64, stopped time.Time, interrupted bool) *Report {
	total := newStats(0)
	for _, w := range r.workers {
		total.merge(w.st)
	}
	cfg := &r.cfg
	u, _ := url.Parse(cfg.Target)
	rep := &Report{
		Target:         cfg.Target,
		Protocol:       u.Scheme,
		Mode:           cfg.mode(),
		Slots:          cfg.slots(),
		Warmup:         cfg.Warmup.Seconds(),
		Interrupted:    interrupted,
		Torrents:       cfg.Torrents,
		Peers:          cfg.Peers,
		Popularity:     cfg.Popularity.String(),
		Mix:            cfg.Mix.String(),
		Backlogged:     backlogged,
		Actions:        map[string]ActionCounts{},
		FailureReasons: total.failures,
		ErrorClasses:   total.errs,
		ErrorExamples:  total.errExamples,
		Latency:        r.lat.Summary(),
		PeersMax:       total.peersMax,
		UDPConnects:    total.connects,
	}
	if u.Scheme != "udp" {
		rep.Connection = "keep-alive"
		if cfg.ConnClose {
			rep.Connection = "close"
		}
	}
	if rep.Mode == "open" {
		rep.TargetRate = cfg.Rate
	}
	rep.Duration = max(earlier(stopped, r.end).Sub(r.measureFrom).Seconds(), 0)
	for a, c := range total.actions {
		rep.Actions[Action(a).String()] = c
		rep.Sent += c.Sent
		rep.Responses += c.OK + c.Failures
		rep.Errors += c.Errors
	}
	rep.Intended = intended
	if rep.Mode == "closed" {
		rep.Intended = rep.Sent
	}
	rep.Dropped = rep.Intended - rep.Sent
	if rep.Duration > 0 {
		rep.SentRate = float64(rep.Sent) / rep.Duration
		rep.AchievedRate = float64(rep.Responses) / rep.Duration
	}
	if total.announcesOK > 0 {
		rep.PeersPerAnswer = float64(total.peers) / float64(total.announcesOK)
	}
	return rep
}

// Check reports counts that do not add up; a report from Run always
// passes. Tests and readers of saved JSON use it.
func (rep *Report) Check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if rep.Intended != rep.Sent+rep.Dropped {
		bad("intended %d != sent %d + dropped %d", rep.Intended, rep.Sent, rep.Dropped)
	}
	if rep.Dropped < 0 {
		bad("dropped %d is negative", rep.Dropped)
	}
	if rep.Sent != rep.Responses+rep.Errors {
		bad("sent %d != responses %d + errors %d", rep.Sent, rep.Responses, rep.Errors)
	}
	var sent, resp, errCount, classes int64
	for name, c := range rep.Actions {
		if c.Sent != c.OK+c.Failures+c.Errors {
			bad("action %s: sent %d != ok %d + failures %d + errors %d", name, c.Sent, c.OK, c.Failures, c.Errors)
		}
		sent += c.Sent
		resp += c.OK + c.Failures
		errCount += c.Errors
	}
	for _, n := range rep.ErrorClasses {
		classes += n
	}
	if sent != rep.Sent || resp != rep.Responses || errCount != rep.Errors {
		bad("actions add up to sent %d, responses %d, errors %d; totals say %d, %d, %d",
			sent, resp, errCount, rep.Sent, rep.Responses, rep.Errors)
	}
	if classes != rep.Errors {
		bad("error classes add up to %d, errors %d", classes, rep.Errors)
	}
	if rep.Latency.Count != rep.Responses {
		bad("latency count %d != responses %d", rep.Latency.Count, rep.Responses)
	}
	return errors.Join(errs...)
}

// WriteText prints the report for people.
func (rep *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	conn := ""
	if rep.Connection != "" {
		conn = ", " + rep.Connection
	}
	fmt.Fprintf(&b, "target      %s (%s%s)\n", rep.Target, rep.Protocol, conn)
	switch rep.Mode {
	case "open":
		fmt.Fprintf(&b, "pace        open loop at %g req/s, at most %d in flight\n", rep.TargetRate, rep.Slots)
	case "closed":
		fmt.Fprintf(&b, "pace        closed loop, %d workers\n", rep.Slots)
	default:
		fmt.Fprintf(&b, "pace        realistic: peers honour the interval, at most %d in flight\n", rep.Slots)
	}
	fmt.Fprintf(&b, "time        %.1fs measured after %.1fs warm-up", rep.Duration, rep.Warmup)
	if rep.Interrupted {
		b.WriteString(" (interrupted)")
	}
	fmt.Fprintf(&b, "\nswarms      %d torrents (%s), %d peers; mix %s\n", rep.Torrents, rep.Popularity, rep.Peers, rep.Mix)
	fmt.Fprintf(&b, "requests    intended %d, sent %d, dropped %d, backlogged %d\n",
		rep.Intended, rep.Sent, rep.Dropped, rep.Backlogged)
	fmt.Fprintf(&b, "rate        sent %.1f/s, answered %.1f/s\n", rep.SentRate, rep.AchievedRate)
	fmt.Fprintf(&b, "answers     %d responses, %d errors\n", rep.Responses, rep.Errors)
	l := rep.Latency
	fmt.Fprintf(&b, "latency     p50 %s  p90 %s  p99 %s  p99.9 %s  max %s (from the time each request was due)\n",
		ms(l.P50), ms(l.P90), ms(l.P99), ms(l.P999), ms(l.Max))
	fmt.Fprintf(&b, "peers       %.1f per announce answer, at most %d\n", rep.PeersPerAnswer, rep.PeersMax)
	if rep.UDPConnects > 0 {
		fmt.Fprintf(&b, "udp         %d connection IDs fetched\n", rep.UDPConnects)
	}
	b.WriteString("\n")
	tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "action\tsent\tok\tfailure\terror\t")
	for a := range numActions {
		c := rep.Actions[a.String()]
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t\n", a, c.Sent, c.OK, c.Failures, c.Errors)
	}
	tw.Flush()
	for _, k := range slices.Sorted(maps.Keys(rep.ErrorClasses)) {
		fmt.Fprintf(&b, "error       %s: %d (first: %s)\n", k, rep.ErrorClasses[k], rep.ErrorExamples[k])
	}
	for _, k := range slices.Sorted(maps.Keys(rep.FailureReasons)) {
		fmt.Fprintf(&b, "failure     %q: %d\n", k, rep.FailureReasons[k])
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func ms(v float64) string {
	if v < 10 {
		return fmt.Sprintf("%.3fms", v)
	}
	return fmt.Sprintf("%.1fms", v)
}
