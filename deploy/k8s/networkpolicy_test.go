package k8s

import (
	"slices"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
)

// client is a pod that opens a connection: its labels and its namespace.
type client struct {
	name      string
	namespace string
	labels    map[string]string
}

// admits reports whether the network policies let from reach the
// container port of to, as the NetworkPolicy API defines it: a pod no
// Ingress policy selects takes anything; one that some select takes what
// any rule of theirs lets in.
func (r *rendered) admits(t *testing.T, from client, to workload, port string, number int32, proto corev1.Protocol) bool {
	t.Helper()
	var isolated bool
	for _, np := range r.networkPolicies {
		if !hasIngressType(np) || !selects(t, &np.Spec.PodSelector, to.template.Labels) {
			continue
		}
		isolated = true
		for _, rule := range np.Spec.Ingress {
			if rulePortsMatch(rule.Ports, port, number, proto) && peersAdmit(t, rule.From, np.Namespace, from) {
				return true
			}
		}
	}
	return !isolated
}

// peersAdmit reports whether a rule's from list lets in c; policies is
// the namespace of the rule's policy.
func peersAdmit(t *testing.T, peers []networkingv1.NetworkPolicyPeer, policies string, c client) bool {
	t.Helper()
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.IPBlock != nil {
			t.Fatalf("ipBlock %+v: the tests do not evaluate address rules", p.IPBlock)
		}
		ns := c.namespace == policies
		if p.NamespaceSelector != nil {
			ns = matchesOrAll(t, p.NamespaceSelector, map[string]string{"kubernetes.io/metadata.name": c.namespace})
		}
		if ns && (p.PodSelector == nil || matchesOrAll(t, p.PodSelector, c.labels)) {
			return true
		}
	}
	return false
}

// matchesOrAll is selects for a peer's selectors, where an empty one
// means every namespace or pod.
func matchesOrAll(t *testing.T, sel *metav1.LabelSelector, set map[string]string) bool {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil {
		t.Fatalf("selector %v: %v", sel, err)
	}
	return s.Matches(labels.Set(set))
}

func hasIngressType(np *networkingv1.NetworkPolicy) bool {
	for _, ty := range np.Spec.PolicyTypes {
		if ty == networkingv1.PolicyTypeIngress {
			return true
		}
	}
	return len(np.Spec.PolicyTypes) == 0
}

// rulePortsMatch reports whether a rule's ports cover a container port.
func rulePortsMatch(ports []networkingv1.NetworkPolicyPort, name string, number int32, proto corev1.Protocol) bool {
	if len(ports) == 0 {
		return true
	}
	for _, p := range ports {
		pp := corev1.ProtocolTCP
		if p.Protocol != nil {
			pp = *p.Protocol
		}
		if pp != proto {
			continue
		}
		switch {
		case p.Port == nil,
			p.Port.StrVal == name && name != "",
			p.Port.StrVal == "" && p.EndPort == nil && int32(p.Port.IntValue()) == number,
			p.Port.StrVal == "" && p.EndPort != nil && int32(p.Port.IntValue()) <= number && number <= *p.EndPort:
			return true
		}
	}
	return false
}

// policed returns every build with network policies: the overlays that
// have them and the test-only variants, with and without registration.
func policed(t *testing.T) []*rendered {
	t.Helper()
	var out []*rendered
	for _, o := range overlays {
		if r := render(t, o); len(r.networkPolicies) > 0 {
			out = append(out, r)
		}
	}
	// dev-network-policy: the Redis policy, which production drops with
	// its Redis, against real pods.
	return append(out, renderTestdata(t, "dev-network-policy"), renderTestdata(t, "production-registration"))
}

// registers reports whether the overlay's trackers take registrations
// (components/registration).
func (r *rendered) registers(t *testing.T) bool {
	t.Helper()
	return setting(t, r.workload(t, "tracker").container(t, "tracker"), binaries[0], "registration") == "true"
}

func TestNetworkPoliciesLetOnlyPrometheusToAdminPortsAndOnlyTrackersToRedis(t *testing.T) {
	var with, without int
	for _, r := range policed(t) {
		if len(r.namespaces) != 1 {
			t.Fatalf("%s: %d namespaces, want the one the pods run in", r.overlay, len(r.namespaces))
		}
		ns := r.namespaces[0].Name
		clients := []client{
			{"prometheus", "monitoring", map[string]string{"app.kubernetes.io/name": "prometheus"}},
			{"a pod labelled prometheus outside monitoring", ns, map[string]string{"app.kubernetes.io/name": "prometheus"}},
			{"another pod", ns, map[string]string{"app.kubernetes.io/name": "other"}},
			{"another pod with the registration label", ns, map[string]string{"app.kubernetes.io/name": "other", "bitorigin/tracker-registration": "true"}},
			{"a seeder of another namespace", "elsewhere", map[string]string{"app.kubernetes.io/name": "seeder", "bitorigin/tracker-registration": "true"}},
		}
		for _, w := range r.workloads() {
			clients = append(clients, client{w.name, ns, w.template.Labels})
		}
		registers := r.registers(t)
		if registers {
			with++
		} else {
			without++
		}
		trackerAdmin := []string{"prometheus"}
		if registers {
			// The exception: seeders register torrents through the
			// token-protected admin API.
			trackerAdmin = append(trackerAdmin, "seeder")
		}
		for _, tc := range []struct {
			workload, port string
			proto          corev1.Protocol
			only           []string // nil: anyone
		}{
			{"tracker", "http", corev1.ProtocolTCP, nil},
			{"tracker", "udp", corev1.ProtocolUDP, nil},
			{"tracker", "admin", corev1.ProtocolTCP, trackerAdmin},
			{"seeder", "peer", corev1.ProtocolTCP, nil},
			{"seeder", "dht", corev1.ProtocolUDP, nil},
			{"seeder", "admin", corev1.ProtocolTCP, []string{"prometheus"}},
			{"redis", "redis", corev1.ProtocolTCP, []string{"tracker"}},
		} {
			if tc.workload == "redis" && !slices.ContainsFunc(r.workloads(), func(w workload) bool { return w.name == "redis" }) {
				continue // a managed Redis
			}
			w := r.workload(t, tc.workload)
			number := containerPort(t, &w.template.Spec.Containers[0], tc.port, tc.proto)
			for _, c := range clients {
				want := tc.only == nil || slices.Contains(tc.only, c.name)
				if got := r.admits(t, c, w, tc.port, number, tc.proto); got != want {
					t.Errorf("%s: %s reaches %s port %s: %v, want %v", r.overlay, c.name, tc.workload, tc.port, got, want)
				}
			}
		}
	}
	if with == 0 || without == 0 {
		t.Errorf("network policies checked with registration %d times and without %d: want both", with, without)
	}
}

func TestNetworkPolicyEvaluationFollowsTheAPI(t *testing.T) {
	tracker := workload{name: "tracker", template: &corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: map[string]string{"app": "tracker"}}}}
	seeder := client{"seeder", "ns", map[string]string{"app": "seeder"}}
	policy := func(from ...networkingv1.NetworkPolicyPeer) *networkingv1.NetworkPolicy {
		return &networkingv1.NetworkPolicy{
			ObjectMeta: metav1.ObjectMeta{Namespace: "ns"},
			Spec: networkingv1.NetworkPolicySpec{
				PodSelector: metav1.LabelSelector{MatchLabels: map[string]string{"app": "tracker"}},
				Ingress:     []networkingv1.NetworkPolicyIngressRule{{From: from}},
			},
		}
	}
	pods := func(l map[string]string) networkingv1.NetworkPolicyPeer {
		return networkingv1.NetworkPolicyPeer{PodSelector: &metav1.LabelSelector{MatchLabels: l}}
	}
	for _, tc := range []struct {
		name     string
		policies []*networkingv1.NetworkPolicy
		from     client
		want     bool
	}{
		{"no policy", nil, seeder, true},
		{"pod selector, same namespace", []*networkingv1.NetworkPolicy{policy(pods(seeder.labels))}, seeder, true},
		{"pod selector, other namespace", []*networkingv1.NetworkPolicy{policy(pods(seeder.labels))}, client{"x", "other", seeder.labels}, false},
		{"pod selector, other labels", []*networkingv1.NetworkPolicy{policy(pods(map[string]string{"app": "seeder", "extra": "1"}))}, seeder, false},
		{"empty namespace selector", []*networkingv1.NetworkPolicy{policy(networkingv1.NetworkPolicyPeer{NamespaceSelector: &metav1.LabelSelector{}})}, client{"x", "other", nil}, true},
		{"open rule", []*networkingv1.NetworkPolicy{policy()}, client{"x", "other", nil}, true},
	} {
		r := &rendered{networkPolicies: tc.policies}
		if got := r.admits(t, tc.from, tracker, "admin", 6970, corev1.ProtocolTCP); got != tc.want {
			t.Errorf("%s: admits %v, want %v", tc.name, got, tc.want)
		}
	}
}
