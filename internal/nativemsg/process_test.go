package nativemsg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
	"time"
)

// roleEnv makes the test binary, run again as a child, act as a native
// messaging host instead of running tests.
const roleEnv = "KEP_NATIVEMSG_TEST_ROLE"

// childMaxIn is the echo host's limit for messages from the "browser".
const childMaxIn = 2 << 20

func TestMain(m *testing.M) {
	if os.Getenv(roleEnv) == "echo" {
		os.Exit(echoHost(os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// echoHost answers every message with the same bytes, as a host does with
// replies: an error object for what it cannot echo, and exit code 3 when
// the stream is out of step.
func echoHost(in io.Reader, out io.Writer) int {
	r := NewReader(in, childMaxIn)
	w := NewWriter(out)
	for {
		msg, err := r.Read()
		switch {
		case err == io.EOF:
			return 0
		case errors.Is(err, ErrInvalid):
			if w.Write([]byte(`{"error":"invalid"}`)) != nil {
				return 2
			}
			continue
		case errors.Is(err, ErrTooLarge):
			w.Write([]byte(`{"error":"too large"}`))
			return 3
		case err != nil:
			fmt.Fprintln(os.Stderr, "echo host:", err)
			return 2
		}
		err = w.Write(msg)
		if errors.Is(err, ErrReplyTooLarge) {
			err = w.Write([]byte(`{"error":"reply too large"}`))
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "echo host:", err)
			return 2
		}
	}
}

// startHost starts the test binary as an echo host on pipes, as a browser
// starts a native-messaging host.
func startHost(t *testing.T) (cmd *exec.Cmd, stdin io.WriteCloser, stdout io.Reader, stderr *bytes.Buffer) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	// Chrome passes the caller's origin as the argument.
	cmd = exec.CommandContext(ctx, exe, "chrome-extension://abcdefghijklmnopabcdefghijklmnop/")
	cmd.Env = append(os.Environ(), roleEnv+"=echo")
	stderr = new(bytes.Buffer)
	cmd.Stderr = stderr
	if stdin, err = cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if stdout, err = cmd.StdoutPipe(); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, stdin, stdout, stderr
}

func TestProcessEcho(t *testing.T) {
	cmd, stdin, stdout, stderr := startHost(t)
	type exchange struct {
		send  []byte // a frame's body
		raw   bool   // send without the Writer's checks
		reply string // "" means the same bytes back
	}
	script := []exchange{
		{send: []byte(`{"id":1,"method":"agent.version"}`)},
		{send: []byte(`{"id":2,"params":{"name":"Петрова Мария Сергеевна"}}`)},
		{send: jsonOfLen(MaxOut)},
		{send: jsonOfLen(MaxOut + 1), raw: true, reply: `{"error":"reply too large"}`},
		{send: []byte(`{"id":3,`), raw: true, reply: `{"error":"invalid"}`},
		{send: jsonOfLen(childMaxIn), raw: true, reply: `{"error":"reply too large"}`},
		{send: []byte(`[]`)},
	}
	sent := make(chan error, 1)
	go func() {
		// Closing stdin on every path lets the host end, so that a failure
		// here shows as a missing reply, not a hang.
		defer stdin.Close()
		w := NewWriter(stdin)
		for _, ex := range script {
			var err error
			if ex.raw {
				_, err = stdin.Write(frame(ex.send))
			} else {
				err = w.Write(ex.send)
			}
			if err != nil {
				sent <- err
				return
			}
		}
		sent <- stdin.Close()
	}()

	r := NewReader(stdout, MaxOut) // a browser accepts at most MaxOut
	for i, ex := range script {
		got, err := r.Read()
		if err != nil {
			select {
			case serr := <-sent:
				t.Fatalf("reply %d: %v (sending: %v; host stderr: %s)", i, err, serr, stderr)
			default:
			}
			t.Fatalf("reply %d: %v (host stderr: %s)", i, err, stderr)
		}
		want := ex.send
		if ex.reply != "" {
			want = []byte(ex.reply)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("reply %d: got %.60q (%d bytes), want %.60q (%d bytes)", i, got, len(got), want, len(want))
		}
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("after the last reply: %v, want io.EOF", err)
	}
	if err := <-sent; err != nil {
		t.Fatalf("sending: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("host: %v (stderr: %s)", err, stderr)
	}
}

func TestProcessTooLarge(t *testing.T) {
	cmd, stdin, stdout, stderr := startHost(t)
	go func() {
		// The host stops reading after the length; the rest may meet a
		// closed pipe.
		stdin.Write(cat(header(childMaxIn+1), jsonOfLen(childMaxIn+1)))
		stdin.Close()
	}()
	r := NewReader(stdout, MaxOut)
	got, err := r.Read()
	if err != nil || string(got) != `{"error":"too large"}` {
		t.Fatalf("reply: %q, %v; want the too-large error (stderr: %s)", got, err, stderr)
	}
	if _, err := r.Read(); err != io.EOF {
		t.Fatalf("after the reply: %v, want io.EOF", err)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 {
		t.Fatalf("host ended with %v, want exit status 3", err)
	}
}
