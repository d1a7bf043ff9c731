package graph_test

import (
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

const activityDoc = `query ($f: ActivityFilter, $first: Int, $after: String) {
	activity(filter: $f, first: $first, after: $after) {
		totalCount pageInfo { hasNextPage endCursor }
		edges { cursor node { id at kind territory { code } theme { code } actor { displayName email } person { displayName }
			status title private count meeting { id title } document { id } section { id } thread { id } } } } }`

type activityData struct {
	Activity struct {
		TotalCount int
		PageInfo   struct {
			HasNextPage bool
			EndCursor   *string
		}
		Edges []struct {
			Cursor string
			Node   struct {
				ID        string
				At        string
				Kind      string
				Territory struct{ Code string }
				Theme     *struct{ Code string }
				Actor     *struct {
					DisplayName string
					Email       *string
				}
				Person  *struct{ DisplayName string }
				Status  *string
				Title   *string
				Private bool
				Count   int
				Meeting *struct{ ID, Title string }
			}
		}
	}
}

// TestActivityOverGraphQL: a policy maker follows Enna's round in the feed,
// by territory, theme and kind, page by page, with the meetings linked and
// the people named without their contacts; bad filters are refused.
func TestActivityOverGraphQL(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newMeetEnv(t, db)
		var plan struct {
			PlanThematicMeetings struct{ Meetings []meetingData }
		}
		e.must(t, e.coordinator, planDoc, vars("in", e.ennaRound()), &plan)
		policy := e.account(t, "policy@pia.test", "Paola Policy", access.PolicyMaker)

		var all activityData
		e.must(t, policy, activityDoc, vars("f", vars("territories", []string{"EN"}), "first", 100), &all)
		kinds := map[string]int{}
		for _, ed := range all.Activity.Edges {
			n := ed.Node
			kinds[n.Kind]++
			if n.Territory.Code != "EN" {
				t.Errorf("a line of %s in EN's feed", n.Territory.Code)
			}
			if n.Actor != nil && n.Actor.Email != nil {
				t.Errorf("a policy maker reads %s's email in the feed", n.Actor.DisplayName)
			}
		}
		// Enna's group formed, the member and the coordinator joined, the
		// four meetings planned.
		if kinds["GROUP_FORMED"] != 1 || kinds["MEMBER_JOINED"] != 2 || kinds["MEETING_PLANNED"] != 4 || len(kinds) != 3 {
			t.Errorf("EN's feed: %v", kinds)
		}
		if all.Activity.TotalCount != len(all.Activity.Edges) {
			t.Errorf("totalCount %d for %d lines", all.Activity.TotalCount, len(all.Activity.Edges))
		}

		// By theme and kind: the health meeting, linked and titled.
		var health activityData
		e.must(t, policy, activityDoc, vars("f", vars("themes", []string{"HEALTH"}, "kinds", []string{"MEETING_PLANNED"})), &health)
		if len(health.Activity.Edges) != 1 {
			t.Fatalf("health meetings planned: %+v", health.Activity.Edges)
		}
		n := health.Activity.Edges[0].Node
		if n.Meeting == nil || n.Meeting.ID != plan.PlanThematicMeetings.Meetings[0].ID || n.Title == nil || *n.Title != n.Meeting.Title ||
			n.Theme == nil || n.Theme.Code != "HEALTH" || n.Actor == nil || n.Actor.DisplayName != "Carla Coordinatrice" || n.Count != 1 {
			t.Errorf("the health meeting's line: %+v", n)
		}

		// Page by page: two lines at a time give the same lines.
		var seen []string
		var after *string
		for range 10 {
			var page activityData
			e.must(t, policy, activityDoc, vars("f", vars("territories", []string{"EN"}), "first", 2, "after", after), &page)
			for _, ed := range page.Activity.Edges {
				seen = append(seen, ed.Node.ID)
			}
			if !page.Activity.PageInfo.HasNextPage {
				break
			}
			after = page.Activity.PageInfo.EndCursor
		}
		if len(seen) != len(all.Activity.Edges) {
			t.Fatalf("%d lines page by page, %d at once", len(seen), len(all.Activity.Edges))
		}
		for i, ed := range all.Activity.Edges {
			if seen[i] != ed.Node.ID {
				t.Fatalf("line %d: %s page by page, %s at once", i, seen[i], ed.Node.ID)
			}
		}

		// Bad input: a clear code, the field named.
		for _, tc := range []struct {
			name  string
			vars  map[string]any
			code  string
			field string
		}{
			{"unknown territory", vars("f", vars("territories", []string{"ZZ"})), "BAD_USER_INPUT", "territories"},
			{"since after until", vars("f", vars("since", "2026-05-01T00:00:00Z", "until", "2026-04-01T00:00:00Z")), "BAD_USER_INPUT", "until"},
			{"page too large", vars("first", 500), "BAD_USER_INPUT", ""},
			{"a cursor of nothing", vars("after", "bm90IGEgY3Vyc29y"), "BAD_USER_INPUT", "after"},
			{"a meeting id of another type", vars("f", vars("meeting", gid("Document", 1))), "BAD_USER_INPUT", "meeting"},
			{"unknown kind", vars("f", vars("kinds", []string{"MEETING_EXPLODED"})), "BAD_USER_INPUT", ""},
		} {
			ge := e.refused(t, policy, activityDoc, tc.vars)
			if ge.code() != tc.code {
				t.Errorf("%s: %s (%s), want %s", tc.name, ge.code(), ge.Message, tc.code)
			}
			if f, _ := ge.Extensions["field"].(string); tc.field != "" && f != tc.field {
				t.Errorf("%s: field %q, want %q", tc.name, f, tc.field)
			}
		}
		// totalCount is counted when asked, however it is asked (in a
		// fragment too), and only then: one statement less without it.
		counter := storage.CountStatements(db)
		statements := func(doc string) (int64, int) {
			t.Helper()
			var out struct{ Activity struct{ TotalCount int } }
			counter.Reset()
			e.must(t, policy, doc, nil, &out)
			return counter.Count(), out.Activity.TotalCount
		}
		without, _ := statements(`{ activity(first: 3) { edges { node { kind } } } }`)
		with, total := statements(`{ activity(first: 3) { totalCount edges { node { kind } } } }`)
		inFragment, fromFragment := statements(`query { activity(first: 3) { ...n edges { node { kind } } } } fragment n on ActivityConnection { totalCount }`)
		if with != without+1 || inFragment != with || total == 0 || fromFragment != total {
			t.Errorf("statements: %d without totalCount, %d with (%d), %d in a fragment (%d)", without, with, total, inFragment, fromFragment)
		}

		if got := onlyError(t, authPost(t, e.srv, nil, activityDoc, nil)).code(); got != "UNAUTHENTICATED" {
			t.Errorf("anonymous: %s", got)
		}
	})
}
