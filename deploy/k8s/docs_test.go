package k8s

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
)

// docCommands returns the commands in docs/deploy.md's sh code blocks,
// continuation lines joined.
func docCommands(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../docs/deploy.md")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	var in bool
	var cur string
	for line := range strings.Lines(string(b)) {
		line = strings.TrimRight(line, "\n")
		switch {
		case strings.HasPrefix(line, "```sh"):
			in = true
		case strings.HasPrefix(line, "```"):
			in = false
		case in && strings.HasSuffix(line, `\`):
			cur += strings.TrimSuffix(line, `\`)
		case in && strings.TrimSpace(line) != "" && !strings.HasPrefix(strings.TrimSpace(line), "#"):
			cmds = append(cmds, strings.TrimSpace(cur+line))
			cur = ""
		}
	}
	if len(cmds) < 10 {
		t.Fatalf("docs/deploy.md: only %d commands found", len(cmds))
	}
	return cmds
}

// words splits a command line the way a shell would for the simple
// quoting the docs use, \" and \\ inside double quotes included.
func words(cmd string) []string {
	var out []string
	var cur strings.Builder
	var quote rune
	var escaped bool
	depth := 0
	for _, r := range cmd {
		switch {
		case escaped:
			if r != '"' && r != '\\' && r != '$' {
				cur.WriteRune('\\')
			}
			cur.WriteRune(r)
			escaped = false
		case quote == '"' && r == '\\':
			escaped = true
		case quote != 0 && r == quote && depth == 0:
			quote = 0
		case quote != 0:
			if r == '(' {
				depth++
			} else if r == ')' {
				depth--
			}
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote = r
		case r == ' ':
			if cur.Len() > 0 {
				out = append(out, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		out = append(out, cur.String())
	}
	return out
}

func TestEveryCommandInTheDeployDocIsChecked(t *testing.T) {
	namespaces := map[string]string{} // namespace -> first overlay using it
	for _, o := range overlays {
		for _, ns := range render(t, o).namespaces {
			if _, ok := namespaces[ns.Name]; !ok {
				namespaces[ns.Name] = o
			}
		}
	}
	for _, cmd := range docCommands(t) {
		w := words(cmd)
		switch w[0] {
		case "make":
			checkMakeCommand(t, cmd, w)
		case "go":
			checkGoTestCommand(t, cmd, w)
		case "kubectl":
			checkKubectlCommand(t, cmd, w, namespaces)
		default:
			t.Errorf("docs: %q: not a command the tests check", cmd)
		}
	}
}

func checkMakeCommand(t *testing.T, cmd string, w []string) {
	t.Helper()
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range w[1:] {
		if strings.Contains(a, "=") {
			if name, _, _ := strings.Cut(a, "="); !strings.Contains(string(b), "$("+name+")") {
				t.Errorf("docs: %q: the Makefile does not use %s", cmd, name)
			}
			continue
		}
		if !strings.Contains(string(b), "\n"+a+": ##") {
			t.Errorf("docs: %q: no make target %s", cmd, a)
		}
	}
}

var testFunc = regexp.MustCompile(`(?m)^func (Test\w+)\(`)

func checkGoTestCommand(t *testing.T, cmd string, w []string) {
	t.Helper()
	if len(w) < 3 || w[1] != "test" || w[2] != "./deploy/k8s" {
		t.Errorf("docs: %q: want go test ./deploy/k8s", cmd)
		return
	}
	var names []string
	files, _ := filepath.Glob("*_test.go")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range testFunc.FindAllStringSubmatch(string(b), -1) {
			names = append(names, m[1])
		}
	}
	for i, a := range w[3:] {
		switch {
		case a == "-run" && 3+i+1 < len(w):
			re := regexp.MustCompile(w[3+i+1])
			if !slices.ContainsFunc(names, re.MatchString) {
				t.Errorf("docs: %q: -run matches no test", cmd)
			}
		case a == "-update" || a == "-run" || w[3+i-1] == "-run":
		default:
			t.Errorf("docs: %q: flag %s is not one the tests know", cmd, a)
		}
	}
}

// kinds maps the kubectl resource words the docs use to a check that the
// named object exists in the overlay.
var kinds = map[string]func(r *rendered, name string) bool{
	"deployment": func(r *rendered, name string) bool { return r.deploymentNamed(name) != nil },
	"statefulset": func(r *rendered, name string) bool {
		return slices.ContainsFunc(r.statefulSets, func(s *appsv1.StatefulSet) bool { return s.Name == name })
	},
	"service": func(r *rendered, name string) bool { return r.service(name) != nil },
	"hpa": func(r *rendered, name string) bool {
		return slices.ContainsFunc(r.autoscalers, func(h *autoscalingv2.HorizontalPodAutoscaler) bool { return h.Name == name })
	},
	"pod": func(r *rendered, name string) bool {
		if name == "content-loader" {
			return true // tools/content-loader.yaml, checked by its own test
		}
		sts, ordinal, ok := cutLast(name, "-")
		return ok && regexp.MustCompile(`^\d+$`).MatchString(ordinal) &&
			slices.ContainsFunc(r.statefulSets, func(s *appsv1.StatefulSet) bool { return s.Name == sts })
	},
}

func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}

func checkKubectlCommand(t *testing.T, cmd string, w []string, namespaces map[string]string) {
	t.Helper()
	overlay := ""
	var args []string
	for i := 1; i < len(w); i++ {
		a := w[i]
		switch {
		case a == "-n" || a == "--namespace":
			i++
			o, ok := namespaces[w[i]]
			if !ok {
				t.Errorf("docs: %q: namespace %s is no overlay's", cmd, w[i])
			}
			overlay = o
		case a == "-k" || a == "kustomize":
			i++
			o, ok := strings.CutPrefix(w[i], "deploy/k8s/overlays/")
			if !ok || !slices.Contains(overlays, o) {
				t.Errorf("docs: %q: %s is not an overlay the tests build", cmd, w[i])
			}
			overlay = o
		case a == "-f":
			i++
			if !strings.HasPrefix(w[i], "deploy/k8s/tools/") {
				t.Errorf("docs: %q: %s is not a file the tests check", cmd, w[i])
			}
			if _, err := os.Stat(filepath.Join("../..", w[i])); err != nil {
				t.Errorf("docs: %q: %v", cmd, err)
			}
		default:
			args = append(args, a)
		}
	}
	if len(args) >= 2 && args[0] == "create" && args[1] == "namespace" {
		if len(args) != 3 || namespaces[args[2]] == "" {
			t.Errorf("docs: %q: not an overlay's namespace", cmd)
		}
		return
	}
	if overlay == "" {
		t.Errorf("docs: %q: names no overlay or namespace of one", cmd)
		return
	}
	r := render(t, overlay)
	if len(args) >= 3 && args[0] == "create" && args[1] == "secret" {
		checkSecretCommand(t, cmd, r, args[2:])
		return
	}
	if len(args) >= 2 && args[0] == "patch" {
		if name, ok := strings.CutPrefix(args[1], "secret/"); ok {
			checkSecretPatch(t, cmd, overlay, name, args[2:])
			return
		}
	}
	for _, a := range args {
		if strings.HasPrefix(a, "-") || strings.HasPrefix(a, "./") {
			continue // flags, and local files such as the content to copy
		}
		if kind, name, ok := strings.Cut(a, "/"); ok && !strings.Contains(name, "/") {
			check, known := kinds[kind]
			if !known || !check(r, name) {
				t.Errorf("docs: %q: %s is not in the %s overlay", cmd, a, overlay)
			}
		}
		if pod, path, ok := strings.Cut(a, ":/"); ok && pod == "content-loader" && !strings.HasPrefix("/"+path, "/var/lib/bitorigin/") {
			t.Errorf("docs: %q: %s is not on the seeder's volume", cmd, a)
		}
	}
}

// checkSecretCommand fails the test unless `create secret generic NAME
// --from-literal=KEY=...` makes exactly the Secret the trackers read.
func checkSecretCommand(t *testing.T, cmd string, r *rendered, args []string) {
	t.Helper()
	if args[0] != "generic" || len(args) < 2 {
		t.Errorf("docs: %q: want create secret generic NAME", cmd)
		return
	}
	name := args[1]
	var keys []string
	for _, a := range args[2:] {
		lit, ok := strings.CutPrefix(a, "--from-literal=")
		if !ok {
			t.Errorf("docs: %q: %s is not --from-literal", cmd, a)
			continue
		}
		k, _, _ := strings.Cut(lit, "=")
		keys = append(keys, k)
	}
	read := secretKeys(r)
	for other := range read {
		if other != name {
			t.Errorf("docs: %q: the workloads read Secret %s too", cmd, other)
		}
	}
	slices.Sort(keys)
	if want := read[name]; !slices.Equal(keys, want) {
		t.Errorf("docs: %q: keys %v, the workloads read %v", cmd, keys, want)
	}
}

// secretKeys returns the keys the overlay's containers read, sorted, by
// Secret name.
func secretKeys(r *rendered) map[string][]string {
	keys := map[string][]string{}
	for _, w := range r.workloads() {
		for _, c := range w.template.Spec.Containers {
			for _, e := range c.Env {
				if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
					continue
				}
				ref := e.ValueFrom.SecretKeyRef
				if !slices.Contains(keys[ref.Name], ref.Key) {
					keys[ref.Name] = append(keys[ref.Name], ref.Key)
				}
			}
		}
	}
	for _, k := range keys {
		slices.Sort(k)
	}
	return keys
}

// checkSecretPatch fails the test unless `patch secret/NAME -p JSON` adds
// to the Secret the overlay reads exactly the keys the registration
// component needs besides: the one change to a Secret made by hand that
// the docs describe. testdata/OVERLAY-registration is the overlay with
// the component.
func checkSecretPatch(t *testing.T, cmd, overlay, name string, args []string) {
	t.Helper()
	if len(args) != 2 || args[0] != "-p" {
		t.Errorf("docs: %q: want patch secret/NAME -p JSON", cmd)
		return
	}
	var patch corev1.Secret
	if err := decodeStrict([]byte(args[1]), &patch); err != nil {
		t.Errorf("docs: %q: %v", cmd, err)
		return
	}
	if len(patch.Data) > 0 || len(patch.StringData) == 0 {
		t.Errorf("docs: %q: want stringData keys only", cmd)
	}
	var keys []string
	for k := range patch.StringData {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	if _, err := os.Stat(filepath.Join("testdata", overlay+"-registration")); err != nil {
		t.Errorf("docs: %q: no testdata/%s-registration to check it against", cmd, overlay)
		return
	}
	before := secretKeys(render(t, overlay))[name]
	var want []string
	for _, k := range secretKeys(renderTestdata(t, overlay+"-registration"))[name] {
		if !slices.Contains(before, k) {
			want = append(want, k)
		}
	}
	if len(before) == 0 || !slices.Equal(keys, want) {
		t.Errorf("docs: %q: adds %v to Secret %s, the registration component needs %v besides %v", cmd, keys, name, want, before)
	}
}
