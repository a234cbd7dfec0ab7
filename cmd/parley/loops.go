package main

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
	"sync/atomic"
)

// loops runs serve's background loops (the dispatcher, timers, schedules,
// template sync, the inbox). Each must run until serve stops: one that
// returns or panics before is fatal, and serve stops with its cause
// rather than stall silently (a dispatcher that is gone leaves every reply
// queued while webhooks are still acknowledged).
type loops struct {
	ctx   context.Context
	wg    sync.WaitGroup
	fatal chan error
	down  atomic.Pointer[error]
}

func newLoops(ctx context.Context) *loops {
	return &loops{ctx: ctx, fatal: make(chan error, 1)}
}

// run runs fn in its own goroutine until the loops' context is done.
func (l *loops) run(name string, fn func(context.Context) error) {
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		err := func() (err error) {
			defer func() {
				if r := recover(); r != nil {
					err = fmt.Errorf("panic: %v\n%s", r, debug.Stack())
				}
			}()
			return fn(l.ctx)
		}()
		if l.ctx.Err() != nil && err == nil {
			return // stopping, as asked
		}
		if err == nil {
			err = errors.New("returned while Parley was running")
		}
		err = fmt.Errorf("%s stopped: %w", name, err)
		l.down.CompareAndSwap(nil, &err)
		select {
		case l.fatal <- err:
		default:
		}
	}()
}

// Down is the first loop's failure, or nil while all run.
func (l *loops) Down() error {
	if p := l.down.Load(); p != nil {
		return *p
	}
	return nil
}

// wait waits for every loop to return.
func (l *loops) wait() { l.wg.Wait() }
