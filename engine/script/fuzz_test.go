package script

import (
	"bytes"
	"strings"
	"testing"

	"github.com/parleyhq/parley/internal/fuzztest"
)

// FuzzParse: any text given as a conversation script is refused with an
// error that names the file, or read into steps of the seven kinds, in line
// order, with trimmed arguments, that read back the same when written out
// again with Step.String.
func FuzzParse(f *testing.F) {
	for _, data := range fuzztest.Files(f, "../../testdata/scripts/*/*.script", "../../flows/examples/*.script") {
		f.Add(data)
	}
	f.Add([]byte("> hi\n? what\n"))
	f.Add([]byte("\xef\xbb\xbf> hi\r\n#c\r\n  ~ 25h  \n<\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := Parse("fuzz.script", bytes.NewReader(data))
		if err != nil {
			if !strings.Contains(err.Error(), "fuzz.script") {
				t.Fatalf("error does not name the script: %v", err)
			}
			return
		}
		var out strings.Builder
		line := 0
		for _, st := range s.Steps {
			if !strings.ContainsRune(string([]byte{Say, Clock, Expect, Status, Act, Set, Call}), rune(st.Kind)) {
				t.Fatalf("step of kind %q", st.Kind)
			}
			if st.Line <= line || st.Arg != strings.TrimSpace(st.Arg) {
				t.Fatalf("step %+v after line %d", st, line)
			}
			line = st.Line
			out.WriteString(st.String() + "\n")
		}
		again, err := Parse("again.script", strings.NewReader(out.String()))
		if err != nil {
			t.Fatalf("steps written out do not parse: %v\n%s", err, out.String())
		}
		if len(again.Steps) != len(s.Steps) {
			t.Fatalf("%d steps, %d after a round trip", len(s.Steps), len(again.Steps))
		}
		for i, st := range again.Steps {
			if st.Kind != s.Steps[i].Kind || st.Arg != s.Steps[i].Arg {
				t.Fatalf("step %d: %+v, %+v after a round trip", i, s.Steps[i], st)
			}
		}
	})
}

// FuzzCloudReply: a `>` step written as a Cloud API message object goes
// through the webhook parser and the engine's folding; whatever the object,
// it gives a reply with a type or an error, never a panic.
func FuzzCloudReply(f *testing.F) {
	f.Add([]byte(`{"type":"text","text":{"body":"hi"}}`))
	f.Add([]byte(`{"type":"interactive","interactive":{"type":"button_reply","button_reply":{"id":"yes","title":"Yes"}}}`))
	f.Add([]byte(`{"type":"location","location":{"latitude":52.5,"longitude":13.4}}`))
	f.Add([]byte(`{"type":"text","text":{"body":"from an ad"},"referral":{"source_type":"ad"}}`))
	f.Add([]byte(`{"type":"image","image":{"id":"1","mime_type":"image/jpeg"}}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		reply, _, err := cloudReply(raw)
		if err == nil && reply.Type == "" {
			t.Fatalf("a reply without a type from %s", raw)
		}
	})
}
