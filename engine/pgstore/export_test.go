package pgstore

// FeedID names a store's inbox notes and its feed's connection
// (application_name "parley inbox feed <id>"), for tests that cut it.
func FeedID(s *Store) string { return s.feedID }

// SetPruneBatch sets the retention's batch size for a test and returns
// the function that restores it.
func SetPruneBatch(n int) (restore func()) {
	old := pruneBatch
	pruneBatch = n
	return func() { pruneBatch = old }
}

// SetCheckPage sets how many contacts Check reads at a time, for a test,
// and returns the function that restores it.
func SetCheckPage(n int) (restore func()) {
	old := checkPage
	checkPage = n
	return func() { checkPage = old }
}
