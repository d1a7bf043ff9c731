package storage

import (
	"context"
	"sync/atomic"

	"github.com/uptrace/bun"
)

// StatementCounter is a bun query hook that counts the SQL statements a
// database runs, so tests can show that a list query's cost does not grow
// with its rows (no N+1).
type StatementCounter struct {
	n atomic.Int64
}

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

func (c *StatementCounter) AfterQuery(_ context.Context, _ *bun.QueryEvent) { c.n.Add(1) }

// Count is the number of statements run so far.
func (c *StatementCounter) Count() int64 { return c.n.Load() }

// Reset sets the count back to zero.
func (c *StatementCounter) Reset() { c.n.Store(0) }
