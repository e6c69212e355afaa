package trackerload

import (
	"bytes"
	"fmt"
)

// The HTTP tracker's answers are read with the small scanner below rather
// than a bencode library: the generator must decode tens of thousands of
// answers a second on a core it shares with the tracker, so it looks only
// at the keys it reports and allocates nothing.

// maxDepth bounds nesting, so a hostile answer cannot recurse deeply.
const maxDepth = 32

// parseAnnounceAnswer fills a from an announce answer: its failure reason,
// interval and number of peers (compact IPv4 or IPv6 strings, BEP 23 and
// BEP 7, or a list of dictionaries, BEP 3).
func parseAnnounceAnswer(b []byte, a *answer) error {
	return eachKey(b, func(key, val []byte) error {
		switch string(key) {
		case "failure reason":
			s, err := bstring(val)
			if err != nil {
				return err
			}
			a.failure = true
			a.reason = append(a.reason[:0], s...)
		case "interval":
			n, err := bint(val)
			if err != nil {
				return err
			}
			a.interval = int(max(min(n, 1<<31), 0))
		case "peers":
			if len(val) > 0 && val[0] == 'l' {
				n, err := countList(val)
				if err != nil {
					return err
				}
				a.peers += n
				return nil
			}
			s, err := bstring(val)
			if err != nil {
				return err
			}
			a.peers += len(s) / 6
		case "peers6":
			s, err := bstring(val)
			if err != nil {
				return err
			}
			a.peers += len(s) / 18
		}
		return nil
	})
}

// parseScrapeAnswer checks a scrape answer: a failure reason, or a files
// dictionary.
func parseScrapeAnswer(b []byte, a *answer) error {
	files := false
	err := eachKey(b, func(key, val []byte) error {
		switch string(key) {
		case "failure reason":
			s, err := bstring(val)
			if err != nil {
				return err
			}
			a.failure = true
			a.reason = append(a.reason[:0], s...)
		case "files":
			if len(val) == 0 || val[0] != 'd' {
				return fmt.Errorf("%w: files is not a dictionary", errMalformed)
			}
			files = true
		}
		return nil
	})
	if err == nil && !files && !a.failure {
		err = fmt.Errorf("%w: scrape answer without files", errMalformed)
	}
	return err
}

// eachKey calls fn with every key and raw value of the dictionary that is
// the whole of b.
func eachKey(b []byte, fn func(key, val []byte) error) error {
	if len(b) == 0 || b[0] != 'd' {
		return fmt.Errorf("%w: not a dictionary: %.40q", errMalformed, b)
	}
	i := 1
	for i < len(b) && b[i] != 'e' {
		kEnd, err := skip(b, i, 1)
		if err != nil {
			return err
		}
		key, err := bstring(b[i:kEnd])
		if err != nil {
			return err
		}
		vEnd, err := skip(b, kEnd, 1)
		if err != nil {
			return err
		}
		if err := fn(key, b[kEnd:vEnd]); err != nil {
			return err
		}
		i = vEnd
	}
	if i != len(b)-1 {
		return fmt.Errorf("%w: dictionary not closed, or bytes after it", errMalformed)
	}
	return nil
}

// skip returns the index just past the value that starts at b[i].
func skip(b []byte, i, depth int) (int, error) {
	if i >= len(b) {
		return 0, fmt.Errorf("%w: truncated", errMalformed)
	}
	if depth > maxDepth {
		return 0, fmt.Errorf("%w: nested more than %d deep", errMalformed, maxDepth)
	}
	switch c := b[i]; {
	case c == 'i':
		j := bytes.IndexByte(b[i:], 'e')
		if j < 0 {
			return 0, fmt.Errorf("%w: unterminated integer", errMalformed)
		}
		return i + j + 1, nil
	case c == 'l' || c == 'd':
		i++
		for i < len(b) && b[i] != 'e' {
			var err error
			if i, err = skip(b, i, depth+1); err != nil {
				return 0, err
			}
		}
		if i >= len(b) {
			return 0, fmt.Errorf("%w: unterminated list or dictionary", errMalformed)
		}
		return i + 1, nil
	case '0' <= c && c <= '9':
		n, j := 0, i
		for ; j < len(b) && '0' <= b[j] && b[j] <= '9'; j++ {
			if n > len(b) {
				return 0, fmt.Errorf("%w: string length too large", errMalformed)
			}
			n = n*10 + int(b[j]-'0')
		}
		if j >= len(b) || b[j] != ':' || n > len(b)-j-1 {
			return 0, fmt.Errorf("%w: bad or truncated string", errMalformed)
		}
		return j + 1 + n, nil
	}
	return 0, fmt.Errorf("%w: unexpected byte %q", errMalformed, b[i])
}

// bstring returns the content of the string that is the whole of v.
func bstring(v []byte) ([]byte, error) {
	j := bytes.IndexByte(v, ':')
	if len(v) == 0 || v[0] < '0' || v[0] > '9' || j < 0 {
		return nil, fmt.Errorf("%w: want a string, got %.20q", errMalformed, v)
	}
	return v[j+1:], nil
}

// bint returns the integer that is the whole of v.
func bint(v []byte) (int64, error) {
	if len(v) < 3 || v[0] != 'i' || v[len(v)-1] != 'e' {
		return 0, fmt.Errorf("%w: want an integer, got %.20q", errMalformed, v)
	}
	var n int64
	neg := v[1] == '-'
	digits := v[1 : len(v)-1]
	if neg {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 18 {
		return 0, fmt.Errorf("%w: bad integer %.20q", errMalformed, v)
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w: bad integer %.20q", errMalformed, v)
		}
		n = n*10 + int64(c-'0')
	}
	if neg {
		n = -n
	}
	return n, nil
}

// countList returns the number of elements of the list that is the whole
// of v.
func countList(v []byte) (int, error) {
	n := 0
	for i := 1; i < len(v)-1; n++ {
		var err error
		if i, err = skip(v, i, 2); err != nil {
			return 0, err
		}
	}
	return n, nil
}
