package localapi

import (
	"bufio"
	"bytes"
	"io"
	"testing"
)

// FuzzReadResponse feeds arbitrary bytes to the client as a daemon's
// answer. It holds that readResponse never panics, never returns a body
// over 4 MiB, and never cuts a body short in silence: an accepted body is
// followed in the input only by what was left unread, and anything left
// unread means the answer named a Content-Length.
//
// pad appends that many copies of padByte, so that answers around the
// 4 MiB limit cost the fuzzer no 4 MiB inputs; a pad beyond the limit
// plus a little is ignored, which keeps most runs small.
func FuzzReadResponse(f *testing.F) {
	ok := "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nCache-Control: no-store\r\n\r\n" +
		`{"registry":"local","username":"alice","secret":"pw"}` + "\n"
	for _, s := range []string{
		ok,
		"HTTP/1.1 404 Not Found\r\nContent-Length: 73\r\n\r\n" + `{"code":"not_found","error":"credentials not found in native keychain"}` + "\ntrailing",
		"HTTP/1.0 503 Service Unavailable\n\n{\"code\":\"unavailable\"}",
		"HTTP/1.1 200 OK\r\nContent-Length: 4194305\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 5\r\n\r\nabcdef",
		"HTTP/1.1 200 OK\r\n folded: header\r\n\r\n",
		"HTTP/1.0 102 Processing\r\n\r\nHTTP/1.0 200 OK\r\n\r\n{}",
		"HTTP/1.1 102 x\r\n\r\nHTTP/1.1 103 x\r\n\r\nHTTP/1.1 102 x\r\n\r\nHTTP/1.1 102 x\r\n\r\nHTTP/1.1 102 x\r\n\r\nHTTP/1.1 200 OK\r\n\r\n",
		"HTTP/2 200\r\n\r\n", "HTTP/1.1\r\n\r\n", "HTTP/1.1 +200 OK\r\n\r\n", "SSH-2.0-OpenSSH_9.6\r\n", "",
	} {
		f.Add([]byte(s), uint32(0), byte('x'))
	}
	f.Add([]byte("HTTP/1.1 200 OK\r\n\r\n"), uint32(maxBody+1), byte('a'))
	f.Add([]byte("HTTP/1.1 200 OK\r\nContent-Length: 4194304\r\n\r\n"), uint32(maxBody+10), byte('a'))
	f.Fuzz(func(t *testing.T, head []byte, pad uint32, padByte byte) {
		input := head
		if pad <= maxBody+4096 {
			input = make([]byte, len(head)+int(pad))
			copy(input, head)
			for i := len(head); i < len(input); i++ {
				input[i] = padByte
			}
		}
		br := bufio.NewReader(bytes.NewReader(input))
		status, body, err := readResponse(br, nil)
		if err != nil {
			if status != 0 || body != nil {
				t.Fatalf("readResponse failed (%v) but returned status %d and %d bytes", err, status, len(body))
			}
			return
		}
		if len(body) > maxBody {
			t.Fatalf("readResponse returned a body of %d bytes, over the %d limit", len(body), maxBody)
		}
		if !bytes.HasPrefix(input, []byte("HTTP/1.")) {
			t.Fatalf("readResponse accepted an answer that is not HTTP/1.x: %.40q", input)
		}
		rest, _ := io.ReadAll(br)
		bodyStart := len(input) - len(rest) - len(body)
		if bodyStart < 0 || !bytes.Equal(input[bodyStart:bodyStart+len(body)], body) || !bytes.Equal(input[bodyStart+len(body):], rest) {
			t.Fatalf("the body (%d bytes) and the unread rest (%d bytes) are not the end of the answer", len(body), len(rest))
		}
		if len(rest) > 0 && !bytes.Contains(bytes.ToLower(input[:bodyStart]), []byte("content-length:")) {
			t.Fatalf("%d bytes were left unread although the answer names no Content-Length", len(rest))
		}
	})
}
