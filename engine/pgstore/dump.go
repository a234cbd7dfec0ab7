package pgstore

import (
	"fmt"
	"net/url"
	"strings"
)

// libpqParams are the connection parameters libpq (pg_dump, psql) reads
// from a URL; the others a Parley URL may carry (pgx's pool_* and cache
// settings, LeaseParam, server settings such as search_path) it refuses.
var libpqParams = map[string]bool{
	"host": true, "hostaddr": true, "port": true, "dbname": true, "user": true, "passfile": true,
	"channel_binding": true, "connect_timeout": true, "client_encoding": true, "options": true,
	"application_name": true, "fallback_application_name": true, "keepalives": true, "keepalives_idle": true,
	"keepalives_interval": true, "keepalives_count": true, "tcp_user_timeout": true, "gssencmode": true,
	"sslmode": true, "requiressl": true, "sslcompression": true, "sslcert": true, "sslkey": true, "sslpassword": true,
	"sslrootcert": true, "sslcrl": true, "sslcrldir": true, "sslsni": true, "requirepeer": true,
	"ssl_min_protocol_version": true, "ssl_max_protocol_version": true, "krbsrvname": true, "gsslib": true,
	"service": true, "target_session_attrs": true, "load_balance_hosts": true,
}

// Dump is how pg_dump backs up the database of a Parley URL.
type Dump struct {
	// Args are pg_dump's arguments: a custom-format archive written to
	// the file, of Parley's schema only when the URL's search_path names
	// one, from the URL as libpq reads it, password left out.
	Args []string
	// Password is the URL's, for PGPASSWORD ("" for none): never an
	// argument, which the process list would show.
	Password string
	// URL is the URL libpq reads, password left out (pg_restore's
	// --dbname to restore the archive).
	URL string
	// Schema is search_path's first schema, "" when the URL sets none.
	Schema string
}

// DumpCommand returns how pg_dump writes a backup of the database a
// Parley URL (PARLEY_STORE) names to file: pg_dump reads one consistent
// snapshot while Parley runs, and pg_restore restores it.
func DumpCommand(raw, file string) (*Dump, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, fmt.Errorf("pgstore: %q is not a postgres:// URL", redact(raw))
	}
	d := &Dump{}
	if u.User != nil {
		d.Password, _ = u.User.Password()
		u.User = url.User(u.User.Username())
	}
	q := u.Query()
	if sp := q.Get("search_path"); sp != "" {
		d.Schema = strings.Trim(strings.TrimSpace(strings.Split(sp, ",")[0]), `"`)
	}
	for k := range q {
		if !libpqParams[k] {
			q.Del(k)
		}
	}
	u.RawQuery = q.Encode()
	d.URL = u.String()
	d.Args = []string{"--format=custom", "--file=" + file}
	if d.Schema != "" {
		d.Args = append(d.Args, "--schema="+d.Schema)
	}
	d.Args = append(d.Args, "--dbname="+d.URL)
	return d, nil
}

// redact is a URL with its password masked, for messages.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(a URL that does not parse)"
	}
	return u.Redacted()
}
