package ui

import (
	"encoding/json"
	"errors"

	"github.com/gofiber/fiber/v2"

	"github.com/parleyhq/parley/engine/secrets"
	"github.com/parleyhq/parley/ui/auth"
)

// secretRoutes registers the admins' management of secrets: names and
// fingerprints are listed; values go in and never come out.
func (s *Server) secretRoutes(api fiber.Router) {
	api.Get("/secrets", auth.Require(auth.Admin), s.listSecrets)
	api.Put("/secrets/:name", auth.Require(auth.Admin), s.putSecret)
	api.Delete("/secrets/:name", auth.Require(auth.Admin), s.deleteSecret)
}

// errNoSecrets answers when the server keeps no secrets (Config.Secrets nil).
var errNoSecrets = fiber.NewError(fiber.StatusServiceUnavailable, "secrets are not kept by this server")

func (s *Server) listSecrets(c *fiber.Ctx) error {
	if s.cfg.Secrets == nil {
		return errNoSecrets
	}
	list, err := s.cfg.Secrets.List(c.UserContext())
	if err != nil {
		return err
	}
	return c.JSON(fiber.Map{"secrets": list})
}

// putSecret stores {"value": "..."} under the name: 201 when it is new,
// 200 when it replaces one. The answer is the secret's Info, never the
// value; no error quotes the body.
func (s *Server) putSecret(c *fiber.Ctx) error {
	if s.cfg.Secrets == nil {
		return errNoSecrets
	}
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	var req struct {
		Value *string `json:"value"`
	}
	// The decoder's error may quote a character of the body: it is not
	// passed on.
	if json.Unmarshal(c.Body(), &req) != nil || req.Value == nil {
		return fiber.NewError(fiber.StatusBadRequest, `the body is not {"value": "<the secret>"}`)
	}
	in, created, err := s.cfg.Secrets.Put(c.UserContext(), name, *req.Value, actor(c))
	if errors.Is(err, secrets.ErrInvalid) {
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	}
	if err != nil {
		return err
	}
	s.log.Info("secret stored", "name", name, "fingerprint", in.Fingerprint, "created", created, "by", actor(c))
	status := fiber.StatusOK
	if created {
		status = fiber.StatusCreated
	}
	return c.Status(status).JSON(in)
}

func (s *Server) deleteSecret(c *fiber.Ctx) error {
	if s.cfg.Secrets == nil {
		return errNoSecrets
	}
	name, err := param(c, "name")
	if err != nil {
		return err
	}
	err = s.cfg.Secrets.Delete(c.UserContext(), name)
	switch {
	case errors.Is(err, secrets.ErrSecretNotFound):
		return fiber.NewError(fiber.StatusNotFound, "no secret "+name)
	case errors.Is(err, secrets.ErrInvalid):
		return fiber.NewError(fiber.StatusBadRequest, err.Error())
	case err != nil:
		return err
	}
	s.log.Info("secret deleted", "name", name, "by", actor(c))
	return c.SendStatus(fiber.StatusNoContent)
}
