package ui

import "github.com/gofiber/fiber/v2"

// flowRoutes registers the flows API (being written).
func (s *Server) flowRoutes(api fiber.Router) {}
