package demo_test

import (
	"context"
	"maps"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/demo"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// Scale 0.02 is about 40 organizations and 200 people, through the import;
// a second run finds them all; the demo can be added on top.
func TestScale(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		rep := e.seed(demo.Options{Scale: 0.02})
		s := rep.Scale
		// Six members per territory, fewer where the few generated
		// organizations of a small territory have fewer people.
		if s == nil || s.Organizations != 40 || s.People != 200 || s.WorkingGroups != 9 || s.Memberships > 9*6 || s.Memberships < 40 {
			t.Fatalf("scale report %+v", s)
		}
		got := e.counts()
		// The people, and the demo administrator who imported them.
		if got["organizations"] != 40 || got["people"] != 201 || got["working_group_members"] != s.Memberships ||
			got["affiliations"] != s.Affiliations || got["working_groups"] != 9 {
			t.Fatalf("tables %v, report %+v", got, s)
		}
		if s.Affiliations < 190 {
			t.Errorf("%d affiliations for 200 people", s.Affiliations)
		}
		created := 0
		for _, f := range s.Files {
			created += f.Created
		}
		if created != 240 {
			t.Errorf("files %+v: %d created, want 240", s.Files, created)
		}
		// One coordinator in each group that has members.
		var coordinators, groups int
		if err := db.NewSelect().TableExpr("working_group_members").Where("role = 'COORDINATOR'").
			ColumnExpr("count(*)").Scan(context.Background(), &coordinators); err != nil {
			t.Fatal(err)
		}
		if err := db.NewSelect().TableExpr("working_group_members").
			ColumnExpr("count(DISTINCT working_group_id)").Scan(context.Background(), &groups); err != nil {
			t.Fatal(err)
		}
		if coordinators != groups || groups < 8 {
			t.Errorf("%d coordinators in %d groups with members, want one each", coordinators, groups)
		}

		before := e.counts()
		again := e.seed(demo.Options{Scale: 0.02})
		for _, f := range again.Scale.Files {
			if f.Created != 0 || f.Updated != 0 || f.Unchanged != f.Rows {
				t.Errorf("second run, %+v: want every row unchanged", f)
			}
		}
		if after := e.counts(); !maps.Equal(before, after) {
			t.Fatalf("the second run changed the tables: %v → %v", before, after)
		}

		both := e.seed(demo.Options{Demo: true, Scale: 0.02})
		if both.AlreadySeeded || both.WorkingGroups != 0 { // the groups were there
			t.Fatalf("demo on top of scale: %+v", both)
		}
		if n := e.counts()["organizations"]; n != 40+both.Organizations {
			t.Errorf("%d organizations, want 40 + %d", n, both.Organizations)
		}
	})
}
