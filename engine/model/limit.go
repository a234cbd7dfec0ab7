package model

import "time"

// ReachScope is the scope reaches are counted in: the business portfolio,
// whose numbers share one limit.
const ReachScope = "default"

// LimitWindow is the moving window the messaging limit counts over.
const LimitWindow = 24 * time.Hour
