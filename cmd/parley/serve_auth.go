package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/parleyhq/parley/ui/auth"
)

// Environment variables that seed the first admin non-interactively (a
// container's first start). They are read from the environment only:
// a password never goes in a flag, which `ps` would show.
const (
	envAdminEmail    = "PARLEY_ADMIN_EMAIL"
	envAdminPassword = "PARLEY_ADMIN_PASSWORD"
)

// adminSeedFromEnv reads PARLEY_ADMIN_EMAIL and PARLEY_ADMIN_PASSWORD.
func adminSeedFromEnv(c *serveConfig) error {
	c.adminEmail, c.adminPassword = os.Getenv(envAdminEmail), os.Getenv(envAdminPassword)
	if (c.adminEmail == "") != (c.adminPassword == "") {
		return fmt.Errorf("set both %s and %s, or neither", envAdminEmail, envAdminPassword)
	}
	return nil
}

// passwordCost is the bcrypt cost of the password hashes serve and the
// user commands make; 0 is auth.DefaultCost. The package's tests lower it
// to bcrypt.MinCost: a hash at the production cost takes about 1.5 s
// under the race detector, and a busy 2-core machine runs many.
var passwordCost int

// startAuth opens sign-in on the store and makes sure someone can sign
// in: it seeds the first admin from the environment, or says at start how
// the first admin is created.
func startAuth(ctx context.Context, c serveConfig, db auth.Records, log *slog.Logger) (*auth.Service, error) {
	proxies, err := auth.ParseTrustedProxies(c.trustedProxies)
	if err != nil {
		return nil, fmt.Errorf("-trusted-proxies: %w", err)
	}
	svc, err := auth.New(db, auth.Options{Logger: log, SecureCookie: c.secureCookie, Cost: passwordCost, TrustedProxies: proxies})
	if err != nil {
		return nil, err
	}
	if c.adminEmail != "" {
		// Setup logs the admin it creates.
		_, err := svc.Setup(ctx, auth.NewUser{Email: c.adminEmail, Name: "Admin", Password: c.adminPassword})
		switch {
		case errors.Is(err, auth.ErrSetupDone):
			log.Info(envAdminEmail + " ignored: users exist already")
		case err != nil:
			return nil, fmt.Errorf("%s: %w", envAdminEmail, err)
		}
	}
	needed, err := svc.SetupNeeded(ctx)
	if err != nil {
		return nil, err
	}
	if needed {
		url := localURL(c.addr)
		msg := "no user yet: open " + url + " in a browser on this machine to create the admin account, or run `parley user add --role admin`"
		if c.sandbox {
			log.Info(msg, "url", url)
		} else {
			log.Warn(msg, "url", url)
		}
	}
	return svc, nil
}

// localURL is the URL a browser on this machine opens for addr: a
// wildcard host (":8080", "0.0.0.0:8080") is reached as localhost.
func localURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr + "/"
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port) + "/"
}
