// Package k8s holds the Kubernetes manifests of the tracker, the seeder and
// a small Redis: a kustomize base, components and overlays. Its tests build
// every overlay with kustomize, decode each object strictly into its
// Kubernetes type and check it against the binaries' flags; docs/deploy.md
// says how to use them.
package k8s
