package dhtnode

import (
	"context"
	"log/slog"

	alog "github.com/anacrolix/log"
)

// libraryLogger passes the DHT library's messages to l at debug level:
// the library reports every misbehaving remote node, which is the normal
// state of a public DHT, not something to warn an operator about.
func libraryLogger(l *slog.Logger) alog.Logger {
	var out alog.Logger
	out.SetHandlers(slogHandler{l})
	return out.WithFilterLevel(alog.Debug)
}

type slogHandler struct{ l *slog.Logger }

func (h slogHandler) Handle(r alog.Record) {
	if !h.l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	h.l.Debug(r.Msg.String(), "dht_level", r.Level.LogString())
}
