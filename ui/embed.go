package ui

import "embed"

// dist is the built web app (ui/web, built with `npm run build` into
// ui/dist and committed), so that `go build` needs no Node. A test
// (static_test.go) fails when it is older than its sources.
//
//go:embed all:dist
var dist embed.FS
