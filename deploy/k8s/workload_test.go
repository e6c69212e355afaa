package k8s

import (
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

func TestEveryContainerHasProbesResourcesAndTheRestrictedSecurityContext(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		for _, w := range r.workloads() {
			spec := &w.template.Spec
			where := o + ": " + w.kind + " " + w.name
			if spec.HostNetwork || spec.HostPID || spec.HostIPC {
				t.Errorf("%s: uses the host's network, PID or IPC namespace", where)
			}
			if spec.AutomountServiceAccountToken == nil || *spec.AutomountServiceAccountToken {
				t.Errorf("%s: mounts a service account token it never uses", where)
			}
			if len(spec.InitContainers) > 0 {
				t.Errorf("%s: has init containers the tests do not check", where)
			}
			for i := range spec.Containers {
				checkContainer(t, where, spec, &spec.Containers[i])
			}
		}
	}
}

// checkContainer fails the test for a container without probes, requests
// and limits, or the restricted Pod Security settings.
func checkContainer(t *testing.T, where string, pod *corev1.PodSpec, c *corev1.Container) {
	t.Helper()
	where += " container " + c.Name
	if c.LivenessProbe == nil || c.ReadinessProbe == nil {
		t.Errorf("%s: needs liveness and readiness probes", where)
	}
	for _, res := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := c.Resources.Requests[res]; !ok {
			t.Errorf("%s: no %s request", where, res)
		}
		if _, ok := c.Resources.Limits[res]; !ok {
			t.Errorf("%s: no %s limit", where, res)
		}
	}
	if !strings.Contains(c.Image, ":") || strings.HasSuffix(c.Image, ":latest") {
		t.Errorf("%s: image %q has no tag or digest, or is :latest", where, c.Image)
	}
	sc := c.SecurityContext
	psc := pod.SecurityContext
	if sc == nil || psc == nil {
		t.Fatalf("%s: needs a pod and a container security context", where)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("%s: allowPrivilegeEscalation must be false", where)
	}
	if sc.Privileged != nil && *sc.Privileged {
		t.Errorf("%s: privileged", where)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("%s: readOnlyRootFilesystem must be true", where)
	}
	if sc.Capabilities == nil || len(sc.Capabilities.Add) > 0 ||
		len(sc.Capabilities.Drop) != 1 || sc.Capabilities.Drop[0] != "ALL" {
		t.Errorf("%s: capabilities must drop ALL and add none", where)
	}
	nonRoot := sc.RunAsNonRoot
	if nonRoot == nil {
		nonRoot = psc.RunAsNonRoot
	}
	if nonRoot == nil || !*nonRoot {
		t.Errorf("%s: runAsNonRoot must be true", where)
	}
	user := sc.RunAsUser
	if user == nil {
		user = psc.RunAsUser
	}
	if user == nil || *user == 0 {
		t.Errorf("%s: needs a numeric non-root runAsUser", where)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil {
		seccomp = psc.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("%s: seccomp profile must be RuntimeDefault", where)
	}
}

func TestGoBinariesTakeGOMEMLIMITFromTheirMemoryLimit(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		for _, name := range []string{"tracker", "seeder"} {
			c := r.workload(t, name).container(t, name)
			e := env(c, "GOMEMLIMIT")
			if e == nil || e.ValueFrom == nil || e.ValueFrom.ResourceFieldRef == nil {
				t.Errorf("%s: %s: GOMEMLIMIT must come from resourceFieldRef", o, name)
				continue
			}
			ref := e.ValueFrom.ResourceFieldRef
			if ref.Resource != "limits.memory" || ref.ContainerName != c.Name || !ref.Divisor.IsZero() {
				t.Errorf("%s: %s: GOMEMLIMIT from %+v, want this container's limits.memory in bytes", o, name, ref)
			}
		}
	}
}

func TestProbesAskTheAdminPortForHealthzAndReadyz(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		for _, b := range binaries {
			c := r.workload(t, b.name).container(t, b.name)
			admin := containerPort(t, c, "admin", corev1.ProtocolTCP)
			if want := listenPort(t, c, b, "admin-addr"); admin != want {
				t.Errorf("%s: %s: admin container port %d, but the binary listens on %d", o, b.name, admin, want)
			}
			for _, p := range []struct {
				probe *corev1.Probe
				path  string
			}{{c.LivenessProbe, "/healthz"}, {c.ReadinessProbe, "/readyz"}} {
				if p.probe == nil || p.probe.HTTPGet == nil {
					t.Errorf("%s: %s: want an HTTP probe of %s", o, b.name, p.path)
					continue
				}
				g := p.probe.HTTPGet
				port := int32(g.Port.IntValue())
				if g.Port.StrVal != "" {
					port = containerPort(t, c, g.Port.StrVal, corev1.ProtocolTCP)
				}
				if g.Path != p.path || port != admin {
					t.Errorf("%s: %s: probe asks %s on %d, want %s on the admin port %d", o, b.name, g.Path, port, p.path, admin)
				}
			}
		}
	}
}

func TestShutdownFitsInTheGracePeriod(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		for _, b := range binaries {
			w := r.workload(t, b.name)
			c := w.container(t, b.name)
			if c.Lifecycle == nil || c.Lifecycle.PreStop == nil || c.Lifecycle.PreStop.Sleep == nil {
				t.Errorf("%s: %s: needs a preStop sleep (the image has no shell)", o, b.name)
				continue
			}
			preStop := time.Duration(c.Lifecycle.PreStop.Sleep.Seconds) * time.Second
			if preStop < 5*time.Second {
				t.Errorf("%s: %s: preStop %s is too short for endpoints to drop the pod", o, b.name, preStop)
			}
			drain := b.drain
			if b.name == "tracker" {
				d, err := time.ParseDuration(setting(t, c, b, "shutdown-timeout"))
				if err != nil {
					t.Fatalf("%s: tracker: --shutdown-timeout: %v", o, err)
				}
				drain = d
			}
			grace := 30 * time.Second
			if g := w.template.Spec.TerminationGracePeriodSeconds; g != nil {
				grace = time.Duration(*g) * time.Second
			}
			if need := preStop + drain + 5*time.Second; grace < need {
				t.Errorf("%s: %s: grace period %s, want at least preStop %s + shutdown %s + 5s", o, b.name, grace, preStop, drain)
			}
		}
	}
}

func TestSelectorsMatchThePodsTheyMean(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		for _, w := range r.workloads() {
			if !selects(t, w.selector, w.template.Labels) {
				t.Errorf("%s: %s %s: selector %v does not match its pod labels %v", o, w.kind, w.name, w.selector, w.template.Labels)
			}
		}
		for _, s := range r.services {
			pods := r.podsMatching(labels.SelectorFromSet(s.Spec.Selector))
			if len(s.Spec.Selector) == 0 || len(pods) == 0 {
				t.Errorf("%s: Service %s selects no pods", o, s.Name)
				continue
			}
			for _, p := range s.Spec.Ports {
				for _, w := range pods {
					if !hasPort(w, p) {
						t.Errorf("%s: Service %s port %s: %s %s has no container port %s/%s", o, s.Name, p.Name, w.kind, w.name, p.TargetPort.String(), p.Protocol)
					}
				}
			}
		}
		for _, s := range r.statefulSets {
			if svc := r.service(s.Spec.ServiceName); svc == nil || svc.Spec.ClusterIP != corev1.ClusterIPNone {
				t.Errorf("%s: StatefulSet %s: serviceName %q is not a headless Service", o, s.Name, s.Spec.ServiceName)
			}
		}
		for _, h := range r.autoscalers {
			ref := h.Spec.ScaleTargetRef
			if ref.Kind != "Deployment" || r.deploymentNamed(ref.Name) == nil {
				t.Errorf("%s: HPA %s scales %s %s, not a Deployment here", o, h.Name, ref.Kind, ref.Name)
			}
		}
		for _, b := range r.budgets {
			if len(r.podsMatching(labelSelector(t, b.Spec.Selector))) == 0 {
				t.Errorf("%s: PodDisruptionBudget %s covers no pods", o, b.Name)
			}
		}
		for _, np := range r.networkPolicies {
			if len(r.podsMatching(labelSelector(t, &np.Spec.PodSelector))) == 0 {
				t.Errorf("%s: NetworkPolicy %s applies to no pods", o, np.Name)
			}
		}
		for _, m := range r.serviceMonitors {
			sel := labelSelector(t, &m.Spec.Selector)
			var found bool
			for _, s := range r.services {
				if !sel.Matches(labels.Set(s.Labels)) {
					continue
				}
				found = true
				for _, e := range m.Spec.Endpoints {
					if !servicePortNamed(s, e.Port) || e.Path != "/metrics" {
						t.Errorf("%s: ServiceMonitor %s scrapes %s%s, not a port of Service %s serving /metrics", o, m.Name, e.Port, e.Path, s.Name)
					}
				}
			}
			if !found {
				t.Errorf("%s: ServiceMonitor %s selects no Service", o, m.Name)
			}
		}
	}
}

func TestProductionRunsThreeTrackersSpreadOverNodes(t *testing.T) {
	for _, o := range []string{"production", "production-redis-cluster"} {
		r := render(t, o)
		w := r.workload(t, "tracker")
		if w.replicas != nil {
			t.Errorf("%s: tracker sets replicas, which every kubectl apply would reset under the autoscaler", o)
		}
		var min int32
		for _, h := range r.autoscalers {
			if h.Spec.ScaleTargetRef.Name == "tracker" && h.Spec.MinReplicas != nil {
				min = *h.Spec.MinReplicas
			}
		}
		if min < 3 {
			t.Errorf("%s: tracker autoscaler minReplicas %d, want 3 or more", o, min)
		}
		var budget bool
		for _, b := range r.budgets {
			budget = budget || labelSelector(t, b.Spec.Selector).Matches(labels.Set(w.template.Labels))
		}
		if !budget {
			t.Errorf("%s: no PodDisruptionBudget covers the tracker", o)
		}
		var spread bool
		for _, c := range w.template.Spec.TopologySpreadConstraints {
			spread = spread || (c.TopologyKey == "kubernetes.io/hostname" && c.WhenUnsatisfiable == corev1.DoNotSchedule &&
				selects(t, c.LabelSelector, w.template.Labels))
		}
		if !spread {
			t.Errorf("%s: trackers are not spread over nodes (hostname, DoNotSchedule)", o)
		}
	}
}

func TestDevRunsOneOfEach(t *testing.T) {
	r := render(t, "dev")
	for _, w := range r.workloads() {
		if w.replicas != nil && *w.replicas != 1 {
			t.Errorf("dev: %s %s has %d replicas", w.kind, w.name, *w.replicas)
		}
	}
	for _, h := range r.autoscalers {
		if h.Spec.MaxReplicas != 1 {
			t.Errorf("dev: autoscaler %s may grow to %d", h.Name, h.Spec.MaxReplicas)
		}
	}
	r.workload(t, "redis")
}

// selects reports whether a label selector matches a set of labels.
func selects(t *testing.T, sel *metav1.LabelSelector, set map[string]string) bool {
	t.Helper()
	return labelSelector(t, sel).Matches(labels.Set(set))
}

// labelSelector converts an API selector; an empty one would select
// everything, which no manifest here means, so it fails the test.
func labelSelector(t *testing.T, sel *metav1.LabelSelector) labels.Selector {
	t.Helper()
	if sel == nil || (len(sel.MatchLabels) == 0 && len(sel.MatchExpressions) == 0) {
		t.Fatalf("empty label selector")
	}
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("selector %v: %v", sel, err)
	}
	return s
}

// podsMatching returns the workloads whose pods the selector picks.
func (r *rendered) podsMatching(sel labels.Selector) []workload {
	var out []workload
	for _, w := range r.workloads() {
		if sel.Matches(labels.Set(w.template.Labels)) {
			out = append(out, w)
		}
	}
	return out
}

func (r *rendered) deploymentNamed(name string) *workload {
	for _, w := range r.workloads() {
		if w.kind == "Deployment" && w.name == name {
			return &w
		}
	}
	return nil
}

// hasPort reports whether the workload's containers serve a Service port's
// target with the same protocol.
func hasPort(w workload, p corev1.ServicePort) bool {
	for _, c := range w.template.Spec.Containers {
		for _, cp := range c.Ports {
			if cp.Protocol != p.Protocol {
				continue
			}
			if p.TargetPort.StrVal != "" && cp.Name == p.TargetPort.StrVal ||
				p.TargetPort.StrVal == "" && cp.ContainerPort == int32(p.TargetPort.IntValue()) {
				return true
			}
		}
	}
	return false
}

func servicePortNamed(s *corev1.Service, name string) bool {
	for _, p := range s.Spec.Ports {
		if p.Name == name {
			return true
		}
	}
	return false
}

// containerPort returns the number of the container's named port.
func containerPort(t *testing.T, c *corev1.Container, name string, proto corev1.Protocol) int32 {
	t.Helper()
	for _, p := range c.Ports {
		if p.Name == name && p.Protocol == proto {
			return p.ContainerPort
		}
	}
	t.Fatalf("container %s: no %s port named %s", c.Name, proto, name)
	return 0
}
