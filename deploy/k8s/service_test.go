package k8s

import (
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
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
		// With the registration component, the admin token too.
		if e := env(c, "TRACKER_ADMIN_TOKEN"); e != nil {
			if e.ValueFrom == nil || e.ValueFrom.SecretKeyRef == nil || e.ValueFrom.SecretKeyRef.Name != secret {
				t.Errorf("%s: tracker: TRACKER_ADMIN_TOKEN must come from Secret %s", o, secret)
			} else {
				refs["TRACKER_ADMIN_TOKEN"] = e.ValueFrom.SecretKeyRef
			}
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
		var peer, dht corev1.ContainerPort
		for _, p := range c.Ports {
			switch p.Name {
			case "peer":
				peer = p
			case "dht":
				dht = p
			}
		}
		// get_peers answers and port messages give the announced address:
		// the DHT node must be reachable there too.
		if dht.HostPort != peer.HostPort || dht.Protocol != corev1.ProtocolUDP {
			t.Errorf("%s: seeder: DHT port %+v, peer port %+v: want UDP on the same host port", o, dht, peer)
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

func itoa(n int32) string {
	return strconv.Itoa(int(n))
}
