package trackerload

import (
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
)

// Popularity is how peers spread over torrents. Real swarms are skewed: a
// few torrents hold most peers. Kinds:
//   - "zipf:S": the torrent of rank k gets a share proportional to 1/k^S
//     (S > 0; 1 is the classic Zipf law);
//   - "gamma:K": every torrent's share is drawn from a Gamma distribution
//     of shape K (K > 0; below 1 is skewed, large K nearly even);
//   - "uniform": every torrent alike.
type Popularity struct {
	Kind  string
	Param float64
}

// DefaultPopularity is Zipf's law with exponent 1.
var DefaultPopularity = Popularity{Kind: "zipf", Param: 1}

// String returns the popularity as Set reads it.
func (p *Popularity) String() string {
	if p == nil || p.Kind == "" {
		return ""
	}
	if p.Kind == "uniform" {
		return p.Kind
	}
	return p.Kind + ":" + strconv.FormatFloat(p.Param, 'g', -1, 64)
}

// Set parses "zipf:S", "gamma:K" or "uniform". It implements flag.Value.
func (p *Popularity) Set(s string) error {
	kind, param, hasParam := strings.Cut(s, ":")
	switch kind {
	case "uniform":
		if hasParam {
			return fmt.Errorf("popularity %q: uniform takes no parameter", s)
		}
		*p = Popularity{Kind: kind}
		return nil
	case "zipf", "gamma":
		v, err := strconv.ParseFloat(param, 64)
		if !hasParam || err != nil || !(v > 0 && v <= 100) {
			return fmt.Errorf("popularity %q: want %s:N with N a number above 0 and at most 100", s, kind)
		}
		*p = Popularity{Kind: kind, Param: v}
		return nil
	}
	return fmt.Errorf("popularity %q: want zipf:S, gamma:K or uniform", s)
}

// sampler draws torrent indexes with the popularity's weights.
type sampler struct {
	cdf []float64 // cumulative weights, the last one 1
}

// newSampler builds a sampler over n torrents; r draws Gamma weights.
func newSampler(p Popularity, n int, r *rand.Rand) (*sampler, error) {
	w := make([]float64, n)
	for k := range w {
		switch p.Kind {
		case "zipf":
			w[k] = 1 / math.Pow(float64(k+1), p.Param)
		case "gamma":
			w[k] = gamma(r, p.Param)
		case "uniform", "":
			w[k] = 1
		default:
			return nil, fmt.Errorf("popularity %q: unknown kind", p.Kind)
		}
	}
	var sum float64
	for k := range w {
		sum += w[k]
		w[k] = sum
	}
	if !(sum > 0) {
		return nil, fmt.Errorf("popularity %s: weights add up to %g", p.String(), sum)
	}
	for k := range w {
		w[k] /= sum
	}
	w[n-1] = 1
	return &sampler{cdf: w}, nil
}

// draw returns a torrent index.
func (s *sampler) draw(r *rand.Rand) int {
	return min(sort.SearchFloat64s(s.cdf, r.Float64()), len(s.cdf)-1)
}

// gamma draws from Gamma(shape, 1) by Marsaglia and Tsang's method; a
// shape below 1 is boosted to shape+1 and scaled back by U^(1/shape).
func gamma(r *rand.Rand, shape float64) float64 {
	if shape < 1 {
		return gamma(r, shape+1) * math.Pow(r.Float64(), 1/shape)
	}
	d := shape - 1.0/3
	c := 1 / math.Sqrt(9*d)
	for {
		x := r.NormFloat64()
		v := 1 + c*x
		if v <= 0 {
			continue
		}
		v = v * v * v
		u := r.Float64()
		if u < 1-0.0331*x*x*x*x || math.Log(u) < 0.5*x*x+d*(1-v+math.Log(v)) {
			return d * v
		}
	}
}
