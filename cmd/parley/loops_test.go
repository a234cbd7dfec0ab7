package main

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// A background loop that stops while Parley runs is fatal, with its name
// and cause; one that stops because Parley is stopping is not.
func TestLoopsStoppingIsFatal(t *testing.T) {
	cases := []struct {
		name  string
		loop  func(context.Context) error
		fatal string // "" : not fatal
	}{
		{"returns an error", func(context.Context) error { return errors.New("store closed") }, "the dispatcher stopped: store closed"},
		{"returns nil early", func(context.Context) error { return nil }, "the dispatcher stopped: returned while Parley was running"},
		{"panics", func(context.Context) error { panic("nil map") }, "the dispatcher stopped: panic: nil map"},
		{"stops when asked", func(ctx context.Context) error { <-ctx.Done(); return nil }, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			l := newLoops(ctx)
			l.run("the dispatcher", tc.loop)
			if tc.fatal == "" {
				cancel()
				l.wait()
				if err := l.Down(); err != nil {
					t.Fatalf("Down() = %v after a requested stop", err)
				}
				select {
				case err := <-l.fatal:
					t.Fatalf("fatal %v after a requested stop", err)
				default:
				}
				return
			}
			err := <-l.fatal
			if !strings.Contains(err.Error(), tc.fatal) {
				t.Errorf("fatal %q, want %q", err, tc.fatal)
			}
			if l.Down() == nil {
				t.Error("Down() is nil after a loop stopped")
			}
			cancel()
			l.wait()
		})
	}
}
