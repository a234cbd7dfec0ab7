package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/parleyhq/parley/engine"
	"github.com/parleyhq/parley/engine/templates"
	"github.com/parleyhq/parley/whatsapp"
)

// numberConfig is one business phone number `parley serve` answers on, as
// a numbers file (-numbers, PARLEY_NUMBERS) lists it:
//
//	[{"phone_number_id": "106540352242922", "waba_id": "102290129340398",
//	  "display_phone_number": "15550783881", "access_token_env": "WA_TOKEN_SHOP"},
//	 {"phone_number_id": "106540352242923", "waba_id": "204410000000001",
//	  "access_token_env": "WA_TOKEN_CARE", "portfolio": "care"}]
//
// With one number, the WHATSAPP_* variables alone still do: that number
// comes first (the default), then the file's.
type numberConfig struct {
	PhoneNumberID      string `json:"phone_number_id"`
	WABAID             string `json:"waba_id,omitempty"`
	DisplayPhoneNumber string `json:"display_phone_number,omitempty"`
	// AccessToken is the number's token; better, AccessTokenEnv names the
	// environment variable holding it, so the file holds no secret.
	AccessToken    string `json:"access_token,omitempty"`
	AccessTokenEnv string `json:"access_token_env,omitempty"`
	// Portfolio names the business portfolio whose messaging limit the
	// number shares; numbers without one share the default portfolio.
	Portfolio string `json:"portfolio,omitempty"`
	// APIURL replaces -whatsapp-api-url for this number (a proxy, a test).
	APIURL string `json:"api_url,omitempty"`
	// Throughput replaces -rate for this number: messages per second
	// (Meta raises a number's throughput on request).
	Throughput float64 `json:"throughput,omitempty"`
}

// parseNumbers reads a numbers list: JSON text starting with "[", else the
// path of a file holding it. Tokens named by access_token_env are read
// with getenv.
func parseNumbers(spec string, getenv func(string) string) ([]numberConfig, error) {
	spec = strings.TrimSpace(spec)
	if spec == "" {
		return nil, nil
	}
	data := []byte(spec)
	if !strings.HasPrefix(spec, "[") {
		var err error
		if data, err = os.ReadFile(spec); err != nil {
			return nil, fmt.Errorf("numbers file: %w", err)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var ns []numberConfig
	if err := dec.Decode(&ns); err != nil {
		return nil, fmt.Errorf("numbers: %w", err)
	}
	for i := range ns {
		n := &ns[i]
		if !whatsapp.ValidPhoneNumberID(n.PhoneNumberID) {
			return nil, fmt.Errorf("numbers[%d]: phone_number_id %q is not a phone number id (digits, not the display number)", i, n.PhoneNumberID)
		}
		if n.AccessToken == "" && n.AccessTokenEnv != "" {
			n.AccessToken = getenv(n.AccessTokenEnv)
			if n.AccessToken == "" {
				return nil, fmt.Errorf("numbers[%d] (%s): the variable %s holds no access token", i, n.PhoneNumberID, n.AccessTokenEnv)
			}
		}
		if n.AccessToken == "" {
			return nil, fmt.Errorf("numbers[%d] (%s): no access token (access_token_env names the variable holding it)", i, n.PhoneNumberID)
		}
	}
	return ns, nil
}

// servedNumbers is every number serve answers on: the one of the
// WHATSAPP_* settings first (when set), then the numbers list's.
func servedNumbers(c *serveConfig) ([]numberConfig, error) {
	var out []numberConfig
	if c.phoneNumberID != "" {
		out = append(out, numberConfig{PhoneNumberID: c.phoneNumberID, WABAID: c.wabaID, AccessToken: c.token, DisplayPhoneNumber: c.displayPhone})
	}
	for _, n := range c.numbers {
		if n.WABAID == "" && len(out) > 0 {
			n.WABAID = out[0].WABAID
		}
		out = append(out, n)
	}
	seen := map[string]bool{}
	for _, n := range out {
		if seen[n.PhoneNumberID] {
			return nil, fmt.Errorf("the phone number %s is configured twice", n.PhoneNumberID)
		}
		seen[n.PhoneNumberID] = true
		if n.AccessToken == "" {
			return nil, fmt.Errorf("the phone number %s has no access token", n.PhoneNumberID)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no business phone number: set WHATSAPP_PHONE_NUMBER_ID, or list numbers in PARLEY_NUMBERS (-numbers)")
	}
	return out, nil
}

// numberClients makes each number's Cloud API client and the router that
// sends from the right one.
func numberClients(c *serveConfig, ns []numberConfig) (*whatsapp.Router, []engine.PhoneNumber, error) {
	clients := make([]*whatsapp.Client, len(ns))
	phones := make([]engine.PhoneNumber, len(ns))
	for i, n := range ns {
		url := c.apiURL
		if n.APIURL != "" {
			url = n.APIURL
		}
		clients[i] = whatsapp.NewClient(url, n.AccessToken, n.PhoneNumberID)
		phones[i] = engine.PhoneNumber{ID: n.PhoneNumberID, Display: n.DisplayPhoneNumber, WABAID: n.WABAID, Portfolio: n.Portfolio}
	}
	r, err := whatsapp.NewRouter(clients...)
	return r, phones, err
}

// numberRates are the numbers' own throughputs, for the dispatcher.
func numberRates(ns []numberConfig) map[string]float64 {
	rates := map[string]float64{}
	for _, n := range ns {
		if n.Throughput > 0 {
			rates[n.PhoneNumberID] = n.Throughput
		}
	}
	return rates
}

// templateAccounts are the WABAs of the served numbers, each with the
// client of its first number, whose templates the registry keeps besides
// the default WABA's (the registry skips that one and repeats).
func templateAccounts(r *whatsapp.Router, ns []numberConfig) []templates.Account {
	var out []templates.Account
	for _, n := range ns {
		if n.WABAID != "" {
			out = append(out, templates.Account{WABAID: n.WABAID, Graph: r.Client(n.PhoneNumberID)})
		}
	}
	return out
}
