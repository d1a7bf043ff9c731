package network_test

import (
	"context"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/testutil"
)

// env is a network Service on a fresh database, with the reference data's
// ids by code and an administrator.
type env struct {
	t           *testing.T
	db          *bun.DB
	clock       *testutil.Clock
	svc         *network.Service
	territories map[string]int64 // by code
	themes      map[reference.ThemeCode]int64
	admin       *access.Actor
}

func newEnv(t *testing.T, db *bun.DB) *env {
	t.Helper()
	e := &env{t: t, db: db, clock: testutil.NewClock(time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)),
		territories: map[string]int64{}, themes: map[reference.ThemeCode]int64{}}
	e.svc = network.NewService(db, network.Options{Now: e.clock.Now})
	ref := reference.NewService(db)
	ts, err := ref.Territories(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range ts {
		e.territories[x.Code] = x.ID
	}
	th, err := ref.Themes(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range th {
		e.themes[x.Code] = x.ID
	}
	e.admin = &access.Actor{PersonID: e.rawPerson("Ada Admin"), SessionID: 1, GlobalRoles: []access.GlobalRole{access.Admin}}
	return e
}

// rawPerson inserts a person row directly, for actors whose creation is not
// under test, and returns its id.
func (e *env) rawPerson(name string) int64 {
	e.t.Helper()
	now := e.clock.Now()
	p := &account.Person{DisplayName: name, Language: "it", CreatedAt: now, UpdatedAt: now}
	if _, err := e.db.NewInsert().Model(p).Exec(context.Background()); err != nil {
		e.t.Fatalf("insert person %s: %v", name, err)
	}
	return p.ID
}

// actor is a signed-in person with territory roles given as code → role.
func (e *env) actor(name string, roles map[string]access.TerritoryRole, global ...access.GlobalRole) *access.Actor {
	e.t.Helper()
	a := &access.Actor{PersonID: e.rawPerson(name), SessionID: 1, GlobalRoles: global, Territories: map[int64]access.TerritoryRole{}}
	for code, r := range roles {
		a.Territories[e.territories[code]] = r
	}
	return a
}

// as is the context of a request by a.
func as(a *access.Actor) context.Context { return access.WithActor(context.Background(), a) }

// anon is the context of a request without a session.
func anon() context.Context { return context.Background() }

func ptr[T any](v T) *T { return &v }

// wantKind fails unless err is of kind k.
func wantKind(t *testing.T, what string, err error, k apperr.Kind) {
	t.Helper()
	if !apperr.Is(err, k) {
		t.Errorf("%s: got %v, want %s", what, err, k)
	}
}

// count is the number of rows of table, to show that a refused change
// changed nothing.
func (e *env) count(table string) int {
	e.t.Helper()
	n, err := e.db.NewSelect().TableExpr(table).Count(context.Background())
	if err != nil {
		e.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// grant gives person id the global role r, as account.SetGlobalRoles
// stores it.
func (e *env) grant(id int64, r access.GlobalRole) {
	e.t.Helper()
	row := map[string]any{"person_id": id, "role": string(r), "granted_at": e.clock.Now()}
	if _, err := e.db.NewInsert().Model(&row).TableExpr("person_roles").Exec(context.Background()); err != nil {
		e.t.Fatalf("grant %s to %d: %v", r, id, err)
	}
}

// giveAccount gives person id a password, as accepting an invitation does.
func (e *env) giveAccount(id int64) {
	e.t.Helper()
	hash := "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	if _, err := e.db.NewUpdate().Model((*network.Person)(nil)).Set("password_hash = ?", hash).Where("id = ?", id).Exec(context.Background()); err != nil {
		e.t.Fatalf("give %d an account: %v", id, err)
	}
}

// displayName is what the database holds as person id's name, to show
// that a refused change changed nothing.
func (e *env) displayName(id int64) string {
	e.t.Helper()
	var name string
	if err := e.db.NewSelect().Model((*network.Person)(nil)).Column("display_name").Where("id = ?", id).Scan(context.Background(), &name); err != nil {
		e.t.Fatal(err)
	}
	return name
}
