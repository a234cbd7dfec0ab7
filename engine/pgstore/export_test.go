package pgstore

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
