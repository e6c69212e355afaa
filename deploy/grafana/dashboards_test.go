package grafana

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/bitorigin/bitorigin/metrics"
	origin "github.com/bitorigin/bitorigin/seeder"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/dhtnode"
	"github.com/bitorigin/bitorigin/tracker"
	"github.com/bitorigin/bitorigin/tracker/memstore"
	"github.com/bitorigin/bitorigin/tracker/redisstore"
)

// dashboard is the part of Grafana's dashboard model the checks read.
type dashboard struct {
	UID        string  `json:"uid"`
	Title      string  `json:"title"`
	Panels     []panel `json:"panels"`
	Templating struct {
		List []variable `json:"list"`
	} `json:"templating"`
}

type panel struct {
	ID          int         `json:"id"`
	Type        string      `json:"type"`
	Title       string      `json:"title"`
	Datasource  *datasource `json:"datasource"`
	FieldConfig struct {
		Defaults struct {
			Unit string `json:"unit"`
		} `json:"defaults"`
	} `json:"fieldConfig"`
	Targets []target `json:"targets"`
	Panels  []panel  `json:"panels"` // a collapsed row's
}

type target struct {
	RefID      string      `json:"refId"`
	Expr       string      `json:"expr"`
	Instant    bool        `json:"instant"`
	Datasource *datasource `json:"datasource"`
}

type datasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type variable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Datasource *datasource     `json:"datasource"`
}

// Durations the interval variables become, each distinct so that a parsed
// range tells which variable it came from.
const (
	rateInterval = 17*time.Minute + 17*time.Second
	rangeVar     = 23*time.Minute + 23*time.Second
	interval     = 13*time.Minute + 13*time.Second
)

// builtins are the Grafana variables queries may use, as they are
// substituted.
var builtins = map[string]string{
	"__rate_interval": "17m17s",
	"__range":         "23m23s",
	"__interval":      "13m13s",
}

// varRef matches $name, ${name}, ${name:format} and [[name]].
var varRef = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// substitute replaces Grafana's variables in a query: interval variables
// by durations, dashboard variables by a plain value (they only ever sit
// inside label matchers). An unknown variable is an error.
func substitute(q string, vars map[string]bool) (string, []string) {
	var unknown []string
	out := varRef.ReplaceAllStringFunc(q, func(m string) string {
		s := varRef.FindStringSubmatch(m)
		name := s[1] + s[2] + s[3]
		if d, ok := builtins[name]; ok {
			return d
		}
		if !vars[name] {
			unknown = append(unknown, name)
		}
		return "x"
	})
	return out, unknown
}

// registeredNames returns the name of every series the tracker and the
// seeder can expose, from registries built as the binaries build them:
// histograms and summaries with their _bucket, _sum and _count.
func registeredNames(t *testing.T) map[string]bool {
	t.Helper()
	names := map[string]bool{}
	add := func(reg *prometheus.Registry) {
		families, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range families {
			n := f.GetName()
			names[n] = true
			switch f.GetType() {
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
			case dto.MetricType_SUMMARY:
				names[n+"_sum"], names[n+"_count"] = true, true
			}
		}
	}

	// The tracker on memory, with per-torrent metrics on, and on Redis.
	for _, kind := range []string{"memory", "redis"} {
		reg := metrics.NewRegistry("tracker")
		metrics.Handler(reg) // registers promhttp's own counters
		m, err := tracker.NewMetrics(reg)
		if err != nil {
			t.Fatal(err)
		}
		var store tracker.Store
		var c prometheus.Collector
		if kind == "memory" {
			ms, err := memstore.New(memstore.Config{})
			if err != nil {
				t.Fatal(err)
			}
			store, c = ms, ms.Collector()
		} else {
			client, err := redisstore.NewClient(redisstore.ClientConfig{URL: "redis://127.0.0.1:1"}) // never dialled
			if err != nil {
				t.Fatal(err)
			}
			rs, err := redisstore.New(redisstore.Config{Client: client})
			if err != nil {
				t.Fatal(err)
			}
			store, c = rs, rs.Collector()
		}
		t.Cleanup(func() { store.Close() })
		if err := reg.Register(c); err != nil {
			t.Fatal(err)
		}
		if kind == "memory" {
			tr, err := tracker.New(tracker.Config{Metrics: m}, store, nil)
			if err != nil {
				t.Fatal(err)
			}
			err = reg.Register(tr.TorrentCollector(func() []tracker.InfoHash { return []tracker.InfoHash{{1}} }))
			if err != nil {
				t.Fatal(err)
			}
		}
		add(reg)
	}

	// The seeder, serving one torrent.
	reg := metrics.NewRegistry("seeder")
	metrics.Handler(reg)
	m, err := origin.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	cm, err := content.NewMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "data"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "data", "file.bin"), make([]byte, 100000), 0o644); err != nil {
		t.Fatal(err)
	}
	torrents, err := content.Load(context.Background(), content.LoadConfig{
		DataDir: filepath.Join(dir, "data"), TorrentDir: filepath.Join(dir, "torrents"), Metrics: cm,
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tor := range torrents {
		t.Cleanup(func() { tor.Close() })
	}
	s, err := origin.New(origin.Config{Metrics: m, Offload: true}, torrents)
	if err != nil {
		t.Fatal(err)
	}
	if err := reg.Register(s.Collector()); err != nil {
		t.Fatal(err)
	}
	// The seeder's DHT node, on loopback, contacting nobody.
	node, err := dhtnode.Start(dhtnode.Config{Addr: "127.0.0.1:0", Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { node.Close() })
	add(reg)
	return names
}

func loadDashboards(t *testing.T) map[string]dashboard {
	t.Helper()
	files, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 3 {
		t.Fatalf("dashboards %v: want the tracker, seeder and release overview", files)
	}
	out := map[string]dashboard{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var d dashboard
		if err := json.Unmarshal(b, &d); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		out[f] = d
	}
	return out
}

// allPanels flattens rows, collapsed or not.
func allPanels(ps []panel) []panel {
	var out []panel
	for _, p := range ps {
		out = append(out, p)
		out = append(out, allPanels(p.Panels)...)
	}
	return out
}

// isDatasourceVar reports whether uid is a reference to variable name.
func isDatasourceVar(ds *datasource, name string) bool {
	return ds != nil && (ds.UID == "${"+name+"}" || ds.UID == "$"+name)
}

// checkQuery parses one query and returns what is wrong with the metrics
// it names and the ranges of its rate functions. Instant queries may use
// $__range there: a stat over the dashboard's time range.
func checkQuery(q string, instant bool, vars, known map[string]bool) []string {
	var problems []string
	sub, unknown := substitute(q, vars)
	for _, u := range unknown {
		problems = append(problems, fmt.Sprintf("unknown variable $%s in %q", u, q))
	}
	expr, err := parser.ParseExpr(sub)
	if err != nil {
		return append(problems, fmt.Sprintf("%q does not parse: %v", q, err))
	}
	parser.Inspect(expr, func(n parser.Node, _ []parser.Node) error {
		switch n := n.(type) {
		case *parser.VectorSelector:
			name := n.Name
			for _, m := range n.LabelMatchers {
				if m.Name == "__name__" {
					name = m.Value
				}
			}
			if !known[name] {
				problems = append(problems, fmt.Sprintf("%s is registered by neither the tracker nor the seeder (query %q)", name, q))
			}
		case *parser.Call:
			switch n.Func.Name {
			case "rate", "irate", "increase":
				ms, ok := n.Args[0].(*parser.MatrixSelector)
				switch {
				case !ok:
					problems = append(problems, fmt.Sprintf("%s of a subquery in %q", n.Func.Name, q))
				case ms.Range == rateInterval, instant && ms.Range == rangeVar:
				default:
					problems = append(problems, fmt.Sprintf("%s without $__rate_interval in %q", n.Func.Name, q))
				}
			}
		}
		return nil
	})
	return problems
}

// reportQuery checks one query and fails t with each problem.
func reportQuery(t *testing.T, where, q string, instant bool, vars, known map[string]bool) {
	t.Helper()
	for _, p := range checkQuery(q, instant, vars, known) {
		t.Errorf("%s: %s", where, p)
	}
}

// labelValuesQuery matches the label_values(selector, label) form of a
// variable query; the selector is PromQL.
var labelValuesQuery = regexp.MustCompile(`^\s*label_values\((.+),\s*\w+\s*\)\s*$`)

func TestDashboardsQueryOnlyRegisteredMetricsAndFollowConventions(t *testing.T) {
	known := registeredNames(t)
	uids := map[string]string{}
	dashboards := loadDashboards(t)
	for _, want := range []string{"tracker.json", "seeder.json", "release.json"} {
		if _, ok := dashboards[want]; !ok {
			t.Errorf("no %s", want)
		}
	}
	for file, d := range dashboards {
		if d.UID == "" || d.Title == "" {
			t.Errorf("%s: uid %q, title %q: want both", file, d.UID, d.Title)
		}
		if other, dup := uids[d.UID]; dup {
			t.Errorf("%s: uid %q already used by %s", file, d.UID, other)
		}
		uids[d.UID] = file

		vars := map[string]bool{}
		dsVar := ""
		for _, v := range d.Templating.List {
			vars[v.Name] = true
			if v.Type == "datasource" {
				dsVar = v.Name
			}
		}
		if dsVar == "" {
			t.Errorf("%s: no data source variable", file)
			continue
		}
		for _, v := range d.Templating.List {
			if v.Type != "query" {
				continue
			}
			where := file + ": variable " + v.Name
			if !isDatasourceVar(v.Datasource, dsVar) {
				t.Errorf("%s: data source %+v, want $%s", where, v.Datasource, dsVar)
			}
			var q struct {
				Query string `json:"query"`
			}
			if err := json.Unmarshal(v.Query, &q); err != nil {
				if err := json.Unmarshal(v.Query, &q.Query); err != nil {
					t.Errorf("%s: query %s: %v", where, v.Query, err)
					continue
				}
			}
			if m := labelValuesQuery.FindStringSubmatch(q.Query); m != nil {
				q.Query = m[1]
			}
			reportQuery(t, where, q.Query, false, vars, known)
		}

		panelIDs := map[int]bool{}
		for _, p := range allPanels(d.Panels) {
			where := file + ": panel " + strings.TrimSpace(p.Title)
			if panelIDs[p.ID] {
				t.Errorf("%s: id %d used twice", where, p.ID)
			}
			panelIDs[p.ID] = true
			if p.Type == "row" {
				continue // a row has no queries and no unit
			}
			if !isDatasourceVar(p.Datasource, dsVar) {
				t.Errorf("%s: data source %+v, want $%s", where, p.Datasource, dsVar)
			}
			if p.FieldConfig.Defaults.Unit == "" {
				t.Errorf("%s: no unit", where)
			}
			if len(p.Targets) == 0 {
				t.Errorf("%s: no query", where)
			}
			for _, tg := range p.Targets {
				if tg.Datasource != nil && !isDatasourceVar(tg.Datasource, dsVar) {
					t.Errorf("%s, query %s: data source %+v, want $%s", where, tg.RefID, tg.Datasource, dsVar)
				}
				reportQuery(t, where+", query "+tg.RefID, tg.Expr, tg.Instant, vars, known)
			}
		}
	}
}

// TestDashboardCheckCatchesMistakes makes sure the checks above fail where
// they should: a renamed metric, a fixed rate range, an unknown variable.
func TestDashboardCheckCatchesMistakes(t *testing.T) {
	known := map[string]bool{"bitorigin_seeder_uploaded_bytes_total": true}
	vars := map[string]bool{"instance": true}
	for _, q := range []string{
		`rate(bitorigin_seeder_upload_bytes_total[$__rate_interval])`,
		`rate(bitorigin_seeder_uploaded_bytes_total[5m])`,
		`rate(bitorigin_seeder_uploaded_bytes_total{instance=~"$instnace"}[$__rate_interval])`,
		`increase(bitorigin_seeder_uploaded_bytes_total[$__range])`, // not instant
		`sum(rate(bitorigin_seeder_uploaded_bytes_total[$__rate_interval])`,
	} {
		if len(checkQuery(q, false, vars, known)) == 0 {
			t.Errorf("%q passed the checks", q)
		}
	}
	for _, q := range []string{
		`sum by (name) (rate(bitorigin_seeder_uploaded_bytes_total{instance=~"$instance"}[$__rate_interval]))`,
		`sum(increase(bitorigin_seeder_uploaded_bytes_total{instance=~"${instance:regex}"}[$__range]))`,
	} {
		if p := checkQuery(q, true, vars, known); len(p) > 0 {
			t.Errorf("%q: %v", q, p)
		}
	}
}
