package k8s

import (
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

func TestTrackerServiceKeepsClientAddressesOnHTTPAndUDP(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		s := r.service("tracker")
		if s == nil {
			t.Fatalf("%s: no Service tracker", o)
		}
		if s.Spec.Type != corev1.ServiceTypeLoadBalancer || s.Spec.ExternalTrafficPolicy != corev1.ServiceExternalTrafficPolicyLocal {
			t.Errorf("%s: Service tracker is %s with externalTrafficPolicy %q; want LoadBalancer with Local, so the tracker sees client addresses",
				o, s.Spec.Type, s.Spec.ExternalTrafficPolicy)
		}
		ports := map[corev1.Protocol]corev1.ServicePort{}
		for _, p := range s.Spec.Ports {
			ports[p.Protocol] = p
		}
		tcp, udp := ports[corev1.ProtocolTCP], ports[corev1.ProtocolUDP]
		if len(s.Spec.Ports) != 2 || tcp.Port == 0 || tcp.Port != udp.Port {
			t.Errorf("%s: Service tracker ports %+v: want one TCP and one UDP on the same number", o, s.Spec.Ports)
		}
		if tcp.TargetPort != intstr.FromString("http") || udp.TargetPort != intstr.FromString("udp") {
			t.Errorf("%s: Service tracker targets %s and %s, want the http and udp container ports", o, tcp.TargetPort.String(), udp.TargetPort.String())
		}
		admin := r.service("tracker-admin")
		if admin == nil || admin.Spec.Type != corev1.ServiceTypeClusterIP && admin.Spec.Type != "" ||
			len(admin.Spec.Ports) != 1 || admin.Spec.Ports[0].TargetPort != intstr.FromString("admin") {
			t.Errorf("%s: want a ClusterIP Service tracker-admin on the admin port alone", o)
		}
		for _, s := range r.services {
			if s.Spec.Type == corev1.ServiceTypeClusterIP || s.Spec.Type == "" {
				continue
			}
			for _, p := range s.Spec.Ports {
				if p.TargetPort.StrVal == "admin" || p.Name == "admin" {
					t.Errorf("%s: %s Service %s exposes the admin port outside the cluster", o, s.Spec.Type, s.Name)
				}
			}
		}
	}
}

func TestTrackersShareOneSecretForUDPConnectionIDsAndRedis(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		c := r.workload(t, "tracker").container(t, "tracker")
		refs := map[string]*corev1.SecretKeySelector{}
		for _, name := range []string{"TRACKER_UDP_SECRET", "TRACKER_REDIS_PASSWORD"} {
			e := env(c, name)
			if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil {
				t.Errorf("%s: tracker: %s must come from a Secret", o, name)
				continue
			}
			refs[name] = e.ValueFrom.SecretKeyRef
		}
		if len(refs) != 2 {
			continue
		}
		secret := refs["TRACKER_UDP_SECRET"].Name
		if refs["TRACKER_REDIS_PASSWORD"].Name != secret {
			t.Errorf("%s: tracker reads two Secrets; keep one", o)
		}
		for _, w := range r.workloads() {
			if w.name != "redis" {
				continue
			}
			e := env(w.container(t, "redis"), "REDIS_PASSWORD")
			if e == nil || e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || *e.ValueFrom.SecretKeyRef != *refs["TRACKER_REDIS_PASSWORD"] {
				t.Errorf("%s: Redis does not take its password from the key the trackers use", o)
			}
		}
		if o != "dev" {
			continue
		}
		// dev generates the Secret; production expects one made by hand
		// (docs/deploy.md, checked by the docs test).
		var found bool
		for _, s := range r.secrets {
			if s.Name != secret {
				continue
			}
			found = true
			for _, ref := range refs {
				if len(s.Data[ref.Key]) < 16 {
					t.Errorf("dev: Secret %s key %s: want 16 bytes or more", secret, ref.Key)
				}
			}
		}
		if !found {
			t.Errorf("dev: no Secret %s", secret)
		}
	}
}

func TestRedisIsInTheClusterForDevAndManagedInProduction(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		c := r.workload(t, "tracker").container(t, "tracker")
		var redis bool
		for _, w := range r.workloads() {
			redis = redis || w.name == "redis"
		}
		rawURL := setting(t, c, binaries[0], "redis-url")
		addrs := setting(t, c, binaries[0], "redis-addrs")
		cluster := setting(t, c, binaries[0], "redis-cluster")
		switch o {
		case "dev":
			u, err := url.Parse(rawURL)
			if !redis || err != nil || u.Scheme != "redis" || r.service(u.Hostname()) == nil || u.Port() != "6379" {
				t.Errorf("dev: want the in-cluster Redis and the tracker pointed at its Service, got --redis-url %q", rawURL)
			}
		case "production":
			u, err := url.Parse(rawURL)
			if redis || err != nil || u.Scheme != "rediss" || r.service(u.Hostname()) != nil {
				t.Errorf("production: want no Redis in the cluster and a managed one over TLS, got --redis-url %q", rawURL)
			}
		case "production-redis-cluster":
			if redis || rawURL != "" || addrs == "" || cluster != "true" {
				t.Errorf("%s: want --redis-addrs with --redis-cluster and no --redis-url, got %q %q %q", o, rawURL, addrs, cluster)
			}
		}
	}
}

func TestSeederAnnouncesAnAddressPeersCanReach(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		var sts *workload
		for _, s := range r.statefulSets {
			if s.Name == "seeder" {
				w := r.workload(t, "seeder")
				sts = &w
				if len(s.Spec.VolumeClaimTemplates) != 1 {
					t.Fatalf("%s: seeder: want one volume claim template", o)
				}
				checkSeederStorage(t, o, w.container(t, "seeder"), s.Spec.VolumeClaimTemplates[0].Name)
			}
		}
		if sts == nil {
			t.Fatalf("%s: the seeder is not a StatefulSet", o)
		}
		c := sts.container(t, "seeder")
		ip := env(c, "SEEDER_ANNOUNCE_IP")
		if ip == nil || ip.ValueFrom == nil || ip.ValueFrom.FieldRef == nil {
			t.Fatalf("%s: seeder: SEEDER_ANNOUNCE_IP must be set from the pod's status", o)
		}
		var peer corev1.ContainerPort
		for _, p := range c.Ports {
			if p.Name == "peer" {
				peer = p
			}
		}
		field := ip.ValueFrom.FieldRef.FieldPath
		reachable := peer.ContainerPort
		switch {
		case field == "status.hostIP" && peer.HostPort != 0:
			reachable = peer.HostPort
		case field == "status.podIP" && peer.HostPort == 0:
		default:
			t.Errorf("%s: seeder announces %s with host port %d: want the pod IP, or the node's IP with a host port", o, field, peer.HostPort)
		}
		if got := setting(t, c, binaries[1], "announce-port"); got != itoa(reachable) {
			t.Errorf("%s: seeder announces port %s, but peers reach it on %d", o, got, reachable)
		}
		if strings.HasPrefix(o, "production") && field != "status.hostIP" {
			t.Errorf("%s: seeder announces its pod IP, which peers on the internet cannot reach", o)
		}
	}
}

// checkSeederStorage fails the test unless --data and --torrents are on
// the claim's volume.
func checkSeederStorage(t *testing.T, o string, c *corev1.Container, claim string) {
	t.Helper()
	var mount string
	for _, m := range c.VolumeMounts {
		if m.Name == claim && !m.ReadOnly {
			mount = m.MountPath
		}
	}
	if mount == "" {
		t.Fatalf("%s: seeder does not mount its claim %s writable", o, claim)
	}
	for _, flag := range []string{"data", "torrents"} {
		dir := setting(t, c, binaries[1], flag)
		if rel, err := filepath.Rel(mount, dir); err != nil || rel == "." || strings.HasPrefix(rel, "..") {
			t.Errorf("%s: seeder --%s %q is not below the claim mounted at %s", o, flag, dir, mount)
		}
	}
}

func TestNetworkPoliciesLetOnlyPrometheusToAdminPortsAndOnlyTrackersToRedis(t *testing.T) {
	prometheus := networkingv1.NetworkPolicyPeer{
		NamespaceSelector: &metav1.LabelSelector{MatchLabels: map[string]string{"kubernetes.io/metadata.name": "monitoring"}},
		PodSelector:       &metav1.LabelSelector{MatchLabels: map[string]string{"app.kubernetes.io/name": "prometheus"}},
	}
	r, err := build(filepath.Join("testdata", "dev-network-policy"))
	if err != nil {
		t.Fatal(err)
	}
	r.overlay = "dev with network policies"
	tracker := r.workload(t, "tracker").template.Labels
	isPrometheus := func(p networkingv1.NetworkPolicyPeer) bool {
		return p.IPBlock == nil && equalSelectors(p.NamespaceSelector, prometheus.NamespaceSelector) && equalSelectors(p.PodSelector, prometheus.PodSelector)
	}
	isTracker := func(p networkingv1.NetworkPolicyPeer) bool {
		return p.IPBlock == nil && p.NamespaceSelector == nil && p.PodSelector != nil && selects(t, p.PodSelector, tracker)
	}
	for _, tc := range []struct {
		workload, port string
		proto          corev1.Protocol
		only           func(networkingv1.NetworkPolicyPeer) bool // nil: anyone
	}{
		{"tracker", "http", corev1.ProtocolTCP, nil},
		{"tracker", "udp", corev1.ProtocolUDP, nil},
		{"tracker", "admin", corev1.ProtocolTCP, isPrometheus},
		{"seeder", "peer", corev1.ProtocolTCP, nil},
		{"seeder", "admin", corev1.ProtocolTCP, isPrometheus},
		{"redis", "redis", corev1.ProtocolTCP, isTracker},
	} {
		w := r.workload(t, tc.workload)
		c := w.template.Spec.Containers[0]
		number := containerPort(t, &c, tc.port, tc.proto)
		var rules []networkingv1.NetworkPolicyIngressRule
		for _, np := range r.networkPolicies {
			if selects(t, &np.Spec.PodSelector, w.template.Labels) && hasIngressType(np) {
				for _, rule := range np.Spec.Ingress {
					if rulePortsMatch(rule.Ports, tc.port, number, tc.proto) {
						rules = append(rules, rule)
					}
				}
			}
		}
		if len(rules) == 0 {
			t.Errorf("%s port %s: no ingress rule lets anyone in", tc.workload, tc.port)
		}
		var open bool
		for _, rule := range rules {
			open = open || len(rule.From) == 0
			if tc.only == nil {
				continue
			}
			for _, p := range rule.From {
				if !tc.only(p) {
					t.Errorf("%s port %s: a rule lets in %+v", tc.workload, tc.port, p)
				}
			}
		}
		if open != (tc.only == nil) {
			t.Errorf("%s port %s: open to everyone is %v, want %v", tc.workload, tc.port, open, tc.only == nil)
		}
	}
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

func equalSelectors(a, b *metav1.LabelSelector) bool {
	if a == nil || b == nil {
		return a == b
	}
	return len(a.MatchExpressions) == 0 && len(b.MatchExpressions) == 0 &&
		labels.Equals(a.MatchLabels, b.MatchLabels)
}

func itoa(n int32) string {
	return strconv.Itoa(int(n))
}
