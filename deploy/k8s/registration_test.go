package k8s

import (
	"net/url"
	"strconv"
	"testing"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// registrationBuilds are the builds the registration checks run on: every
// overlay, and production with the component as docs/deploy.md enables it.
func registrationBuilds(t *testing.T) []*rendered {
	t.Helper()
	var out []*rendered
	for _, o := range overlays {
		out = append(out, render(t, o))
	}
	return append(out, renderTestdata(t, "production-registration"))
}

func TestSeedersRegisterWithTheTrackersTheyRunBeside(t *testing.T) {
	var with int
	for _, r := range registrationBuilds(t) {
		tracker := r.workload(t, "tracker")
		tc := tracker.container(t, "tracker")
		sc := r.workload(t, "seeder").container(t, "seeder")
		registerURL := setting(t, sc, binaries[1], "register-url")
		if !r.registers(t) {
			if registerURL != "" || env(sc, "SEEDER_REGISTER_TOKEN") != nil {
				t.Errorf("%s: the seeder registers torrents with trackers that take no registrations", r.overlay)
			}
			continue
		}
		with++
		// One token, the one the tracker checks.
		admin, register := env(tc, "TRACKER_ADMIN_TOKEN"), env(sc, "SEEDER_REGISTER_TOKEN")
		if admin == nil || admin.ValueFrom == nil || admin.ValueFrom.SecretKeyRef == nil ||
			register == nil || register.ValueFrom == nil || register.ValueFrom.SecretKeyRef == nil ||
			*admin.ValueFrom.SecretKeyRef != *register.ValueFrom.SecretKeyRef {
			t.Errorf("%s: TRACKER_ADMIN_TOKEN and SEEDER_REGISTER_TOKEN must come from one Secret key", r.overlay)
		}
		if setting(t, sc, binaries[1], "watch") != "true" {
			t.Errorf("%s: the seeder registers but does not watch its content folder", r.overlay)
		}
		if _, err := strconv.ParseBool(setting(t, tc, binaries[0], "registration")); err != nil {
			t.Errorf("%s: tracker --registration: %v", r.overlay, err)
		}
		checkRegisterURL(t, r, registerURL, tracker, listenPort(t, tc, binaries[0], "admin-addr"))
	}
	if with == 0 {
		t.Error("no build runs the registration component")
	}
	if !render(t, "dev").registers(t) {
		t.Error("dev: want the registration component, so that its tests run on an overlay")
	}
}

// checkRegisterURL fails the test unless raw is http://SERVICE:PORT of a
// cluster Service whose port reaches the tracker's admin listener, and
// only the trackers.
func checkRegisterURL(t *testing.T, r *rendered, raw string, tracker workload, admin int32) {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "http" || u.Path != "" {
		t.Errorf("%s: seeder --register-url %q: want http://SERVICE:PORT", r.overlay, raw)
		return
	}
	s := r.service(u.Hostname())
	if s == nil || s.Spec.Type != corev1.ServiceTypeClusterIP && s.Spec.Type != "" {
		t.Errorf("%s: seeder --register-url %q: no ClusterIP Service %s", r.overlay, raw, u.Hostname())
		return
	}
	for _, w := range r.podsMatching(labels.SelectorFromSet(s.Spec.Selector)) {
		if w.name != tracker.name {
			t.Errorf("%s: Service %s selects %s %s besides the trackers", r.overlay, s.Name, w.kind, w.name)
		}
	}
	var found bool
	for _, p := range s.Spec.Ports {
		if strconv.Itoa(int(p.Port)) != u.Port() {
			continue
		}
		found = true
		target := p.TargetPort
		if target.Type == intstr.String {
			target = intstr.FromInt32(containerPort(t, tracker.container(t, "tracker"), target.StrVal, p.Protocol))
		}
		if p.Protocol != corev1.ProtocolTCP || int32(target.IntValue()) != admin {
			t.Errorf("%s: seeder --register-url %q reaches tracker port %s, but the admin API listens on %d", r.overlay, raw, p.TargetPort.String(), admin)
		}
	}
	if !found {
		t.Errorf("%s: seeder --register-url %q: Service %s has no port %s", r.overlay, raw, s.Name, u.Port())
	}
}
