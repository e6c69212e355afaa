package trackerload

import (
	"errors"
	"fmt"

	"github.com/bitorigin/bitorigin/bencode"
)

// The HTTP tracker's answers are read with package bencode's Decoder rather
// than a bencode library: the generator must decode tens of thousands of
// answers a second on a core it shares with the tracker, so it looks only
// at the keys it reports and allocates nothing. Keys are taken in any
// order, as other trackers write them.

// parseAnnounceAnswer fills a from an announce answer: its failure reason,
// interval and number of peers (compact IPv4 or IPv6 strings, BEP 23 and
// BEP 7, or a list of dictionaries, BEP 3).
func parseAnnounceAnswer(b []byte, a *answer) error {
	d := bencode.NewDecoder(b)
	err := d.Dict(func(key []byte) error {
		switch string(key) {
		case "failure reason":
			return failure(d, a)
		case "interval":
			n, err := d.Int()
			a.interval = int(max(min(n, 1<<31), 0))
			return err
		case "peers":
			if d.Kind() == bencode.List {
				return d.List(func() error { a.peers++; return nil })
			}
			s, err := d.Bytes()
			a.peers += len(s) / 6
			return err
		case "peers6":
			s, err := d.Bytes()
			a.peers += len(s) / 18
			return err
		}
		return nil // left unread: skipped
	})
	return whole(d, b, err)
}

// parseScrapeAnswer checks a scrape answer: a failure reason, or a files
// dictionary.
func parseScrapeAnswer(b []byte, a *answer) error {
	files := false
	d := bencode.NewDecoder(b)
	err := d.Dict(func(key []byte) error {
		switch string(key) {
		case "failure reason":
			return failure(d, a)
		case "files":
			if d.Kind() != bencode.Dict {
				return errors.New("files is not a dictionary")
			}
			files = true
		}
		return nil // left unread: skipped
	})
	if err = whole(d, b, err); err == nil && !files && !a.failure {
		err = fmt.Errorf("%w: scrape answer without files", errMalformed)
	}
	return err
}

// failure reads a failure reason into a.
func failure(d *bencode.Decoder, a *answer) error {
	s, err := d.Bytes()
	if err == nil {
		a.failure = true
		a.reason = append(a.reason[:0], s...)
	}
	return err
}

// whole turns the error from reading the dictionary that must be the whole
// of b into one that wraps errMalformed.
func whole(d *bencode.Decoder, b []byte, err error) error {
	switch {
	case err != nil:
		return fmt.Errorf("%w: %w: %.40q", errMalformed, err, b)
	case len(d.Rest()) > 0:
		return fmt.Errorf("%w: %d bytes after the dictionary", errMalformed, len(d.Rest()))
	}
	return nil
}
