package tracking

// LiveCounts returns, for a territory, how many changes reached its live
// feed and how many computations the feed started (not counting the
// figures each subscriber gets at once).
func (s *Service) LiveCounts(territory int64) (marks, computed int) {
	s.live.mu.Lock()
	defer s.live.mu.Unlock()
	return s.live.marks[territory], s.live.computed[territory]
}
