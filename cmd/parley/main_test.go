package main

import (
	"os"
	"testing"

	"golang.org/x/crypto/bcrypt"
)

// TestMain makes password hashing cheap for every serve and user command
// the tests run: the production cost is about 1.5 s a hash under -race.
func TestMain(m *testing.M) {
	passwordCost = bcrypt.MinCost
	os.Exit(m.Run())
}
