package tracker

// Failure is an error the client should see: frontends send its text as the
// bencoded `failure reason` (HTTP) or an error packet (UDP). Everything else
// a Store or the tracker returns is an internal error, shown to the client
// only as ErrUnavailable.
type Failure string

func (f Failure) Error() string { return string(f) }

// Failures the tracker's policy and the frontends report. They are values so
// that handlers never build strings per request.
const (
	ErrUnknownTorrent  Failure = "unregistered torrent: this tracker serves only the publisher's torrents"
	ErrMissingInfoHash Failure = "missing info_hash"
	ErrBadInfoHash     Failure = "invalid info_hash: must be 20 bytes"
	ErrMissingPeerID   Failure = "missing peer_id"
	ErrBadPeerID       Failure = "invalid peer_id: must be 20 bytes"
	ErrMissingPort     Failure = "missing port"
	ErrBadPort         Failure = "invalid port: must be 1-65535"
	ErrBadUploaded     Failure = "invalid uploaded: must be a non-negative integer"
	ErrBadDownloaded   Failure = "invalid downloaded: must be a non-negative integer"
	ErrBadLeft         Failure = "invalid left: must be a non-negative integer"
	ErrMissingLeft     Failure = "missing left"
	ErrBadNumWant      Failure = "invalid numwant: must be an integer"
	ErrBadEvent        Failure = "invalid event: must be started, completed, stopped, paused or empty"
	ErrBadCompact      Failure = "invalid compact: must be 0 or 1"
	ErrBadEscape       Failure = "malformed percent-escape in query"
	ErrBadIP           Failure = "invalid ip address"
	ErrTooManyInfoHash Failure = "too many info_hash values in one scrape"
	ErrFullScrapeOff   Failure = "full scrape is disabled: ask for specific info_hash values"
	ErrUnavailable     Failure = "tracker temporarily unavailable, try again later"
	ErrDuplicateParam  Failure = "parameter given more than once"
	ErrTrackerFull     Failure = "tracker is at its limit of torrents; try again later"
)
