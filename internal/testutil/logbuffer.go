// Package testutil holds helpers shared by the tests of several packages.
package testutil

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
)

// LogBuffer collects what a server logs; it is safe to read while the
// server's goroutines write.
type LogBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Entries parses every line as a JSON log record; a line that is not JSON
// is returned in bad.
func (b *LogBuffer) Entries() (entries []map[string]any, bad []string) {
	for _, line := range strings.Split(b.String(), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var e map[string]any
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			bad = append(bad, line)
			continue
		}
		entries = append(entries, e)
	}
	return entries, bad
}

// Find returns the last JSON record whose msg is msg.
func (b *LogBuffer) Find(msg string) (map[string]any, bool) {
	entries, _ := b.Entries()
	for i := len(entries) - 1; i >= 0; i-- {
		if entries[i]["msg"] == msg {
			return entries[i], true
		}
	}
	return nil, false
}
