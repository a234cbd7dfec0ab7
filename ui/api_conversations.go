package ui

import "github.com/gofiber/fiber/v2"

// conversationRoutes registers the conversations API (being written).
func (s *Server) conversationRoutes(api fiber.Router) {}
