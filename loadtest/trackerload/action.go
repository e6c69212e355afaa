package trackerload

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// Action is what one request does: an announce with one of the BEP 3
// events, or a scrape.
type Action uint8

// Actions, in the order reports list them.
const (
	ActionStarted Action = iota
	ActionNone           // a regular announce, with no event
	ActionCompleted
	ActionStopped
	ActionScrape
	numActions
)

var actionNames = [numActions]string{"started", "none", "completed", "stopped", "scrape"}

// String returns the action's name as flags and reports spell it.
func (a Action) String() string {
	if a < numActions {
		return actionNames[a]
	}
	return "action(" + strconv.Itoa(int(a)) + ")"
}

// Mix weighs the actions: each request is one action drawn with
// probability proportional to its weight. The weights need not add up to
// 100.
type Mix [numActions]float64

// DefaultMix is a steady tracker's day: mostly regular announces, some
// churn, and a few scrapes.
var DefaultMix = Mix{
	ActionStarted:   5,
	ActionNone:      80,
	ActionCompleted: 3,
	ActionStopped:   5,
	ActionScrape:    7,
}

// String returns the mix as Set reads it: "started=5,none=80,...".
func (m *Mix) String() string {
	if m == nil {
		return ""
	}
	var b strings.Builder
	for a, w := range m {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%s", Action(a), strconv.FormatFloat(w, 'g', -1, 64))
	}
	return b.String()
}

// Set parses a comma-separated list of ACTION=WEIGHT pairs; actions not
// named get weight 0. It implements flag.Value.
func (m *Mix) Set(s string) error {
	var out Mix
	for _, pair := range strings.Split(s, ",") {
		name, val, ok := strings.Cut(strings.TrimSpace(pair), "=")
		if !ok {
			return fmt.Errorf("mix %q: %q is not ACTION=WEIGHT", s, pair)
		}
		a, err := parseAction(name)
		if err != nil {
			return fmt.Errorf("mix %q: %w", s, err)
		}
		w, err := strconv.ParseFloat(val, 64)
		if err != nil || w < 0 || w > 1e9 {
			return fmt.Errorf("mix %q: weight %q of %s: want a number from 0 to 1e9", s, val, name)
		}
		out[a] = w
	}
	if out.total() == 0 {
		return fmt.Errorf("mix %q: every weight is 0", s)
	}
	*m = out
	return nil
}

func parseAction(name string) (Action, error) {
	for a, n := range actionNames {
		if n == name {
			return Action(a), nil
		}
	}
	return 0, fmt.Errorf("unknown action %q (want %s)", name, strings.Join(actionNames[:], ", "))
}

func (m *Mix) total() float64 {
	var t float64
	for _, w := range m {
		t += w
	}
	return t
}

// draw picks an action among those allowed, by weight; allowed[a] false
// leaves a out. With every allowed weight 0 it returns fallback.
func (m *Mix) draw(r *rand.Rand, allowed *[numActions]bool, fallback Action) Action {
	var t float64
	for a, w := range m {
		if allowed[a] {
			t += w
		}
	}
	if t <= 0 {
		return fallback
	}
	x := r.Float64() * t
	for a, w := range m {
		if !allowed[a] {
			continue
		}
		if x < w {
			return Action(a)
		}
		x -= w
	}
	return fallback // rounding left x just above the last weight
}
