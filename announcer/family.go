package announcer

import (
	"errors"
	"net/netip"
	"net/url"
	"syscall"
)

// Family is the address family an announce goes over (BEP 7): a tracker
// learns a peer's IPv4 and IPv6 addresses only from announces over each.
type Family int

// Families. FamilyAny lets the system pick, as a plain client does.
const (
	FamilyAny Family = iota
	FamilyIPv4
	FamilyIPv6
)

// String is "ipv4", "ipv6" or "any".
func (f Family) String() string {
	switch f {
	case FamilyIPv4:
		return "ipv4"
	case FamilyIPv6:
		return "ipv6"
	}
	return "any"
}

// network returns the Go network name of kind ("tcp", "udp", "ip") in f.
func (f Family) network(kind string) string {
	switch f {
	case FamilyIPv4:
		return kind + "4"
	case FamilyIPv6:
		return kind + "6"
	}
	return kind
}

// has reports whether a is of family f.
func (f Family) has(a netip.Addr) bool {
	switch f {
	case FamilyIPv4:
		return a.Unmap().Is4()
	case FamilyIPv6:
		return a.Is6() && !a.Is4In6()
	}
	return true
}

// ErrNoRoute is returned (wrapped) for a tracker that cannot be reached in
// the announce's family: its host has no address of the family, or this
// machine has no route to it. An announce loop does not warn about it: most
// trackers have no IPv6 address, and many machines no IPv6 route.
var ErrNoRoute = errors.New("tracker not reachable in this address family")

// usable reports whether tracker URL u can be announced to in family f:
// a literal address of the other family cannot.
func usable(u *url.URL, f Family) bool {
	a, err := netip.ParseAddr(u.Hostname())
	return err != nil || f.has(a)
}

// unreachable reports whether err says there is no route: the family has
// no address here, or no route to the tracker.
func unreachable(err error) bool {
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL) ||
		errors.Is(err, syscall.EAFNOSUPPORT) || errors.Is(err, syscall.EHOSTUNREACH)
}
