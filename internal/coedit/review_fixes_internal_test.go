package coedit

import "context"

// Hooks for review_fixes_test.go (package coedit_test).

// ReviewCommitterLogRows is how many old operations s's committer read
// from the log to transform edits.
func ReviewCommitterLogRows(s *Service) int64 { return s.committerLogRows.Load() }

// ReviewHubMaxRead is the most log rows s's hub read at once to fill a gap.
func ReviewHubMaxRead(s *Service) int64 { return s.hub.maxRead.Load() }

// ReviewSetMaxBehind sets how far behind an edit's base may be. Call it
// before s's first edit.
func ReviewSetMaxBehind(s *Service, n int64) { s.maxBehind = n }

// ReviewHubSetLast makes the hub believe it published section sid up to v.
func ReviewHubSetLast(s *Service, sid, v int64) {
	s.hub.pubMu.Lock()
	s.hub.last[sid] = v
	s.hub.pubMu.Unlock()
}

// ReviewHubPublishRange is what the listener does when another instance
// commits versions from..to of section sid of document docID.
func ReviewHubPublishRange(s *Service, sid, docID, from, to int64) {
	s.hub.publishRange(context.Background(), sid, docID, from, to)
}

// ReviewReplayPage is how many log rows a stream reads at a time.
const ReviewReplayPage = replayPage
