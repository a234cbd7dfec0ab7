package ui

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"
)

// byCustomer keeps each customer's items in order and runs customers at
// the same time: two customers whose first items wait for each other
// finish only if they run concurrently.
func TestByCustomer(t *testing.T) {
	type item struct{ customer, text string }
	items := []item{{"a", "a1"}, {"b", "b1"}, {"a", "a2"}, {"c", "c1"}, {"b", "b2"}, {"a", "a3"}}
	var mu sync.Mutex
	seen := map[string][]string{}
	var started sync.WaitGroup
	started.Add(2)
	bad := errors.New("c failed")
	err := byCustomer(items, func(it *item) string { return it.customer }, func(it *item) error {
		if it.text == "a1" || it.text == "b1" {
			started.Done()
			done := make(chan struct{})
			go func() { started.Wait(); close(done) }()
			select {
			case <-done:
			case <-time.After(10 * time.Second):
				return fmt.Errorf("%s waited alone: customers do not run at the same time", it.text)
			}
		}
		mu.Lock()
		seen[it.customer] = append(seen[it.customer], it.text)
		mu.Unlock()
		if it.customer == "c" {
			return bad
		}
		return nil
	})
	if !errors.Is(err, bad) {
		t.Errorf("error: %v, want the failing item's", err)
	}
	for c, want := range map[string][]string{"a": {"a1", "a2", "a3"}, "b": {"b1", "b2"}, "c": {"c1"}} {
		if !slices.Equal(seen[c], want) {
			t.Errorf("customer %s: %v, want %v in order", c, seen[c], want)
		}
	}
	if err := byCustomer([]item{}, func(it *item) string { return it.customer }, func(*item) error { return bad }); err != nil {
		t.Errorf("no items: %v", err)
	}
}
