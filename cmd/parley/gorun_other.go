//go:build !linux

package main

// stopWithGoRun does nothing here: see gorun_linux.go.
func stopWithGoRun() {}
