package seeder

import (
	"testing"
	"time"
)

func TestConfigValidateRefusesNonsense(t *testing.T) {
	for _, c := range []Config{
		{MaxRequest: 256 << 10},
		{MaxConns: -1},
		{UploadRate: -5},
		{KeepAlive: time.Hour},
		{HandshakeTimeout: -time.Second},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if err := (Config{}).Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
}
