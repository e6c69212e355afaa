package trackerload

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/bitorigin/bitorigin/tracker"
)

func TestOpenLoopSmoke(t *testing.T) {
	url := startTracker(t, tracker.Config{})
	rep, err := Run(context.Background(), Config{Target: url, Rate: 2000, Duration: 2 * time.Second, Warmup: 500 * time.Millisecond, Torrents: 100, Peers: 2000})
	if err != nil {
		t.Fatal(err)
	}
	rep.WriteText(os.Stdout)
	if err := rep.Check(); err != nil {
		t.Fatal(err)
	}
}
