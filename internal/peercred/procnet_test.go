package peercred

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"net/netip"
	"strconv"
	"strings"
	"testing"
)

const procHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"

func littleEndian() bool { return binary.NativeEndian.Uint16([]byte{1, 0}) == 1 }

func TestParseProcNet(t *testing.T) {
	if !littleEndian() {
		t.Skip("the hand-written lines are those of a little-endian host (addresses are in host byte order)")
	}
	tests := []struct {
		name  string
		lines string
		want  []procRow // nil with wantErr
		err   string    // a substring of the error, "" for none
	}{
		{"header only", "", []procRow{}, ""},
		{"listen v4",
			"   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 45678 1 0000000000000000 100 0 0 10 0\n",
			[]procRow{{Line: 2, Local: ap("127.0.0.1:24321"), Remote: ap("0.0.0.0:0"), State: 0x0A, UID: 1000, Inode: 45678}}, ""},
		{"established v4, lowercase hex, no trailing newline",
			"   1: 0100007f:a2c4 0100007f:5f01 01 00000000:00000000 00:00000000 00000000 65534        0 99 1",
			[]procRow{{Line: 2, Local: ap("127.0.0.1:41668"), Remote: ap("127.0.0.1:24321"), State: 1, UID: 65534, Inode: 99}}, ""},
		{"v6 loopback and mapped",
			"   0: 00000000000000000000000001000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 1 0 100 0 0 10 0\n" +
				"   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 8 1\n",
			[]procRow{
				{Line: 2, Local: ap("[::1]:8080"), Remote: ap("[::]:0"), State: 0x0A, UID: 0, Inode: 7},
				{Line: 3, Local: ap("[::ffff:127.0.0.1]:8080"), Remote: ap("[::ffff:127.0.0.1]:54321"), State: 1, UID: 0, Inode: 8},
			}, ""},
		{"v6 global address word order",
			"   0: B80D0120000000000000000001000000:0016 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n",
			[]procRow{{Line: 2, Local: ap("[2001:db8::1]:22"), Remote: ap("[::]:0"), State: 0x0A, Inode: 1}}, ""},
		{"too few fields", "   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000\n", nil, "fields"},
		{"no slot colon", "   0 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n", nil, "slot"},
		{"short address", "   0: 100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n", nil, "local address"},
		{"no port", "   0: 0100007F 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n", nil, "local address"},
		{"non-hex address", "   0: 0100007G:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n", nil, "local address"},
		{"5-digit port", "   0: 0100007F:5F01 00000000:00000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n", nil, "remote address"},
		{"mixed families", "   0: 0100007F:5F01 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 0 1\n", nil, "families"},
		{"3-digit state", "   0: 0100007F:5F01 00000000:0000 0A0 00000000:00000000 00:00000000 00000000  1000 0 1\n", nil, "state"},
		{"negative uid", "   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  -1 0 1\n", nil, "uid"},
		{"uid with sign", "   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  +5 0 1\n", nil, "uid"},
		{"uid leading zero", "   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0100 0 1\n", nil, "uid"},
		{"uid over 32 bits", "   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  4294967296 0 1\n", nil, "uid"},
		{"inode not a number", "   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0 0 x1\n", nil, "inode"},
		{"blank line", "\n", nil, "fields"},
		{"line too long", "   0: " + strings.Repeat("0", maxProcLine) + "\n", nil, "longer than"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, err := parseProcNet(strings.NewReader(procHeader + tt.lines))
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q (rows %v)", err, tt.err, rows)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != len(tt.want) {
				t.Fatalf("%d rows, want %d: %+v", len(rows), len(tt.want), rows)
			}
			for i := range rows {
				if rows[i] != tt.want[i] {
					t.Errorf("row %d\n got %+v\nwant %+v", i, rows[i], tt.want[i])
				}
			}
		})
	}
}

func TestParseProcNetHeader(t *testing.T) {
	for _, in := range []string{"", "\n", "0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 1\n"} {
		if rows, err := parseProcNet(strings.NewReader(in)); err == nil {
			t.Errorf("%q without a header: rows %v, no error", in, rows)
		}
	}
}

// endless repeats one line forever and counts what was read.
type endless struct {
	line []byte
	off  int
	read int64
}

func (e *endless) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		c := copy(p[n:], e.line[e.off:])
		n += c
		e.off = (e.off + c) % len(e.line)
	}
	e.read += int64(n)
	return n, nil
}

func TestParseProcNetSizeLimit(t *testing.T) {
	r := &endless{line: []byte("   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 45678 1 0000000000000000 100 0 0 10 0\n")}
	_, err := parseProcNet(io.MultiReader(strings.NewReader(procHeader), r))
	if err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("an endless file: %v", err)
	}
	if r.read > maxProcFile+64<<10 {
		t.Errorf("read %d bytes of an endless file, the limit is %d", r.read, maxProcFile)
	}
	// Exactly at the limit is accepted.
	body := bytes.Repeat([]byte("x"), maxProcFile-len(procHeader))
	for i := 4000; i < len(body); i += 4001 {
		body[i] = '\n'
	}
	_, err = parseProcNet(io.MultiReader(strings.NewReader(procHeader), bytes.NewReader(body)))
	if err == nil || strings.Contains(err.Error(), "larger than") {
		t.Fatalf("a file of exactly %d bytes: %v (want a parse error, not the size limit)", maxProcFile, err)
	}
}

func TestProcAddrRoundTrip(t *testing.T) {
	for _, s := range []string{"127.0.0.1:24321", "0.0.0.0:0", "[::1]:443", "[::ffff:127.0.0.1]:80", "[2001:db8::dead:beef]:65535"} {
		a := ap(s)
		got, err := parseProcAddr(formatProcAddr(a))
		if err != nil || got != a {
			t.Errorf("%s → %s → %v, %v", a, formatProcAddr(a), got, err)
		}
	}
}

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

func FuzzParseProcNet(f *testing.F) {
	f.Add([]byte(procHeader + "   0: 0100007F:5F01 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 45678 1 0000000000000000 100 0 0 10 0\n"))
	f.Add([]byte(procHeader + "   1: 0000000000000000FFFF00000100007F:1F90 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 8 1\n"))
	f.Add([]byte(procHeader + "   0: 0100007f:a2c4 0100007f:5f01 01 0:0 0:0 0 65534 0 99"))
	f.Add([]byte("sl\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, err := parseProcNet(bytes.NewReader(data))
		if err != nil {
			return
		}
		lines := strings.Split(string(data), "\n")
		for _, row := range rows {
			if row.Line < 2 || row.Line > len(lines) {
				t.Fatalf("row on line %d of %d", row.Line, len(lines))
			}
			orig := strings.Fields(lines[row.Line-1])
			got := []string{formatProcAddr(row.Local), formatProcAddr(row.Remote), fmt.Sprintf("%02X", row.State),
				strconv.Itoa(row.UID), strconv.FormatUint(row.Inode, 10)}
			want := []string{orig[1], orig[2], orig[3], orig[7], orig[9]}
			for i := range got {
				if !strings.EqualFold(got[i], want[i]) {
					t.Fatalf("line %d field %s re-formats to %s", row.Line, want[i], got[i])
				}
			}
			// The re-formatted fields parse to the same row.
			line := fmt.Sprintf("0: %s %s %s 0:0 0:0 0 %s 0 %s", got[0], got[1], got[2], got[3], got[4])
			again, err := parseProcNet(strings.NewReader("sl\n" + line))
			if err != nil || len(again) != 1 {
				t.Fatalf("re-formatted %q: %v %v", line, again, err)
			}
			again[0].Line = row.Line
			if again[0] != row {
				t.Fatalf("round trip: %+v → %q → %+v", row, line, again[0])
			}
		}
	})
}
