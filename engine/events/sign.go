package events

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Headers of a delivery.
const (
	// HeaderSignature carries "t=<unix seconds>,v1=<hex>": the HMAC-SHA256,
	// under the subscription's secret, of the timestamp, a dot, and the
	// body as sent.
	HeaderSignature = "Parley-Signature"
	// HeaderEventID is the event's id: the same on every attempt and
	// replay, for receivers to drop repeats.
	HeaderEventID = "Parley-Event-Id"
	// HeaderEventType is the event's type.
	HeaderEventType = "Parley-Event-Type"
	// HeaderDelivery is the delivery's number, for support.
	HeaderDelivery = "Parley-Delivery"
)

// DefaultTolerance is how far a signature's timestamp may be from the
// receiver's clock before Verify refuses it as a replay: long enough for
// clocks a little apart, short enough that a captured request soon stops
// being accepted.
const DefaultTolerance = 5 * time.Minute

// Errors of Verify.
var (
	// ErrBadSignature: the header is malformed or no v1 matches.
	ErrBadSignature = errors.New("signature does not match")
	// ErrStale: the timestamp is outside the tolerance.
	ErrStale = errors.New("signature timestamp outside the tolerance")
)

// Sign returns the signature header's value for body sent at t.
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + mac(secret, ts, body)
}

func mac(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}

// Verify checks a signature header against body, as a receiver does: one
// of its v1 values must be the HMAC of its timestamp and body (compared in
// constant time), and the timestamp within tolerance of now.
func Verify(secret, header string, body []byte, now time.Time, tolerance time.Duration) error {
	var ts string
	var sigs []string
	for _, part := range strings.Split(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(part), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return fmt.Errorf("%w: header is not t=<unix>,v1=<hex>", ErrBadSignature)
	}
	want := []byte(mac(secret, ts, body))
	match := false
	for _, s := range sigs {
		if hmac.Equal([]byte(s), want) {
			match = true
		}
	}
	if !match {
		return ErrBadSignature
	}
	if d := now.Sub(time.Unix(sec, 0)); d > tolerance || d < -tolerance {
		return fmt.Errorf("%w: %v away", ErrStale, d.Round(time.Second))
	}
	return nil
}
