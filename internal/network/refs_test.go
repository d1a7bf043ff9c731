package network_test

import (
	"context"
	"sync"
	"testing"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// A Service reads the territories and themes once, on first use, however
// many calls need them at once; a read that fails is not kept, and an
// unknown code is still BAD_USER_INPUT.
func TestReferenceDataReadOnce(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newEnv(t, db)
		ctx := as(e.admin)
		svc := network.NewService(db, network.Options{})
		f := network.OrganizationFilter{Territory: "EN", Theme: reference.ThemeCode("HEALTH")}
		list := func(ctx context.Context) error {
			_, err := svc.Organizations(ctx, f, network.Sort{}, relay.PageArgs{First: ptr(10)})
			return err
		}
		canceled, cancel := context.WithCancel(ctx)
		cancel()
		if err := list(canceled); err == nil {
			t.Fatal("a list with a canceled context succeeded")
		}

		statements := storage.CountStatements(db)
		const calls = 8
		var wg sync.WaitGroup
		errs := make(chan error, calls)
		for range calls {
			wg.Go(func() { errs <- list(ctx) })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("list after a failed read: %v", err)
			}
		}
		first := statements.Count()
		statements.Reset()
		if err := list(ctx); err != nil {
			t.Fatal(err)
		}
		each := statements.Count()
		// One read of the territories and one of the themes, for all of them.
		if first != calls*each+2 {
			t.Errorf("%d concurrent first lists ran %d statements, and one more list %d; want %d×%d + 2",
				calls, first, each, calls, each)
		}

		_, err := svc.Organizations(ctx, network.OrganizationFilter{Territory: "XX"}, network.Sort{}, relay.PageArgs{})
		wantKind(t, "unknown territory", err, apperr.BadInput)
	})
}
