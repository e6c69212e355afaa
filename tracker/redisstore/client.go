package redisstore

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// ClientConfig says how to reach Redis. Exactly one of URL and Addrs is set.
type ClientConfig struct {
	// URL is one server: redis://[user:password@]host:port/db,
	// rediss:// for TLS, or unix:///path/to/socket.
	URL string
	// Addrs are Cluster seed nodes (with Cluster) or Sentinels (with
	// MasterName).
	Addrs      []string
	Cluster    bool
	MasterName string
	// Password overrides the URL's; it comes from the environment so that
	// it never appears in a process listing.
	Password string
	// PoolSize bounds connections per Redis node (default 32).
	PoolSize int
	// Timeout bounds dialling, each read and write, and the wait for a free
	// pooled connection (default 250ms), so a slow Redis makes requests fail
	// fast instead of piling up.
	Timeout time.Duration
}

// NewClient builds a go-redis UniversalClient. It does not dial yet.
func NewClient(cfg ClientConfig) (redis.UniversalClient, error) {
	if cfg.PoolSize == 0 {
		cfg.PoolSize = 32
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.PoolSize < 1 {
		return nil, fmt.Errorf("redis pool size %d: must be at least 1", cfg.PoolSize)
	}
	switch {
	case cfg.URL != "" && len(cfg.Addrs) > 0:
		return nil, errors.New("redis: give either a URL or addresses, not both")
	case cfg.URL == "" && len(cfg.Addrs) == 0:
		return nil, errors.New("redis: no URL or addresses")
	case cfg.Cluster && cfg.MasterName != "":
		return nil, errors.New("redis: Cluster and Sentinel (master name) exclude each other")
	case cfg.URL != "" && (cfg.Cluster || cfg.MasterName != ""):
		return nil, errors.New("redis: Cluster and Sentinel take addresses, not a URL")
	}
	if cfg.URL != "" {
		opts, err := redis.ParseURL(cfg.URL)
		if err != nil {
			// The parser's error quotes the URL, password and all.
			return nil, fmt.Errorf("redis URL %s: %s", Redact(cfg.URL), scrub(err.Error(), cfg.URL))
		}
		if cfg.Password != "" {
			opts.Password = cfg.Password
		}
		opts.PoolSize = cfg.PoolSize
		opts.DialTimeout, opts.ReadTimeout, opts.WriteTimeout, opts.PoolTimeout = cfg.Timeout, cfg.Timeout, cfg.Timeout, cfg.Timeout
		opts.MaxRetries = -1 // a retry would double the time a failing request takes
		opts.DialerRetries = 1
		opts.ContextTimeoutEnabled = true
		opts.DisableIdentity = true
		return redis.NewClient(opts), nil
	}
	return redis.NewUniversalClient(&redis.UniversalOptions{
		Addrs:         cfg.Addrs,
		IsClusterMode: cfg.Cluster,
		MasterName:    cfg.MasterName,
		Password:      cfg.Password,
		PoolSize:      cfg.PoolSize,
		DialTimeout:   cfg.Timeout,
		ReadTimeout:   cfg.Timeout,
		WriteTimeout:  cfg.Timeout,
		PoolTimeout:   cfg.Timeout,
		// No retries of a command, and one dial per attempt: go-redis
		// otherwise dials up to 5 times, 100ms apart, before it gives up
		// on a refused connection, which made every announce take 800ms
		// while Redis was down whatever the timeout.
		MaxRetries:    -1,
		DialerRetries: 1,
		// Let the caller's deadline (the store's timeout) bound reads and
		// writes too, not only ReadTimeout and WriteTimeout each.
		ContextTimeoutEnabled: true,
		DisableIdentity:       true,
	}), nil
}

// defaultTimeout is the default bound on one Redis request.
const defaultTimeout = 250 * time.Millisecond

var userinfoRE = regexp.MustCompile(`://[^/@]*@`)

// scrub removes the user information of raw wherever it appears in msg.
func scrub(msg, raw string) string {
	if ui := userinfoRE.FindString(raw); ui != "" {
		msg = strings.ReplaceAll(msg, ui, "://xxxxx@")
	}
	return msg
}

// Redact returns a Redis URL with its password replaced, for logs and
// errors.
func Redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		// Do not echo what may hold a password.
		return scrub(raw, raw)
	}
	return u.Redacted()
}
