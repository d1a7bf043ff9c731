package account_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// A command-line tool acts as the first administrator, or as the one it
// names, with their global and territory roles and no session; it is told
// how to get an administrator when there is none, and refused a person who
// is not one.
func TestAdminActor(t *testing.T) {
	t.Parallel()
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		ctx := context.Background()
		empty := newService(t, db, baseOptions(newClock(), &roleSource{}, &testutil.LogBuffer{}))
		_, err := empty.AdminActor(ctx, "")
		if !apperr.Is(err, apperr.NotFound) || !strings.Contains(err.Error(), "piad serve") || !strings.Contains(err.Error(), "PIA_ADMIN_EMAIL") {
			t.Fatalf("no administrator: %v, want NOT_FOUND saying how to get one", err)
		}

		f := setup(t, db)
		first := f.admin.person.ID
		f.roles.set(first, 1, access.Coordinator)
		const password = "a password of the test"
		second, err := f.svc.CreateAccount(f.admin.ctx(), account.CreateAccountInput{
			Email: "seconda@example.org", DisplayName: "Seconda", Password: password,
			GlobalRoles: []access.GlobalRole{access.Admin, access.PolicyMaker}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.CreateAccount(f.admin.ctx(), account.CreateAccountInput{
			Email: "decisore@example.org", DisplayName: "Decisore", Password: password,
			GlobalRoles: []access.GlobalRole{access.PolicyMaker}}); err != nil {
			t.Fatal(err)
		}

		for _, email := range []string{"", " ADMIN@Example.org "} {
			a, err := f.svc.AdminActor(ctx, email)
			if err != nil {
				t.Fatalf("AdminActor(%q): %v", email, err)
			}
			want := &access.Actor{PersonID: first, GlobalRoles: []access.GlobalRole{access.Admin},
				Territories: map[int64]access.TerritoryRole{1: access.Coordinator}}
			if !reflect.DeepEqual(a, want) {
				t.Errorf("AdminActor(%q) = %+v, want %+v", email, a, want)
			}
			if err := access.Check(as(a), access.ManageGlobalRoles, access.Resource{}); err != nil {
				t.Errorf("the actor may not act as an administrator: %v", err)
			}
		}
		a, err := f.svc.AdminActor(ctx, "seconda@example.org")
		if err != nil || a.PersonID != second.ID || a.SessionID != 0 ||
			!reflect.DeepEqual(a.GlobalRoles, []access.GlobalRole{access.Admin, access.PolicyMaker}) {
			t.Errorf("AdminActor(seconda) = %+v, %v", a, err)
		}

		for _, tc := range []struct {
			email string
			want  apperr.Kind
		}{
			{"decisore@example.org", apperr.Forbidden},
			{"nessuno@example.org", apperr.NotFound},
			{"not an address", apperr.BadInput},
		} {
			a, err := f.svc.AdminActor(ctx, tc.email)
			if !apperr.Is(err, tc.want) || a != nil {
				t.Errorf("AdminActor(%q) = %+v, %v; want %s", tc.email, a, err, tc.want)
			}
		}

		// An archived administrator is skipped by "", and refused by name.
		if _, err := db.NewUpdate().Table("people").Set("archived_at = ?", f.clock.Now()).Where("id = ?", first).Exec(ctx); err != nil {
			t.Fatal(err)
		}
		if a, err := f.svc.AdminActor(ctx, ""); err != nil || a.PersonID != second.ID {
			t.Errorf("AdminActor(\"\") with the first administrator archived = %+v, %v; want the second", a, err)
		}
		if _, err := f.svc.AdminActor(ctx, adminEmail); !apperr.Is(err, apperr.Forbidden) {
			t.Errorf("AdminActor(archived administrator): %v, want FORBIDDEN", err)
		}
	})
}
