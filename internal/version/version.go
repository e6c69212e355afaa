// Package version holds the build's version, set by the Makefile through
// -ldflags, and the name the project uses for itself on the wire.
package version

// Version is the release this binary was built from ("dev" for go build).
var Version = "dev"

// Name is the project's name as written in `created by` and client versions.
const Name = "bitorigin"
