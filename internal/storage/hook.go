package storage

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// StatementCounter is a bun query hook that counts the SQL statements a
// database runs, so tests can show that a list query's cost does not grow
// with its rows (no N+1). It also keeps the first statements since the last
// Reset, so that a test whose count moved can show which ones did.
type StatementCounter struct {
	n    atomic.Int64
	mu   sync.Mutex
	kept []string
}

// keepStatements is how many statements a counter keeps, each cut to
// keepChars bytes: enough to see which loader split its batch.
const (
	keepStatements = 100
	keepChars      = 200
)

var _ bun.QueryHook = (*StatementCounter)(nil)

// CountStatements installs a counter on db and returns it.
func CountStatements(db *bun.DB) *StatementCounter {
	c := &StatementCounter{}
	db.AddQueryHook(c)
	return c
}

func (c *StatementCounter) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (c *StatementCounter) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	c.n.Add(1)
	c.mu.Lock()
	if len(c.kept) < keepStatements {
		q := e.Query
		if len(q) > keepChars {
			q = q[:keepChars]
		}
		c.kept = append(c.kept, q)
	}
	c.mu.Unlock()
}

// Count is the number of statements run so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

// Statements are the first statements run since the last Reset, each cut to
// 200 bytes, in the order they finished.
func (c *StatementCounter) Statements() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.kept...)
}

// Reset sets the count back to zero and forgets the statements kept.
func (c *StatementCounter) Reset() {
	c.n.Store(0)
	c.mu.Lock()
	c.kept = nil
	c.mu.Unlock()
}
