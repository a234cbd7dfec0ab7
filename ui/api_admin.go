package ui

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/quarantine"
	"github.com/parleyhq/parley/ui/auth"
)

// Backuper writes a consistent, checked copy of the data file to a file
// (boltstore.Store.BackupFile).
type Backuper interface {
	BackupFile(ctx context.Context, path string) (int64, error)
}

// adminRoutes registers what only admins run on a live instance: a backup
// of the data file, which `parley backup` cannot make while serve holds it,
// and the webhook items set aside as never processable.
func (s *Server) adminRoutes(api fiber.Router) {
	api.Get("/admin/backup", auth.Require(auth.Admin), s.backup)
	api.Get("/webhooks/rejected", auth.Require(auth.Admin), s.listRejected)
}

// listRejected answers the webhook items set aside, newest first: up to
// limit (default 100, at most quarantine.MaxItems, all that are kept).
func (s *Server) listRejected(c *fiber.Ctx) error {
	if s.cfg.Quarantine == nil {
		return fiber.NewError(fiber.StatusServiceUnavailable, "rejected webhook items are not kept by this server")
	}
	limit := c.QueryInt("limit", 100)
	if limit < 1 || limit > quarantine.MaxItems {
		return fiber.NewError(fiber.StatusBadRequest, fmt.Sprintf("limit must be 1 to %d", quarantine.MaxItems))
	}
	items, err := s.cfg.Quarantine.List(c.UserContext(), limit)
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"items": items})
}

// backup answers a consistent copy of the data file as a download. The
// copy is written to a file in Config.BackupDir first, so that the store's
// read transaction lasts as long as a local write, not as long as the
// client's download (bbolt cannot grow its map under a read transaction);
// the file is unlinked at once and streamed from its open handle.
func (s *Server) backup(c *fiber.Ctx) error {
	if s.cfg.Backup == nil {
		// The only store without one is PostgreSQL's, which backs
		// itself up.
		return fiber.NewError(fiber.StatusServiceUnavailable, "this server keeps its data in PostgreSQL, which backs itself up: use pg_dump (`parley backup --store URL FILE` runs it)")
	}
	dir, err := os.MkdirTemp(s.cfg.BackupDir, ".parley-backup-")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir) // the open file stays readable until streamed
	path := filepath.Join(dir, "parley.db")
	n, err := s.cfg.Backup.BackupFile(c.UserContext(), path)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	s.log.Info("backup downloaded", "bytes", n, "by", auth.Current(c).Email)
	c.Set(fiber.HeaderContentType, "application/octet-stream")
	c.Set(fiber.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="parley-%s.db"`, time.Now().UTC().Format("20060102T150405Z")))
	return c.SendStream(f, int(n)) // closed once sent
}
