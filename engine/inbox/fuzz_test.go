package inbox

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"
	"time"
)

// FuzzQueue: a queue as PUT /inbox/queues/:id reads it (unknown fields
// refused) is refused with ErrInvalid or kept; for a kept queue with hours,
// whenever a customer writes, the queue is open or its closed reply names a
// time within a week, after the customer wrote, at which it is open.
func FuzzQueue(f *testing.F) {
	f.Add([]byte(`{"id":"support","name":"Support","hours":{"timezone":"Europe/Dublin","open":{"mon":["09:00-17:00"],"tue":["09:00-12:00","13:00-17:30"]}},"closed_reply":"Back {{opens}}"}`), int64(1767607200))
	f.Add([]byte(`{"id":"night","hours":{"timezone":"America/New_York","open":{"sun":["00:00-24:00"],"sat":["22:00-24:00"]}}}`), int64(1773554400))
	f.Add([]byte(`{"id":"berlin","hours":{"timezone":"Europe/Berlin","open":{"sun":["02:00-03:00"]}}}`), int64(1774739000))
	f.Add([]byte(`{"id":"Bad Id","hours":{"open":{"monday":["9-5"]}}}`), int64(0))
	f.Add([]byte(`{"id":"x","hours":{"timezone":"Mars/Olympus","open":{}}}`), int64(0))
	f.Fuzz(func(t *testing.T, body []byte, unix int64) {
		var q Queue
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if dec.Decode(&q) != nil {
			return
		}
		if err := q.normalize(); err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("normalize = %v, want ErrInvalid", err)
			}
			return
		}
		if q.Hours == nil {
			return
		}
		// 2000 to 2100
		now := time.Unix(946684800+int64(uint64(unix)%(100*365*24*3600)), 0).UTC()
		at, ok := q.Hours.NextOpen(now)
		if q.Hours.IsOpen(now) {
			if !ok || !at.Equal(now) || q.closedReply(now) != "" {
				t.Fatalf("open at %v, yet NextOpen = %v, %v, closed reply %q", now, at, ok, q.closedReply(now))
			}
			return
		}
		if q.closedReply(now) == "" {
			t.Fatalf("closed at %v with no closed reply", now)
		}
		if ok && (!at.After(now) || at.Sub(now) > 8*24*time.Hour || !q.Hours.IsOpen(at)) {
			t.Fatalf("closed at %v; NextOpen says %v, where IsOpen is %v", now, at, q.Hours.IsOpen(at))
		}
	})
}
