package k8s

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/bitorigin/bitorigin/internal/cli"
	"github.com/bitorigin/bitorigin/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testenv.RemoveBuilds(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// binary is one of ours that the manifests run, named like its container.
type binary struct {
	name, pkg, envPrefix string
	// sub is the subcommand the container runs, if any.
	sub string
	// drain is how long the binary may take to stop after SIGTERM, when no
	// flag says: the seeder's stopped announces (5s) then its admin
	// listener (5s).
	drain time.Duration
}

var binaries = []binary{
	{name: "tracker", pkg: "github.com/bitorigin/bitorigin/cmd/tracker", envPrefix: "TRACKER"},
	{name: "seeder", pkg: "github.com/bitorigin/bitorigin/cmd/seeder", envPrefix: "SEEDER", sub: "serve", drain: 10 * time.Second},
}

// flagHelp is what --help says about one flag; a variable the text names
// that is no flag's is kept under "env:NAME".
type flagHelp struct {
	def string // default value, "" when none is shown
	env string // environment variable
}

var (
	helpMu    sync.Mutex
	helpCache = map[string]map[string]flagHelp{}

	flagLine    = regexp.MustCompile(`^  --([a-z0-9-]+)`)
	defaultText = regexp.MustCompile(`\(default ([^)]*)\)$`)
	envLine     = regexp.MustCompile(`^\s+env ([A-Z0-9_]+)$`)
	envWord     = regexp.MustCompile(`\b(TRACKER|SEEDER)_[A-Z0-9_]+\b`)
)

// help builds the binary and returns its flags as --help lists them.
func (b binary) help(t *testing.T) map[string]flagHelp {
	t.Helper()
	helpMu.Lock()
	defer helpMu.Unlock()
	if h, ok := helpCache[b.name]; ok {
		return h
	}
	args := []string{"--help"}
	if b.sub != "" {
		args = []string{b.sub, "--help"}
	}
	var out bytes.Buffer
	cmd := exec.Command(testenv.Build(t, b.pkg), args...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s %s: %v\n%s", b.name, strings.Join(args, " "), err, out.String())
	}
	flags := map[string]flagHelp{}
	// Variables that are not flags (secrets) are named in the text.
	for _, v := range envWord.FindAllString(out.String(), -1) {
		flags["env:"+v] = flagHelp{env: v}
	}
	var cur string
	for line := range strings.Lines(out.String()) {
		line = strings.TrimRight(line, "\n")
		if m := flagLine.FindStringSubmatch(line); m != nil {
			cur = m[1]
			flags[cur] = flagHelp{env: cli.EnvName(b.envPrefix, cur)}
			continue
		}
		if cur == "" {
			continue
		}
		f := flags[cur]
		if m := envLine.FindStringSubmatch(line); m != nil {
			f.env = m[1]
		} else if m := defaultText.FindStringSubmatch(line); m != nil {
			f.def = m[1]
		}
		flags[cur] = f
	}
	if len(flags) < 5 {
		t.Fatalf("%s --help: found only %d flags in:\n%s", b.name, len(flags), out.String())
	}
	helpCache[b.name] = flags
	return flags
}

// setting returns the value the container gives a flag: its environment
// variable, an --flag=value argument, or else the binary's default.
func setting(t *testing.T, c *corev1.Container, b binary, flag string) string {
	t.Helper()
	f, ok := b.help(t)[flag]
	if !ok {
		t.Fatalf("%s has no --%s", b.name, flag)
	}
	for _, a := range c.Args {
		if v, ok := strings.CutPrefix(a, "--"+flag+"="); ok {
			return v
		}
	}
	if e := env(c, f.env); e != nil && e.ValueFrom == nil {
		return e.Value
	}
	return f.def
}

// listenPort is the port of a listening-address flag such as :6970.
func listenPort(t *testing.T, c *corev1.Container, b binary, flag string) int32 {
	t.Helper()
	addr := setting(t, c, b, flag)
	i := strings.LastIndex(addr, ":")
	p, err := strconv.ParseUint(addr[i+1:], 10, 16)
	if i < 0 || err != nil {
		t.Fatalf("%s --%s %q: no port", b.name, flag, addr)
	}
	return int32(p)
}

func TestManifestsUseOnlyFlagsAndVariablesTheBinariesHave(t *testing.T) {
	for _, b := range binaries {
		flags := b.help(t)
		envs := map[string]bool{}
		for _, f := range flags {
			envs[f.env] = true
		}
		for _, o := range overlays {
			c := render(t, o).workload(t, b.name).container(t, b.name)
			args := c.Args
			if b.sub != "" {
				if len(args) == 0 || args[0] != b.sub {
					t.Errorf("%s: %s: args %q do not start with %q", o, b.name, args, b.sub)
					continue
				}
				args = args[1:]
			}
			if len(c.Command) > 0 {
				t.Errorf("%s: %s: command %q overrides the image's entrypoint", o, b.name, c.Command)
			}
			for _, a := range args {
				name, _, _ := strings.Cut(strings.TrimPrefix(a, "--"), "=")
				if _, ok := flags[name]; !strings.HasPrefix(a, "--") || !ok {
					t.Errorf("%s: %s: argument %q is not one of its flags", o, b.name, a)
				}
			}
			for _, e := range c.Env {
				if strings.HasPrefix(e.Name, b.envPrefix+"_") && !envs[e.Name] {
					t.Errorf("%s: %s: %s is not a variable it reads", o, b.name, e.Name)
				}
			}
		}
	}
}

func TestContainerPortsAreTheOnesTheBinariesListenOn(t *testing.T) {
	type port struct {
		name, flag string
		proto      corev1.Protocol
	}
	want := map[string][]port{
		"tracker": {{"http", "http-addr", corev1.ProtocolTCP}, {"udp", "udp-addr", corev1.ProtocolUDP}, {"admin", "admin-addr", corev1.ProtocolTCP}},
		"seeder":  {{"peer", "listen", corev1.ProtocolTCP}, {"dht", "listen", corev1.ProtocolUDP}, {"admin", "admin-addr", corev1.ProtocolTCP}},
	}
	for _, o := range overlays {
		r := render(t, o)
		for _, b := range binaries {
			c := r.workload(t, b.name).container(t, b.name)
			if len(c.Ports) != len(want[b.name]) {
				t.Errorf("%s: %s: %d container ports, want %d", o, b.name, len(c.Ports), len(want[b.name]))
			}
			for _, p := range want[b.name] {
				if got, listen := containerPort(t, c, p.name, p.proto), listenPort(t, c, b, p.flag); got != listen {
					t.Errorf("%s: %s: port %s is %d, but --%s listens on %d", o, b.name, p.name, got, p.flag, listen)
				}
			}
		}
	}
}

func TestHelpParsingFindsTheDefaults(t *testing.T) {
	for _, tc := range []struct {
		b         binary
		flag, def string
		env       string
		wantFlags int
	}{
		{binaries[0], "admin-addr", ":6970", "TRACKER_ADMIN_ADDR", 20},
		{binaries[0], "shutdown-timeout", "10s", "TRACKER_SHUTDOWN_TIMEOUT", 20},
		{binaries[1], "admin-addr", ":6882", "SEEDER_ADMIN_ADDR", 10},
		{binaries[1], "listen", ":6881", "SEEDER_LISTEN", 10},
	} {
		h := tc.b.help(t)
		if f := h[tc.flag]; f.def != tc.def || f.env != tc.env || len(h) < tc.wantFlags {
			t.Errorf("%s --%s: parsed %+v from %d flags, want default %s and env %s", tc.b.name, tc.flag, f, len(h), tc.def, tc.env)
		}
	}
}
