package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseNumbers(t *testing.T) {
	env := map[string]string{"TOKEN_B": "secret-b"}
	getenv := func(k string) string { return env[k] }
	file := filepath.Join(t.TempDir(), "numbers.json")
	if err := os.WriteFile(file, []byte(`[{"phone_number_id": "222", "waba_id": "20", "access_token_env": "TOKEN_B", "portfolio": "care", "throughput": 250}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	ns, err := parseNumbers(file, getenv)
	if err != nil || len(ns) != 1 || ns[0].AccessToken != "secret-b" || ns[0].Portfolio != "care" || ns[0].Throughput != 250 {
		t.Fatalf("from a file: %+v %v", ns, err)
	}
	c := &serveConfig{phoneNumberID: "111", wabaID: "10", token: "secret-a", numbers: ns}
	all, err := servedNumbers(c)
	if err != nil || len(all) != 2 || all[0].PhoneNumberID != "111" || all[1].WABAID != "20" {
		t.Fatalf("served: %+v %v", all, err)
	}
	if r := numberRates(all); len(r) != 1 || r["222"] != 250 {
		t.Errorf("rates %v", r)
	}
	for _, tc := range []struct{ spec, want string }{
		{`[{"phone_number_id": "+1 555"}]`, "not a phone number id"},
		{`[{"phone_number_id": "333"}]`, "no access token"},
		{`[{"phone_number_id": "333", "access_token_env": "NOPE"}]`, "NOPE holds no access token"},
		{`[{"phone_number_id": "333", "access_token": "x", "tokn": "y"}]`, "unknown field"},
		{`/no/such/file.json`, "numbers file"},
	} {
		if _, err := parseNumbers(tc.spec, getenv); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.spec, err, tc.want)
		}
	}
	c.numbers = append(c.numbers, numberConfig{PhoneNumberID: "111", AccessToken: "x"})
	if _, err := servedNumbers(c); err == nil || !strings.Contains(err.Error(), "configured twice") {
		t.Errorf("a number twice: %v", err)
	}
}
