package k8s

import (
	"bytes"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	sigsjson "sigs.k8s.io/json"
	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	kyaml "sigs.k8s.io/kustomize/kyaml/yaml"
)

// overlays are the directories under overlays/ an operator applies.
var overlays = []string{"dev", "production", "production-redis-cluster"}

// rendered is one overlay built by kustomize and decoded into typed
// objects.
type rendered struct {
	overlay         string
	namespaces      []*corev1.Namespace
	deployments     []*appsv1.Deployment
	statefulSets    []*appsv1.StatefulSet
	services        []*corev1.Service
	configMaps      []*corev1.ConfigMap
	secrets         []*corev1.Secret
	autoscalers     []*autoscalingv2.HorizontalPodAutoscaler
	budgets         []*policyv1.PodDisruptionBudget
	networkPolicies []*networkingv1.NetworkPolicy
	serviceMonitors []*serviceMonitor
}

// serviceMonitor is the part of prometheus-operator's ServiceMonitor the
// manifests use; decoding is strict, so a field outside it fails the test
// rather than being ignored.
type serviceMonitor struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata"`
	Spec              struct {
		Selector  metav1.LabelSelector `json:"selector"`
		Endpoints []struct {
			Port     string `json:"port"`
			Path     string `json:"path"`
			Interval string `json:"interval,omitempty"`
		} `json:"endpoints"`
	} `json:"spec"`
}

var (
	renderMu    sync.Mutex
	renderCache = map[string]*rendered{}
)

// render builds overlays/name as `kubectl kustomize` would (default
// options: files only from below each kustomization) and decodes it,
// once per test process.
func render(t *testing.T, name string) *rendered {
	t.Helper()
	return renderDir(t, name, filepath.Join("overlays", name))
}

// renderTestdata builds testdata/name, a test-only variant of an overlay,
// once per test process.
func renderTestdata(t *testing.T, name string) *rendered {
	t.Helper()
	return renderDir(t, "testdata/"+name, filepath.Join("testdata", name))
}

func renderDir(t *testing.T, name, dir string) *rendered {
	t.Helper()
	renderMu.Lock()
	defer renderMu.Unlock()
	if r, ok := renderCache[dir]; ok {
		return r
	}
	r, err := build(dir)
	if err != nil {
		t.Fatalf("overlay %s: %v", name, err)
	}
	r.overlay = name
	renderCache[dir] = r
	return r
}

// build runs kustomize on dir and decodes every object it yields.
func build(dir string) (*rendered, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	m, err := k.Run(filesys.MakeFsOnDisk(), dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	r := &rendered{}
	for _, res := range m.Resources() {
		data, err := res.MarshalJSON()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", res.CurId(), err)
		}
		if err := r.add(res.GetApiVersion(), res.GetKind(), data); err != nil {
			return nil, fmt.Errorf("%s %s: %w", res.GetKind(), res.GetName(), err)
		}
	}
	return r, nil
}

// add decodes one object into the type its kind names. A kind the tests
// do not know, or an apiVersion other than the one checked, is an error.
func (r *rendered) add(apiVersion, kind string, data []byte) error {
	want := map[string]string{
		"Namespace":               "v1",
		"Service":                 "v1",
		"ConfigMap":               "v1",
		"Secret":                  "v1",
		"Deployment":              "apps/v1",
		"StatefulSet":             "apps/v1",
		"HorizontalPodAutoscaler": "autoscaling/v2",
		"PodDisruptionBudget":     "policy/v1",
		"NetworkPolicy":           "networking.k8s.io/v1",
		"ServiceMonitor":          "monitoring.coreos.com/v1",
	}[kind]
	if want == "" {
		return fmt.Errorf("kind %s: not one the tests check", kind)
	}
	if apiVersion != want {
		return fmt.Errorf("apiVersion %s: want %s", apiVersion, want)
	}
	switch kind {
	case "Namespace":
		return decodeInto(data, &r.namespaces)
	case "Service":
		return decodeInto(data, &r.services)
	case "ConfigMap":
		return decodeInto(data, &r.configMaps)
	case "Secret":
		return decodeInto(data, &r.secrets)
	case "Deployment":
		return decodeInto(data, &r.deployments)
	case "StatefulSet":
		return decodeInto(data, &r.statefulSets)
	case "HorizontalPodAutoscaler":
		return decodeInto(data, &r.autoscalers)
	case "PodDisruptionBudget":
		return decodeInto(data, &r.budgets)
	case "NetworkPolicy":
		return decodeInto(data, &r.networkPolicies)
	default:
		return decodeInto(data, &r.serviceMonitors)
	}
}

// decodeInto strictly decodes data into a new T and appends it to list.
func decodeInto[T any](data []byte, list *[]*T) error {
	v := new(T)
	if err := decodeStrict(data, v); err != nil {
		return err
	}
	*list = append(*list, v)
	return nil
}

// decodeStrict decodes JSON as the API server does in strict mode: field
// names match case-sensitively, and unknown or duplicate fields fail.
func decodeStrict(data []byte, v any) error {
	strict, err := sigsjson.UnmarshalStrict(data, v, sigsjson.DisallowDuplicateFields, sigsjson.DisallowUnknownFields)
	if err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if len(strict) > 0 {
		var b bytes.Buffer
		for _, e := range strict {
			fmt.Fprintf(&b, "; %v", e)
		}
		return fmt.Errorf("strict decode%s", b.String())
	}
	return nil
}

// workload is a Deployment's or StatefulSet's pod template with its owner.
type workload struct {
	kind, name string
	replicas   *int32
	selector   *metav1.LabelSelector
	template   *corev1.PodTemplateSpec
}

// workloads lists every pod template the overlay runs.
func (r *rendered) workloads() []workload {
	var w []workload
	for _, d := range r.deployments {
		w = append(w, workload{"Deployment", d.Name, d.Spec.Replicas, d.Spec.Selector, &d.Spec.Template})
	}
	for _, s := range r.statefulSets {
		w = append(w, workload{"StatefulSet", s.Name, s.Spec.Replicas, s.Spec.Selector, &s.Spec.Template})
	}
	return w
}

// workload returns the named workload, failing the test without it.
func (r *rendered) workload(t *testing.T, name string) workload {
	t.Helper()
	for _, w := range r.workloads() {
		if w.name == name {
			return w
		}
	}
	t.Fatalf("overlay %s: no workload %s", r.overlay, name)
	return workload{}
}

// service returns the named Service or nil.
func (r *rendered) service(name string) *corev1.Service {
	for _, s := range r.services {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// container returns the workload's only container of that name.
func (w workload) container(t *testing.T, name string) *corev1.Container {
	t.Helper()
	for i := range w.template.Spec.Containers {
		if c := &w.template.Spec.Containers[i]; c.Name == name {
			return c
		}
	}
	t.Fatalf("%s %s: no container %s", w.kind, w.name, name)
	return nil
}

// env returns the container's variable name, or nil.
func env(c *corev1.Container, name string) *corev1.EnvVar {
	for i := range c.Env {
		if c.Env[i].Name == name {
			return &c.Env[i]
		}
	}
	return nil
}

func TestEveryOverlayBuildsAndDecodesStrictly(t *testing.T) {
	for _, o := range overlays {
		r := render(t, o)
		if len(r.workloads()) == 0 {
			t.Errorf("overlay %s: no workloads", o)
		}
	}
}

func TestStrictDecodingRejectsMisspeltFields(t *testing.T) {
	for _, doc := range []string{
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"},"spec":{"externalTraficPolicy":"Local"}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"x"},"spec":{"ExternalTrafficPolicy":"Local"}}`,
		`{"apiVersion":"v1","kind":"Service","metadata":{"name":"x","name":"y"}}`,
	} {
		var s corev1.Service
		if err := decodeStrict([]byte(doc), &s); err == nil {
			t.Errorf("accepted %s", doc)
		}
	}
}

// yamlToJSON converts one YAML document, as kustomize reads it, to JSON.
func yamlToJSON(t *testing.T, doc []byte) []byte {
	t.Helper()
	n, err := kyaml.Parse(string(doc))
	if err != nil {
		t.Fatal(err)
	}
	j, err := n.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	return j
}
