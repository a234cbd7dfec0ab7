package pgstore

// FeedID names a store's inbox notes and its feed's connection
// (application_name "parley inbox feed <id>"), for tests that cut it.
func FeedID(s *Store) string { return s.feedID }
