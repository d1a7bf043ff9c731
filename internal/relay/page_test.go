package relay_test

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// pageRow is a row of a table made for these tests.
type pageRow struct {
	bun.BaseModel `bun:"table:page_rows,alias:r"`

	ID   int64  `bun:"id,pk,autoincrement"`
	Name string `bun:"name,notnull"`
}

func rowKey(r *pageRow) (string, int64) { return r.Name, r.ID }

var (
	byName   = relay.Order{Column: "r.name", IDColumn: "r.id"}
	byID     = relay.Order{IDColumn: "r.id"}
	rowCount = 37
)

// pageTable creates page_rows with rowCount rows whose names repeat (ties
// broken by id) and are not in id order, and returns them sorted as o sorts.
func pageTable(t *testing.T, db *bun.DB) []*pageRow {
	t.Helper()
	ctx := context.Background()
	if _, err := db.NewCreateTable().Model((*pageRow)(nil)).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	rows := make([]*pageRow, rowCount)
	for i := range rows {
		rows[i] = &pageRow{Name: fmt.Sprintf("name %02d", (i*7)%10)}
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		t.Fatal(err)
	}
	return rows
}

// sorted is rows in the order o gives.
func sorted(rows []*pageRow, o relay.Order) []int64 {
	s := slices.Clone(rows)
	slices.SortFunc(s, func(a, b *pageRow) int {
		c := 0
		if o.Column != "" {
			c = cmp.Compare(a.Name, b.Name)
		}
		if c == 0 {
			c = cmp.Compare(a.ID, b.ID)
		}
		if o.Desc {
			c = -c
		}
		return c
	})
	ids := make([]int64, len(s))
	for i, r := range s {
		ids[i] = r.ID
	}
	return ids
}

func paginate(db *bun.DB, args relay.PageArgs, o relay.Order) (*relay.Page[*pageRow], error) {
	return relay.Paginate(context.Background(), db.NewSelect().Model((*pageRow)(nil)), args, o, rowKey)
}

func ids(p *relay.Page[*pageRow]) []int64 {
	out := make([]int64, len(p.Items))
	for i, r := range p.Items {
		out[i] = r.ID
	}
	return out
}

// walk pages through the whole table, forward with first/after or backward
// with last/before, and returns the ids in the order o gives.
func walk(t *testing.T, db *bun.DB, o relay.Order, size int, backward bool) []int64 {
	t.Helper()
	var out []int64
	var cursor *string
	for range rowCount + 2 {
		args := relay.PageArgs{First: &size, After: cursor}
		if backward {
			args = relay.PageArgs{Last: &size, Before: cursor}
		}
		p, err := paginate(db, args, o)
		if err != nil {
			t.Fatal(err)
		}
		if p.TotalCount != rowCount {
			t.Errorf("totalCount %d, want %d", p.TotalCount, rowCount)
		}
		if len(p.Cursors) != len(p.Items) || len(p.Items) > size {
			t.Fatalf("%d items, %d cursors for a page of %d", len(p.Items), len(p.Cursors), size)
		}
		if backward {
			// The page is in order; the walk prepends it.
			out = append(ids(p), out...)
			if p.HasNextPage != (cursor != nil) {
				t.Errorf("hasNextPage %v with before %v", p.HasNextPage, cursor != nil)
			}
			if !p.HasPreviousPage {
				return out
			}
			cursor = &p.Cursors[0]
		} else {
			out = append(out, ids(p)...)
			if p.HasPreviousPage != (cursor != nil) {
				t.Errorf("hasPreviousPage %v with after %v", p.HasPreviousPage, cursor != nil)
			}
			if !p.HasNextPage {
				return out
			}
			cursor = &p.Cursors[len(p.Cursors)-1]
		}
	}
	t.Fatal("the walk does not end")
	return nil
}

func TestPaginateWalksEveryRowOnce(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		rows := pageTable(t, db)
		for _, o := range []relay.Order{byName, byID, {Column: "r.name", IDColumn: "r.id", Desc: true}, {IDColumn: "r.id", Desc: true}} {
			want := sorted(rows, o)
			for _, size := range []int{1, 5, 10, 36, 37, relay.MaxPage} {
				for _, backward := range []bool{false, true} {
					if got := walk(t, db, o, size, backward); !slices.Equal(got, want) {
						t.Errorf("order %+v, pages of %d, backward %v:\n got %v\nwant %v", o, size, backward, got, want)
					}
				}
			}
		}
	})
}

func TestPaginateWindowsAndCounts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		rows := pageTable(t, db)
		want := sorted(rows, byName)
		all, err := paginate(db, relay.PageArgs{First: ptr(relay.MaxPage)}, byName)
		if err != nil {
			t.Fatal(err)
		}
		// Between two cursors, from either end.
		after, before := all.Cursors[4], all.Cursors[15]
		for _, args := range []relay.PageArgs{
			{First: ptr(50), After: &after, Before: &before},
			{Last: ptr(50), After: &after, Before: &before},
		} {
			p, err := paginate(db, args, byName)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(ids(p), want[5:15]) {
				t.Errorf("between cursors %+v: %v, want %v", args, ids(p), want[5:15])
			}
		}
		// A short last page from the end.
		p, err := paginate(db, relay.PageArgs{Last: ptr(3)}, byName)
		if err != nil || !slices.Equal(ids(p), want[rowCount-3:]) || !p.HasPreviousPage || p.HasNextPage {
			t.Errorf("last 3: %v %+v, %v", ids(p), p, err)
		}
		// No arguments: the default page, from the start.
		p, err = paginate(db, relay.PageArgs{}, byName)
		if err != nil || !slices.Equal(ids(p), want[:relay.DefaultPage]) || !p.HasNextPage {
			t.Errorf("default page: %v, %v", ids(p), err)
		}
		// totalCount counts the filtered rows, not the page.
		q := db.NewSelect().Model((*pageRow)(nil)).Where("r.name <> ?", "name 00")
		fp, err := relay.Paginate(context.Background(), q, relay.PageArgs{First: ptr(2)}, byName, rowKey)
		zeros := 0
		for _, r := range rows {
			if r.Name == "name 00" {
				zeros++
			}
		}
		if err != nil || fp.TotalCount != rowCount-zeros || len(fp.Items) != 2 {
			t.Errorf("filtered: total %d items %d, %v", fp.TotalCount, len(fp.Items), err)
		}
		// first: 0 counts without reading rows: one statement.
		counter := storage.CountStatements(db)
		p, err = paginate(db, relay.PageArgs{First: ptr(0)}, byName)
		if err != nil || len(p.Items) != 0 || p.TotalCount != rowCount || counter.Count() != 1 {
			t.Errorf("first 0: %d items, total %d, %d statements, %v", len(p.Items), p.TotalCount, counter.Count(), err)
		}
		counter.Reset()
		if _, err := paginate(db, relay.PageArgs{First: ptr(relay.MaxPage)}, byName); err != nil || counter.Count() != 2 {
			t.Errorf("a full page took %d statements, %v", counter.Count(), err)
		}
	})
}

func TestPaginateRefusesBadArguments(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		pageTable(t, db)
		zeroID := base64.RawURLEncoding.EncodeToString([]byte(`key:{"k":"x","i":0}`))
		notJSON := base64.RawURLEncoding.EncodeToString([]byte(`key:nope`))
		other := relay.Cursor(3) // a cursor of another kind of list
		cases := []struct {
			field string
			args  relay.PageArgs
		}{
			{"first", relay.PageArgs{First: ptr(-1)}},
			{"first", relay.PageArgs{First: ptr(relay.MaxPage + 1)}},
			{"last", relay.PageArgs{Last: ptr(-1)}},
			{"last", relay.PageArgs{Last: ptr(relay.MaxPage + 1)}},
			{"last", relay.PageArgs{First: ptr(5), Last: ptr(5)}},
			{"after", relay.PageArgs{After: ptr("not a cursor!")}},
			{"after", relay.PageArgs{After: &zeroID}},
			{"after", relay.PageArgs{After: &notJSON}},
			{"after", relay.PageArgs{After: &other}},
			{"before", relay.PageArgs{Last: ptr(2), Before: ptr("")}},
		}
		for _, c := range cases {
			_, err := paginate(db, c.args, byName)
			var ae *apperr.Error
			if !errors.As(err, &ae) || ae.Kind != apperr.BadInput || ae.Field != c.field {
				t.Errorf("%+v: got %v, want BAD_USER_INPUT on %s", c.args, err, c.field)
			}
		}
	})
}

// TestPaginateRefusesCursorsOfAnotherOrder: a cursor names a position in
// one order; given to a list in another (another column, or the other
// direction), it would restart the list or skip rows, so it is refused,
// naming the argument.
func TestPaginateRefusesCursorsOfAnotherOrder(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		pageTable(t, db)
		byNameDesc := relay.Order{Column: "r.name", IDColumn: "r.id", Desc: true}
		byIDDesc := relay.Order{IDColumn: "r.id", Desc: true}
		orders := []relay.Order{byName, byNameDesc, byID, byIDDesc}
		for _, made := range orders {
			p, err := paginate(db, relay.PageArgs{First: ptr(3)}, made)
			if err != nil {
				t.Fatal(err)
			}
			cursor := p.Cursors[1]
			if _, err := base64.RawURLEncoding.DecodeString(cursor); err != nil {
				t.Errorf("cursor %q is not base64url: %v", cursor, err)
			}
			for _, used := range orders {
				for _, args := range []relay.PageArgs{{First: ptr(3), After: &cursor}, {Last: ptr(3), Before: &cursor}} {
					field := "after"
					if args.Before != nil {
						field = "before"
					}
					_, err := paginate(db, args, used)
					if used == made {
						if err != nil {
							t.Errorf("a cursor of %+v in its own order, as %s: %v", made, field, err)
						}
						continue
					}
					var ae *apperr.Error
					if !errors.As(err, &ae) || ae.Kind != apperr.BadInput || ae.Field != field {
						t.Errorf("a cursor of %+v used as %s in %+v: %v, want BAD_USER_INPUT on %s", made, field, used, err, field)
					}
				}
			}
		}
	})
}

func ptr[T any](v T) *T { return &v }

// TestPaginateWithoutCount: a caller that does not want the total gets the
// same page in one statement instead of two.
func TestPaginateWithoutCount(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		pageTable(t, db)
		counter := storage.CountStatements(db)
		o := byName
		size := 4
		counter.Reset()
		with, err := paginate(db, relay.PageArgs{First: &size}, o)
		if err != nil {
			t.Fatal(err)
		}
		counted := counter.Count()
		counter.Reset()
		without, err := paginate(db, relay.PageArgs{First: &size, NoCount: true}, o)
		if err != nil {
			t.Fatal(err)
		}
		if counted != 2 || counter.Count() != 1 {
			t.Errorf("%d statements with the count, %d without; want 2 and 1", counted, counter.Count())
		}
		if with.TotalCount != rowCount || without.TotalCount != 0 || !slices.Equal(ids(with), ids(without)) ||
			with.HasNextPage != without.HasNextPage || !slices.Equal(with.Cursors, without.Cursors) {
			t.Errorf("with the count %v (%d), without %v (%d)", ids(with), with.TotalCount, ids(without), without.TotalCount)
		}
	})
}
