// Package progress draws a one-line progress bar on a terminal for long
// reads, such as hashing or signing a multi-gigabyte file.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// IsTerminal reports whether f is a character device (a terminal).
func IsTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// Bar counts bytes that pass through it and redraws a line on Out at most a few
// times per second. Total may be 0 when the size is unknown.
type Bar struct {
	Out   io.Writer
	Label string
	Total int64

	done  int64
	start time.Time
	last  time.Time
	drawn bool
}

// NewBar returns a bar for total bytes labelled label, drawn on out.
func NewBar(out io.Writer, label string, total int64) *Bar {
	now := time.Now()
	return &Bar{Out: out, Label: label, Total: total, start: now, last: now}
}

// Add records n more bytes and redraws when enough time has passed.
func (b *Bar) Add(n int) {
	b.done += int64(n)
	if now := time.Now(); now.Sub(b.last) >= 200*time.Millisecond {
		b.last = now
		b.draw(now)
	}
}

// Reader wraps r so that every read advances the bar.
func (b *Bar) Reader(r io.Reader) io.Reader { return &reader{r: r, b: b} }

// Finish clears the line if anything was drawn.
func (b *Bar) Finish() {
	if b.drawn {
		fmt.Fprint(b.Out, "\r\033[K")
	}
}

func (b *Bar) draw(now time.Time) {
	b.drawn = true
	const width = 30
	mb := float64(b.done) / (1 << 20)
	rate := mb / now.Sub(b.start).Seconds()
	if b.Total <= 0 {
		fmt.Fprintf(b.Out, "\r\033[K%s %.0f MiB %.0f MiB/s", b.Label, mb, rate)
		return
	}
	frac := float64(b.done) / float64(b.Total)
	if frac > 1 {
		frac = 1
	}
	fill := int(frac * width)
	fmt.Fprintf(b.Out, "\r\033[K%s [%s%s] %3.0f%% %.0f MiB/s", b.Label,
		strings.Repeat("=", fill), strings.Repeat(" ", width-fill), frac*100, rate)
}

type reader struct {
	r io.Reader
	b *Bar
}

func (r *reader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	r.b.Add(n)
	return n, err
}
