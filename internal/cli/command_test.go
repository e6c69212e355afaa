package cli

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestParseInterspersedTakesFlagsAnywhereUntilDoubleDash(t *testing.T) {
	tests := []struct {
		args    []string
		wantPos []string
		wantT   string
		wantV   bool
	}{
		{args: nil},
		{args: []string{"a"}, wantPos: []string{"a"}},
		{args: []string{"-t", "x", "a"}, wantPos: []string{"a"}, wantT: "x"},
		{args: []string{"a", "-t", "x", "b", "--v"}, wantPos: []string{"a", "b"}, wantT: "x", wantV: true},
		{args: []string{"a", "--", "-t", "x"}, wantPos: []string{"a", "-t", "x"}},
		{args: []string{"-v", "--", "--", "b"}, wantPos: []string{"--", "b"}, wantV: true},
		{args: []string{"a", "--"}, wantPos: []string{"a"}},
		{args: []string{"a", "-", "b"}, wantPos: []string{"a", "-", "b"}},
	}
	for _, tt := range tests {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		tv := fs.String("t", "", "")
		vv := fs.Bool("v", false, "")
		pos, err := ParseInterspersed(fs, tt.args)
		if err != nil || !slices.Equal(pos, tt.wantPos) || *tv != tt.wantT || *vv != tt.wantV {
			t.Errorf("ParseInterspersed(%q) = %q, %v with -t %q -v %t; want %q with -t %q -v %t",
				tt.args, pos, err, *tv, *vv, tt.wantPos, tt.wantT, tt.wantV)
		}
	}
}

func TestParseInterspersedReportsUnknownFlagsAndHelp(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	if _, err := ParseInterspersed(fs, []string{"a", "--nope"}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Errorf("unknown flag: err = %v", err)
	}
	if _, err := ParseInterspersed(fs, []string{"a", "--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: err = %v, want flag.ErrHelp", err)
	}
}

// testProgram has a command "echo" that prints its one argument, fails on
// "fail" and calls "bad" a usage error.
func testProgram() Program {
	c := NewCommand("echo", "WORD", 1, "print a word", "Prints WORD.")
	upper := c.Flags.Bool("upper", false, "print WORD in upper case")
	c.Flags.String("greeting", "hello", "a `TEXT` before WORD")
	c.Run = func(_ context.Context, args []string, stdout, _ io.Writer) error {
		switch args[0] {
		case "fail":
			return errors.New("it failed")
		case "bad":
			return UsageError{Err: errors.New("bad word")}
		}
		if *upper {
			args[0] = strings.ToUpper(args[0])
		}
		_, err := io.WriteString(stdout, args[0]+"\n")
		return err
	}
	bare := NewCommand("bare", "", 0, "take nothing", "Takes nothing.")
	bare.Run = func(context.Context, []string, io.Writer, io.Writer) error { return nil }
	return Program{Name: "prog", Commands: []*Command{c, bare}}
}

func TestProgramMainExitStatusesAndMessages(t *testing.T) {
	tests := []struct {
		name             string
		args             []string
		code             int
		stdout, inStderr string
	}{
		{"no command", nil, ExitUsage, "", "Usage: prog COMMAND"},
		{"help", []string{"--help"}, ExitOK, "Usage: prog COMMAND", ""},
		{"help word", []string{"help"}, ExitOK, "Usage: prog COMMAND", ""},
		{"unknown command", []string{"nope"}, ExitUsage, "", "prog: unknown command \"nope\"\n\nUsage: prog"},
		{"command help", []string{"echo", "-h"}, ExitOK, "Usage: prog echo WORD [FLAGS]", ""},
		{"success", []string{"echo", "hi"}, ExitOK, "hi\n", ""},
		{"flag after argument", []string{"echo", "hi", "--upper"}, ExitOK, "HI\n", ""},
		{"too few arguments", []string{"echo"}, ExitUsage, "",
			"prog echo: want 1 argument(s) (WORD), got 0\nRun 'prog echo --help' for usage.\n"},
		{"unknown flag", []string{"echo", "hi", "--loud"}, ExitUsage, "", "flag provided but not defined: -loud"},
		{"failure", []string{"echo", "fail"}, ExitFailure, "", "prog echo: it failed\n"},
		{"usage error from run", []string{"echo", "bad"}, ExitUsage, "",
			"prog echo: bad word\nRun 'prog echo --help' for usage.\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := testProgram().Main(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stderr %q", code, tt.code, stderr.String())
			}
			if !strings.HasPrefix(stdout.String(), tt.stdout) || (tt.stdout == "" && stdout.Len() > 0) {
				t.Errorf("stdout %q, want it to start with %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.inStderr) || (tt.inStderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr %q, want it to contain %q", stderr.String(), tt.inStderr)
			}
		})
	}
}

func TestUsageErrorIsFoundThroughWrapping(t *testing.T) {
	inner := errors.New("bad")
	err := error(UsageError{Err: inner})
	if err.Error() != "bad" || !errors.Is(err, inner) || !errors.As(err, new(UsageError)) {
		t.Errorf("UsageError %v does not read and unwrap as its mistake", err)
	}
}

func TestProgramHelpListsCommandsInOrder(t *testing.T) {
	var out bytes.Buffer
	testProgram().Main(context.Background(), []string{"--help"}, &out, io.Discard)
	want := `Usage: prog COMMAND [ARGS] [FLAGS]

Commands:
  echo     print a word
  bare     take nothing

Run 'prog COMMAND --help' for a command's arguments and flags.
Exit status: 0 on success, 1 when the command fails, 2 for a usage error.
`
	if out.String() != want {
		t.Errorf("help:\n%s\nwant:\n%s", out.String(), want)
	}
}

func TestCommandHelpShowsFlagsWithDefaultsAndOptionallyTheirVariables(t *testing.T) {
	tests := []struct {
		envPrefix, cmd, want string
	}{
		{"", "echo", `Usage: prog echo WORD [FLAGS]

Prints WORD.

Flags:
  --greeting TEXT
      a TEXT before WORD (default hello)
  --upper
      print WORD in upper case
`},
		{"PROG", "echo", `Usage: prog echo WORD [FLAGS]

Prints WORD.

Flags (each can also be set by the environment variable shown):
  --greeting TEXT
      a TEXT before WORD (default hello)
      env PROG_GREETING
  --upper
      print WORD in upper case
      env PROG_UPPER
`},
		{"", "bare", "Usage: prog bare\n\nTakes nothing.\n"},
	}
	for _, tt := range tests {
		p := testProgram()
		for _, c := range p.Commands {
			c.EnvPrefix = tt.envPrefix
		}
		var out bytes.Buffer
		p.Main(context.Background(), []string{tt.cmd, "--help"}, &out, io.Discard)
		if out.String() != tt.want {
			t.Errorf("%s --help with EnvPrefix %q:\n%s\nwant:\n%s", tt.cmd, tt.envPrefix, out.String(), tt.want)
		}
	}
}

func TestEnvPrefixReadsFlagsFromTheEnvironmentAfterTheCommandLine(t *testing.T) {
	t.Setenv("PROG_UPPER", "true")
	p := testProgram()
	var out bytes.Buffer
	p.Main(context.Background(), []string{"echo", "hi"}, &out, io.Discard)
	if out.String() != "hi\n" {
		t.Errorf("without EnvPrefix: %q, want the environment ignored", out.String())
	}
	p.Commands[0].EnvPrefix = "PROG"
	out.Reset()
	p.Main(context.Background(), []string{"echo", "hi"}, &out, io.Discard)
	if out.String() != "HI\n" {
		t.Errorf("with EnvPrefix: %q, want PROG_UPPER applied", out.String())
	}
	out.Reset()
	p.Main(context.Background(), []string{"echo", "hi", "--upper=false"}, &out, io.Discard)
	if out.String() != "hi\n" {
		t.Errorf("flag and variable: %q, want the command line to win", out.String())
	}
	t.Setenv("PROG_UPPER", "maybe")
	p = testProgram() // a flag set remembers the flags it was given
	p.Commands[0].EnvPrefix = "PROG"
	var stderr bytes.Buffer
	if code := p.Main(context.Background(), []string{"echo", "hi"}, io.Discard, &stderr); code != ExitUsage ||
		!strings.Contains(stderr.String(), "PROG_UPPER") {
		t.Errorf("bad variable: exit %d, %q; want a usage error naming PROG_UPPER", code, stderr.String())
	}
}

func TestFlagSynopsisUsesOneDashForOneLetter(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	fs.String("o", "", "write to `FILE`")
	fs.Bool("force", false, "overwrite")
	for name, want := range map[string]string{"o": "-o FILE", "force": "--force"} {
		if got := FlagSynopsis(fs.Lookup(name)); got != want {
			t.Errorf("FlagSynopsis(%s) = %q, want %q", name, got, want)
		}
	}
}
