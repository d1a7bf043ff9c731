package account_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// What signing in and authenticating cost. Authenticate runs on every
// request that carries a token, so it should cost a lookup, not a hash;
// SignIn costs an argon2id hash by design.
func BenchmarkAuthenticate(b *testing.B) {
	for _, engine := range storagetest.Engines {
		b.Run(string(engine), func(b *testing.B) {
			db := storagetest.Open(b, engine)
			svc, err := account.NewService(db, account.Options{})
			if err != nil {
				b.Fatal(err)
			}
			ctx := access.WithClient(context.Background(), access.Client{Addr: "192.0.2.1"})
			if _, _, err := svc.EnsureAdmin(ctx, "bench@pia.test", "a long enough password", false); err != nil {
				b.Fatal(err)
			}
			in, err := svc.SignIn(ctx, "bench@pia.test", "a long enough password")
			if err != nil {
				b.Fatal(err)
			}
			b.Run("Authenticate", func(b *testing.B) {
				for b.Loop() {
					if _, _, err := svc.Authenticate(ctx, in.Token); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("SignIn", func(b *testing.B) {
				for i := 0; b.Loop(); i++ {
					// A new address each time: the limit is for attackers, not benchmarks.
					ctx := access.WithClient(context.Background(), access.Client{Addr: fmt.Sprintf("10.0.%d.%d", i/250, i%250)})
					if _, err := svc.SignIn(ctx, "bench@pia.test", "a long enough password"); err != nil {
						b.Fatal(err)
					}
				}
			})
		})
	}
}
