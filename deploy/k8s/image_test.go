package k8s

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
)

// instruction is one Dockerfile instruction, continuation lines joined.
type instruction struct {
	cmd, args string
}

// stage is one FROM and what follows it.
type stage struct {
	image, name string
	body        []instruction
}

// parseDockerfile splits a Dockerfile into stages. It knows only what the
// tests need: comments, line continuations and FROM ... AS name.
func parseDockerfile(t *testing.T, path string) []stage {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var stages []stage
	var cur strings.Builder
	sc := bufio.NewScanner(f)
	flush := func() {
		line := strings.TrimSpace(cur.String())
		cur.Reset()
		if line == "" {
			return
		}
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			fields := strings.Fields(in.args)
			fields = slices.DeleteFunc(fields, func(s string) bool { return strings.HasPrefix(s, "--") })
			st := stage{image: fields[0]}
			if len(fields) == 3 && strings.EqualFold(fields[1], "AS") {
				st.name = fields[2]
			}
			stages = append(stages, st)
			return
		}
		if len(stages) == 0 {
			t.Fatalf("%s: %s before the first FROM", path, in.cmd)
		}
		stages[len(stages)-1].body = append(stages[len(stages)-1].body, in)
	}
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(strings.TrimSpace(line), "#") {
			continue
		}
		if s, ok := strings.CutSuffix(line, `\`); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		flush()
	}
	flush()
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return stages
}

var pinned = regexp.MustCompile(`^[a-z0-9./_-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$`)

func TestImagesAreStaticNonRootAndNeedNoShell(t *testing.T) {
	stages := parseDockerfile(t, "../../Dockerfile")
	byName := map[string]stage{}
	for _, s := range stages {
		byName[s.name] = s
		m := pinned.FindStringSubmatch(s.image)
		if m == nil || (m[1] == "" && m[2] == "") || m[1] == ":latest" {
			t.Errorf("stage %s: base %s is not pinned by tag or digest", s.name, s.image)
		}
	}
	build, ok := byName["build"]
	if !ok {
		t.Fatal("no build stage")
	}
	var buildCmd string
	for _, in := range build.body {
		if in.cmd == "RUN" && strings.Contains(in.args, "go build") {
			buildCmd = in.args
		}
	}
	for _, want := range []string{"CGO_ENABLED=0", "-trimpath", "./cmd/tracker", "./cmd/seeder"} {
		if !strings.Contains(buildCmd, want) {
			t.Errorf("build stage: go build lacks %s", want)
		}
	}
	goVersion := goModVersion(t)
	if !strings.HasPrefix(build.image, "golang:"+goVersion+".") && !strings.HasPrefix(build.image, "golang:"+goVersion+"-") {
		t.Errorf("build stage: %s, want the Go %s of go.mod", build.image, goVersion)
	}

	for _, b := range binaries {
		s, ok := byName[b.name]
		if !ok {
			t.Errorf("no %s stage (docker build --target %s)", b.name, b.name)
			continue
		}
		if !strings.HasPrefix(s.image, "gcr.io/distroless/static") && s.image != "scratch" {
			t.Errorf("%s: base %s, want distroless static or scratch", b.name, s.image)
		}
		var user, entry string
		for _, in := range s.body {
			switch in.cmd {
			case "RUN", "SHELL", "ONBUILD":
				t.Errorf("%s: %s in the final stage (nothing may need a shell)", b.name, in.cmd)
			case "USER":
				user = in.args
			case "ENTRYPOINT":
				entry = in.args
			case "CMD":
				var cmd []string
				if json.Unmarshal([]byte(in.args), &cmd) != nil {
					t.Errorf("%s: CMD %s is shell form", b.name, in.args)
				}
			}
		}
		var argv []string
		if err := json.Unmarshal([]byte(entry), &argv); err != nil || len(argv) != 1 || argv[0] != "/"+b.name {
			t.Errorf("%s: ENTRYPOINT %q, want [\"/%s\"] (exec form: no shell)", b.name, entry, b.name)
		}
		u, g, _ := strings.Cut(user, ":")
		id, err := strconv.Atoi(u)
		if err != nil || id == 0 {
			t.Errorf("%s: USER %q, want a numeric non-root user (runAsNonRoot can check only numbers)", b.name, user)
		}
		// The pods run as the image's user, so files it makes on volumes
		// belong to the same owner whichever way it is started.
		for _, o := range overlays {
			pod := render(t, o).workload(t, b.name).template.Spec.SecurityContext
			if pod.RunAsUser == nil || *pod.RunAsUser != int64(id) || pod.RunAsGroup == nil || strconv.FormatInt(*pod.RunAsGroup, 10) != g {
				t.Errorf("%s: %s pods do not run as the image's user %s", o, b.name, user)
			}
		}
	}
}

// goModVersion is go.mod's go line as major.minor.
func goModVersion(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindSubmatch(b)
	if m == nil {
		t.Fatal("go.mod: no go line")
	}
	return string(m[1])
}

func TestBuildContextLeavesOutWhatTheImageDoesNotNeed(t *testing.T) {
	b, err := os.ReadFile("../../.dockerignore")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(string(b))
	for _, want := range []string{".git", "bin"} {
		if !slices.Contains(lines, want) {
			t.Errorf(".dockerignore lacks %s", want)
		}
	}
	// Files the build embeds must stay in the context.
	for _, keep := range []string{"tracker/redisstore/announce.lua", "go.mod", "go.sum"} {
		for _, pat := range lines {
			if ok, _ := filepath.Match(pat, keep); ok || strings.HasPrefix(keep, pat+"/") {
				t.Errorf(".dockerignore %s drops %s, which the build needs", pat, keep)
			}
		}
	}
}

func TestMakeImagesBuildsBothTargets(t *testing.T) {
	b, err := os.ReadFile("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	_, recipe, ok := strings.Cut(string(b), "\nimages: ##")
	if !ok {
		t.Fatal("Makefile: no images target with a ## help line")
	}
	recipe, _, _ = strings.Cut(recipe, "\n\n")
	for _, b := range binaries {
		if !strings.Contains(recipe, "--target "+b.name) {
			t.Errorf("make images does not build --target %s", b.name)
		}
	}
}

func TestContentLoaderMountsTheFirstSeedersClaimOnItsNode(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("tools", "content-loader.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var pod corev1.Pod
	if err := decodeStrict(yamlToJSON(t, raw), &pod); err != nil {
		t.Fatalf("content-loader.yaml: %v", err)
	}
	r := render(t, "production")
	var sts string
	for _, s := range r.statefulSets {
		if s.Name == "seeder" {
			sts = s.Spec.VolumeClaimTemplates[0].Name + "-" + s.Name + "-0"
		}
	}
	var claim string
	for _, v := range pod.Spec.Volumes {
		if v.PersistentVolumeClaim != nil {
			claim = v.PersistentVolumeClaim.ClaimName
		}
	}
	if claim != sts {
		t.Errorf("content-loader mounts claim %q, seeder-0's is %q", claim, sts)
	}
	seeder := r.workload(t, "seeder").container(t, "seeder")
	c := pod.Spec.Containers[0]
	if len(c.VolumeMounts) != 1 || len(seeder.VolumeMounts) != 1 || c.VolumeMounts[0].MountPath != seeder.VolumeMounts[0].MountPath {
		t.Errorf("content-loader mounts %v, the seeder %v: keep the paths alike so the docs' paths work in both", c.VolumeMounts, seeder.VolumeMounts)
	}
	pod.Spec.Containers[0].LivenessProbe = &corev1.Probe{} // a helper that only sleeps needs none
	pod.Spec.Containers[0].ReadinessProbe = &corev1.Probe{}
	checkContainer(t, "content-loader", &pod.Spec, &pod.Spec.Containers[0])
	if a := pod.Spec.Affinity; a == nil || a.PodAffinity == nil || len(a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution) != 1 ||
		a.PodAffinity.RequiredDuringSchedulingIgnoredDuringExecution[0].LabelSelector.MatchLabels["statefulset.kubernetes.io/pod-name"] != "seeder-0" {
		t.Errorf("content-loader must run on seeder-0's node (ReadWriteOnce)")
	}
}
