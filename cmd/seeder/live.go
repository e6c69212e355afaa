package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/bitorigin/bitorigin/announcer"
	"github.com/bitorigin/bitorigin/internal/cli"
	origin "github.com/bitorigin/bitorigin/seeder"
	"github.com/bitorigin/bitorigin/seeder/catalogue"
	"github.com/bitorigin/bitorigin/seeder/content"
	"github.com/bitorigin/bitorigin/seeder/webseed"
)

// registerTokenEnv holds the trackers' admin token; a flag value would
// show in the process list.
const registerTokenEnv = "SEEDER_REGISTER_TOKEN"

// liveOptions are the flags of `seeder serve` for the web seed, the
// registration with the trackers and the watched content folder.
type liveOptions struct {
	webSeedAddr, webSeedURL string
	registerURLs            listFlag
	registerTokenFile       string
	watch                   bool
	watchInterval, settle   time.Duration
}

const liveHelp = `
Web seed (BEP 19): --webseed-addr serves the torrents' files over HTTP,
GET and HEAD with Range, Content-Length, ETag and Last-Modified: BASE/NAME
for a single-file torrent, BASE/NAME/PATH for each file of a folder. Only
files of torrents being served are reachable, opened inside --data (a
symbolic link leading out of it is refused), never a folder listing; a
torrent with a piece that failed verification is not served over HTTP.
--webseed-url is that listener's public base URL: it is written into the
url-list of created torrents and, like --tracker, replaces the url-list
of existing .torrent files (outside the info dictionary: the info hash
stays). With --webseed-url and no tracker a client can download with no
peer online.

Registration: with --register-url (a tracker's admin base URL, repeatable)
every torrent is registered through the tracker's admin API (PUT
/admin/torrents/HASH, for trackers run with --registration) before its
first announce, retried with back-off until it succeeds, and unregistered
(DELETE) when it is withdrawn from the content folder. Shutdown leaves the
torrents registered, so a restart does not make them vanish. A tracker
that refuses a torrent as unregistered (it lost its registrations) gets it
registered again. The token comes from SEEDER_REGISTER_TOKEN or
--register-token-file, never a flag.

Watching: with --watch the content folder is looked at every
--watch-interval. A new file or folder whose files all keep their size and
modification time for --settle gets a torrent, is verified and served
without a restart (at start, entries modified within --settle also wait);
a removed one is withdrawn: stopped is announced, its peers are closed and
it is unregistered. A served entry whose files change is withdrawn and
published again once it settles.`

func (o *liveOptions) addFlags(f *flag.FlagSet) {
	f.StringVar(&o.webSeedAddr, "webseed-addr", "", "`ADDRESS` (host:port) serving the torrents' files over HTTP as a BEP 19 web seed; off when empty")
	f.StringVar(&o.webSeedURL, "webseed-url", "", "public base `URL` of the web seed (http or https; a '/' is appended if missing), written into the url-list of torrents")
	f.Var(&o.registerURLs, "register-url", "tracker admin base `URL` (e.g. http://tracker:6970) to register every torrent with before announcing it; repeatable; token from "+registerTokenEnv+" or --register-token-file")
	f.StringVar(&o.registerTokenFile, "register-token-file", "", "`FILE` holding the trackers' admin token (instead of "+registerTokenEnv+")")
	f.BoolVar(&o.watch, "watch", false, "watch --data: publish new entries once settled, withdraw removed ones, without a restart")
	f.DurationVar(&o.watchInterval, "watch-interval", catalogue.DefaultWatchInterval, "how often --watch looks at the content folder")
	f.DurationVar(&o.settle, "settle", catalogue.DefaultSettle, "how long every file of a new entry must keep its size and modification time before --watch publishes it")
}

// live is what the options need while serving.
type live struct {
	opts      *liveOptions
	webSeeds  []string
	prefix    string       // path of the web seed URL
	ln        net.Listener // web seed listener; nil when off
	registrar *announcer.Registrar
	log       *slog.Logger
	wg        sync.WaitGroup
	stopWeb   func()
}

// setup checks the options, reads the token and opens the web seed
// listener, so that a port in use fails at start.
func (o *liveOptions) setup(log *slog.Logger) (*live, error) {
	l := &live{opts: o, prefix: "/", log: log}
	if o.webSeedURL != "" {
		u, err := url.Parse(o.webSeedURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return nil, cli.UsageError{Err: fmt.Errorf("--webseed-url %q: want an http or https URL without query or fragment", o.webSeedURL)}
		}
		if !strings.HasSuffix(u.Path, "/") {
			u.Path += "/"
		}
		l.prefix = u.Path
		l.webSeeds = []string{u.String()}
	}
	if o.watchInterval <= 0 {
		return nil, cli.UsageError{Err: fmt.Errorf("--watch-interval %s: must be positive", o.watchInterval)}
	}
	if o.settle < 0 {
		return nil, cli.UsageError{Err: fmt.Errorf("--settle %s: must not be negative", o.settle)}
	}
	token, err := registerToken(o.registerTokenFile)
	if err != nil {
		return nil, cli.UsageError{Err: err}
	}
	if len(o.registerURLs) > 0 {
		if token == "" {
			return nil, cli.UsageError{Err: fmt.Errorf("--register-url needs the trackers' admin token in %s or --register-token-file", registerTokenEnv)}
		}
		for _, raw := range o.registerURLs.flat() {
			if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return nil, cli.UsageError{Err: fmt.Errorf("--register-url %q: want an http or https URL", raw)}
			}
		}
		l.registrar = &announcer.Registrar{URLs: o.registerURLs.flat(), Token: token, Logger: log}
	}
	if o.webSeedAddr != "" {
		if l.ln, err = net.Listen("tcp", o.webSeedAddr); err != nil {
			return nil, fmt.Errorf("--webseed-addr: %w", err)
		}
	}
	return l, nil
}

// registerToken reads the token from the file, or else the environment.
func registerToken(file string) (string, error) {
	env := os.Getenv(registerTokenEnv)
	switch {
	case file != "" && env != "":
		return "", fmt.Errorf("both --register-token-file and %s are set: keep one", registerTokenEnv)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			return "", fmt.Errorf("--register-token-file: %w", err)
		}
		tok := strings.TrimSpace(string(b))
		if tok == "" {
			return "", fmt.Errorf("--register-token-file %s: empty", file)
		}
		return tok, nil
	}
	return env, nil
}

// load prepares the torrents at start: all of them, or with --watch the
// settled ones, returning the catalogue that watches for the rest.
func (l *live) load(ctx context.Context, cfg content.LoadConfig) ([]*content.Torrent, *catalogue.Catalogue, error) {
	cfg.WebSeeds = l.webSeeds
	if !l.opts.watch {
		t, err := content.Load(ctx, cfg)
		return t, nil, err
	}
	cat, err := catalogue.New(catalogue.Config{Load: cfg, Interval: l.opts.watchInterval, Settle: l.opts.settle})
	if err != nil {
		return nil, nil, err
	}
	t, err := cat.Scan(ctx)
	return t, cat, err
}

// start runs the web seed and the catalogue for s until ctx is done or
// stop is called.
func (l *live) start(ctx context.Context, s *origin.Seeder, cat *catalogue.Catalogue) {
	ctx, cancel := context.WithCancel(ctx)
	l.stopWeb = cancel
	if cat != nil {
		l.wg.Go(func() { cat.Run(ctx, s) })
	}
	if l.ln == nil {
		return
	}
	h, err := webseed.New(webseed.Config{Prefix: l.prefix, Lookup: s.Torrent, Logger: l.log})
	if err != nil { // the prefix was checked in setup
		l.log.Error("web seed off", "err", err)
		return
	}
	srv := &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// No WriteTimeout: a response may take long; each write has
		// webseed.DefaultWriteTimeout instead.
		IdleTimeout:    2 * time.Minute,
		MaxHeaderBytes: 16 << 10,
		ErrorLog:       slog.NewLogLogger(l.log.Handler(), slog.LevelDebug),
	}
	l.wg.Go(func() {
		if err := srv.Serve(l.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			l.log.Error("web seed stopped", "err", err)
		}
	})
	l.wg.Go(func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if srv.Shutdown(sctx) != nil {
			srv.Close()
		}
	})
	l.log.Info("web seed serving", "addr", l.ln.Addr().String(), "url", strings.Join(l.webSeeds, " "))
}

// stop ends what start started and waits for it.
func (l *live) stop() {
	if l.stopWeb != nil {
		l.stopWeb()
	}
	l.wg.Wait()
	if l.ln != nil {
		l.ln.Close()
	}
}
