//go:build race

package peerwire

const raceEnabled = true
