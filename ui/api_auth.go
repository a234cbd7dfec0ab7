package ui

import "github.com/gofiber/fiber/v2"

// authRoutes registers sign-in (public), then installs the authentication
// middleware on the API group, then the users and API token routes
// (admin). Every route registered on api after this call is reachable
// only by a signed-in user or an API token, and each names the roles it
// allows with auth.Require next to its registration (permissions_test.go
// fails for a route that is missing from its matrix).
func (s *Server) authRoutes(api fiber.Router) {
	a := s.cfg.Auth
	if a == nil {
		api.Use(func(c *fiber.Ctx) error {
			return fiber.NewError(fiber.StatusServiceUnavailable, "sign-in is not configured (ui.Config.Auth)")
		})
		return
	}
	a.PublicRoutes(api)
	api.Use(a.Middleware())
	a.Routes(api)
}
