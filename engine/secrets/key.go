package secrets

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size of the secrets key: AES-256.
const KeySize = 32

// KeyEnv names the environment variable that holds the secrets key,
// base64 of 32 bytes. When it is set, no key file is read or made.
const KeyEnv = "PARLEY_SECRETS_KEY"

// KeyFile is the key file's name in the data directory, beside the data
// file but not in it: a copy of the data file alone (a backup) holds the
// sealed values, never the key that opens them.
const KeyFile = "secrets.key"

// KeySource tells where LoadKey found the key, for the startup log.
type KeySource string

// Where a key comes from.
const (
	FromEnv     KeySource = "env"     // PARLEY_SECRETS_KEY
	FromFile    KeySource = "file"    // dir/secrets.key, as it was
	FromNewFile KeySource = "created" // dir/secrets.key, just made
)

// LoadKey returns the secrets key: from the environment variable KeyEnv
// when env returns it set (env is os.Getenv in serve), else from the file
// KeyFile in dir, which is made with a new random key, readable by its
// owner only (0600), the first time.
func LoadKey(dir string, env func(string) string) ([]byte, KeySource, error) {
	if v := strings.TrimSpace(env(KeyEnv)); v != "" {
		key, err := decodeKey(v)
		if err != nil {
			return nil, "", fmt.Errorf("secrets: %s: %w", KeyEnv, err)
		}
		return key, FromEnv, nil
	}
	path := filepath.Join(dir, KeyFile)
	b, err := os.ReadFile(path)
	if err == nil {
		key, err := decodeKey(strings.TrimSpace(string(b)))
		if err != nil {
			return nil, "", fmt.Errorf("secrets: key file %s: %w", path, err)
		}
		return key, FromFile, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, "", fmt.Errorf("secrets: key file: %w", err)
	}
	key := make([]byte, KeySize)
	if _, err := rand.Read(key); err != nil {
		return nil, "", fmt.Errorf("secrets: new key: %w", err)
	}
	err = writeKeyFile(path, key)
	if errors.Is(err, fs.ErrExist) { // another process made it first: its key is the key
		return LoadKey(dir, func(string) string { return "" })
	}
	if err != nil {
		return nil, "", err
	}
	return key, FromNewFile, nil
}

// writeKeyFile makes path with key, 0600, durably. The key is written to
// a temporary file first and linked to path whole, so that no one ever
// reads a half-written key; it never replaces a file (fs.ErrExist: if
// another process made one first, its key is the key).
func writeKeyFile(path string, key []byte) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+KeyFile+"-*") // 0600
	if err != nil {
		return fmt.Errorf("secrets: making key file: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(f.Name(), path)
	}
	if err != nil {
		return fmt.Errorf("secrets: writing key file: %w", err)
	}
	if d, err := os.Open(filepath.Dir(path)); err == nil { // the new name is durable too
		d.Sync()
		d.Close()
	}
	return nil
}

// decodeKey decodes base64 (standard or URL alphabet, padded or not) of
// exactly KeySize bytes.
func decodeKey(s string) ([]byte, error) {
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if key, err := enc.DecodeString(s); err == nil {
			if len(key) != KeySize {
				return nil, fmt.Errorf("the key is %d bytes, want %d (base64 of 32 random bytes: openssl rand -base64 32)", len(key), KeySize)
			}
			return key, nil
		}
	}
	return nil, errors.New("not base64 (want base64 of 32 random bytes: openssl rand -base64 32)")
}
