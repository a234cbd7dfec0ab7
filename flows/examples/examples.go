// Package examples holds example flows a business would really use, each
// with a conversation script that proves it. `parley serve` loads them in
// sandbox mode as demo flows.
package examples

import (
	"embed"
	"io/fs"
)

//go:embed *.json
var files embed.FS

// FS holds the example flows, one JSON file each.
var FS fs.FS = files
