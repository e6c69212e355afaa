package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/bitorigin/bitorigin/internal/testenv"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if err := testenv.RemoveBuilds(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	os.Exit(code)
}

// seeder runs a command line in-process and returns its exit status and
// output.
func seeder(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}
