package main

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"

	"github.com/bitorigin/bitorigin/internal/cli"
)

// listFlag collects every use of a repeatable flag; each use may hold
// several comma-separated values.
type listFlag [][]string

func (l *listFlag) String() string {
	if l == nil {
		return ""
	}
	var uses []string
	for _, use := range *l {
		uses = append(uses, strings.Join(use, ","))
	}
	return strings.Join(uses, " ")
}

func (l *listFlag) Set(s string) error {
	var use []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" {
			use = append(use, v)
		}
	}
	if len(use) == 0 {
		return errors.New("empty value")
	}
	*l = append(*l, use)
	return nil
}

func (l listFlag) flat() []string {
	var all []string
	for _, use := range l {
		all = append(all, use...)
	}
	return all
}

// sizeFlag is a byte count written as digits with an optional binary
// suffix: 262144, 256K, 256KiB, 1M, 1MiB, 1G.
type sizeFlag int64

func (s *sizeFlag) String() string {
	if s == nil || *s == 0 {
		return ""
	}
	return strconv.FormatInt(int64(*s), 10)
}

func (s *sizeFlag) Set(v string) error {
	n, err := cli.ParseSize(v)
	if err != nil {
		return err
	}
	*s = sizeFlag(n)
	return nil
}

// parsePrefixes reads a comma-separated list of CIDR prefixes or bare
// addresses (a prefix of one); "none" is the empty, non-nil list.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	out := []netip.Prefix{}
	if strings.TrimSpace(s) == "none" {
		return out, nil
	}
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v == "" {
			continue
		}
		if a, err := netip.ParseAddr(v); err == nil {
			out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
			continue
		}
		p, err := netip.ParsePrefix(v)
		if err != nil {
			return nil, fmt.Errorf("%q: want CIDR prefixes or addresses separated by commas, or none", v)
		}
		out = append(out, p.Masked())
	}
	if len(out) == 0 {
		return nil, errors.New("empty: say none to exempt nothing")
	}
	return out, nil
}

// prefixList writes prefixes as parsePrefixes reads them.
func prefixList(ps []netip.Prefix) string {
	var out []string
	for _, p := range ps {
		out = append(out, p.String())
	}
	return strings.Join(out, ",")
}
