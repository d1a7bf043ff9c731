package network_test

import (
	"context"
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/relay"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// privacyEnv is env with an account service wired as in the server: it
// takes territory roles from the network, and the network exports and
// erases through it.
type privacyEnv struct {
	*env
	accounts *account.Service
	net      *network.Service
	root     *access.Actor // a real administrator, signed in
}

func newPrivacyEnv(t *testing.T, db *bun.DB) *privacyEnv {
	t.Helper()
	e := &privacyEnv{env: newEnv(t, db)}
	accounts, err := account.NewService(db, account.Options{Now: e.clock.Now, Roles: e.svc, HashSlots: 2, PublicURL: "https://pia.example.org"})
	if err != nil {
		t.Fatal(err)
	}
	e.accounts = accounts
	e.net = network.NewService(db, network.Options{Now: e.clock.Now, Accounts: accounts})
	if _, _, err := accounts.EnsureAdmin(anon(), "root@example.org", "root password of the test", false); err != nil {
		t.Fatal(err)
	}
	in, err := accounts.SignIn(anon(), "root@example.org", "root password of the test")
	if err != nil {
		t.Fatal(err)
	}
	e.root = in.Actor
	return e
}

var codeInMail = regexp.MustCompile(`#([A-Za-z0-9_-]{43})\b`)

// signUp invites email and accepts, returning the new person's sign-in.
func (e *privacyEnv) signUp(email, name string) *account.SignedIn {
	e.t.Helper()
	if _, err := e.accounts.Invite(as(e.root), account.InviteInput{Email: email}); err != nil {
		e.t.Fatal(err)
	}
	var body string
	if err := e.db.NewSelect().Table("mail_outbox").Column("body").Where("to_addr = ?", email).Order("id DESC").Limit(1).Scan(context.Background(), &body); err != nil {
		e.t.Fatal(err)
	}
	m := codeInMail.FindStringSubmatch(body)
	if m == nil {
		e.t.Fatalf("no code in the invitation:\n%s", body)
	}
	in, err := e.accounts.AcceptInvitation(anon(), account.AcceptInput{Token: m[1], DisplayName: name, Password: "password of " + email})
	if err != nil {
		e.t.Fatal(err)
	}
	return in
}

func TestExportPersonalData(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newPrivacyEnv(t, db)
		bob := e.signUp("bob@example.org", "Bob Bianchi")
		en := e.group("EN")
		org := e.rawOrg("Consorzio Nova", "EN")
		if _, err := e.net.AddAffiliation(as(e.root), network.AffiliationInput{PersonID: bob.Person.ID, OrganizationID: org, Role: network.Delegate, Title: ptr("referente")}); err != nil {
			t.Fatal(err)
		}
		m := e.join(en, bob.Person.ID, access.Member)
		e.clock.Advance(time.Hour)
		if _, err := e.net.ChangeMemberRole(as(e.root), m.ID, access.Coordinator); err != nil {
			t.Fatal(err)
		}
		// Bob's roles come from the network now.
		actor, _, err := e.accounts.Authenticate(anon(), bob.Token)
		if err != nil || actor.RoleIn(e.territories["EN"]) != access.Coordinator {
			t.Fatalf("Bob's actor: %+v, %v", actor, err)
		}

		raw, err := e.net.ExportPersonalData(as(actor), bob.Person.ID)
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Format string `json:"format"`
			Person struct {
				DisplayName string `json:"displayName"`
				Email       string `json:"email"`
				HasAccount  bool   `json:"hasAccount"`
			} `json:"person"`
			Affiliations []struct {
				Organization, Role, Title string
			} `json:"affiliations"`
			WorkingGroups []struct {
				Territory string `json:"territory"`
				Periods   []struct {
					Role       string  `json:"role"`
					LeftAt     *string `json:"leftAt"`
					OnBehalfOf *string `json:"onBehalfOf"`
				} `json:"periods"`
			} `json:"workingGroups"`
			Account struct {
				Sessions []struct {
					CreatedAt string `json:"createdAt"`
					UserAgent string `json:"userAgent"`
				} `json:"sessions"`
				AuditEvents []struct {
					Kind string `json:"kind"`
				} `json:"auditEvents"`
			} `json:"account"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, raw)
		}
		if doc.Format != network.ExportFormat || doc.Person.DisplayName != "Bob Bianchi" || doc.Person.Email != "bob@example.org" || !doc.Person.HasAccount {
			t.Errorf("the person: %+v", doc)
		}
		if len(doc.Affiliations) != 1 || doc.Affiliations[0].Organization != "Consorzio Nova" || doc.Affiliations[0].Role != "DELEGATE" || doc.Affiliations[0].Title != "referente" {
			t.Errorf("affiliations: %+v", doc.Affiliations)
		}
		if len(doc.WorkingGroups) != 1 || doc.WorkingGroups[0].Territory != "EN" || len(doc.WorkingGroups[0].Periods) != 2 ||
			doc.WorkingGroups[0].Periods[0].Role != "MEMBER" || doc.WorkingGroups[0].Periods[0].LeftAt == nil || doc.WorkingGroups[0].Periods[1].Role != "COORDINATOR" {
			t.Errorf("working groups: %+v", doc.WorkingGroups)
		}
		if len(doc.Account.Sessions) != 1 || doc.Account.Sessions[0].CreatedAt == "" {
			t.Errorf("sessions: %+v", doc.Account.Sessions)
		}
		if len(doc.Account.AuditEvents) == 0 {
			t.Errorf("no audit events in the export")
		}
		var hash string
		if err := db.NewSelect().Table("people").Column("password_hash").Where("id = ?", bob.Person.ID).Scan(context.Background(), &hash); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), hash) || strings.Contains(string(raw), "argon2") || strings.Contains(strings.ToLower(string(raw)), "password") {
			t.Errorf("the export shows the password hash:\n%s", raw)
		}
		if !strings.Contains(string(raw), "\n  \"person\"") {
			t.Errorf("the export is not indented:\n%s", raw)
		}

		if _, err := e.net.ExportPersonalData(as(e.root), bob.Person.ID); err != nil {
			t.Errorf("an administrator exports: %v", err)
		}
		other := e.actor("Olga", map[string]access.TerritoryRole{"EN": access.Coordinator})
		_, err = e.net.ExportPersonalData(as(other), bob.Person.ID)
		wantKind(t, "a coordinator exports someone else", err, apperr.Forbidden)
		_, err = e.net.ExportPersonalData(anon(), bob.Person.ID)
		wantKind(t, "anonymous exports", err, apperr.Unauthenticated)
		_, err = e.net.ExportPersonalData(as(e.root), 999999)
		wantKind(t, "unknown person", err, apperr.NotFound)
	})
}

func TestErasePerson(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		e := newPrivacyEnv(t, db)
		bob := e.signUp("bob@example.org", "Bob Bianchi")
		if _, err := e.net.UpdatePerson(as(e.root), bob.Person.ID, network.PersonPatch{Phone: ptr("+39 333 1234567")}); err != nil {
			t.Fatal(err)
		}
		en := e.group("EN")
		org := e.rawOrg("Consorzio Nova", "EN")
		if _, err := e.net.AddAffiliation(as(e.root), network.AffiliationInput{PersonID: bob.Person.ID, OrganizationID: org, Role: network.Staff}); err != nil {
			t.Fatal(err)
		}
		e.join(en, bob.Person.ID, access.Coordinator)
		coord := e.actor("Carla", map[string]access.TerritoryRole{"EN": access.Coordinator})
		e.join(en, coord.PersonID, access.Coordinator)

		watched := make(chan string, 1)
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		e.accounts.WatchSession(ctx, bob.Session, func(reason string) { watched <- reason })

		counts := func() [3]int {
			return [3]int{e.count("people"), e.count("affiliations"), e.count("working_group_members")}
		}
		before := counts()
		_, err := e.net.ErasePerson(as(coord), bob.Person.ID)
		wantKind(t, "a coordinator erases", err, apperr.Forbidden)
		_, err = e.net.ErasePerson(as(e.root), e.root.PersonID)
		wantKind(t, "an administrator erases themselves", err, apperr.Conflict)
		// e.admin holds ADMIN in its context only: root is the last
		// administrator on record.
		_, err = e.net.ErasePerson(as(e.admin), e.root.PersonID)
		wantKind(t, "erasing the last administrator", err, apperr.Conflict)
		if r, err := e.net.Person(as(e.root), e.root.PersonID); err != nil || r.ErasedAt != nil || r.Email == nil {
			t.Errorf("a refused erasure changed root: %+v, %v", r, err)
		}
		_, err = e.net.ErasePerson(as(e.root), 999999)
		wantKind(t, "an unknown person", err, apperr.NotFound)

		p, err := e.net.ErasePerson(as(e.root), bob.Person.ID)
		if err != nil {
			t.Fatal(err)
		}
		if p.DisplayName != account.ErasedName(bob.Person.ID) || p.Email != nil || p.Phone != nil || p.PasswordHash != nil || p.ErasedAt == nil || p.ArchivedAt == nil {
			t.Errorf("erased: %+v", p)
		}
		if got := counts(); got != before {
			t.Errorf("rows of people, affiliations, memberships: %v, want %v", got, before)
		}
		if _, _, err := e.accounts.Authenticate(anon(), bob.Token); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("the erased person's token: %v", err)
		}
		select {
		case reason := <-watched:
			if !strings.Contains(reason, "erased") {
				t.Errorf("the open connection was told %q", reason)
			}
		case <-time.After(10 * time.Second):
			t.Error("the open connection was not ended")
		}

		// The group no longer lists Bob; its history and the counts keep him.
		cur, _ := e.net.MembersOfGroups(as(e.root), []int64{en.ID}, false)
		hist, _ := e.net.MembersOfGroups(as(e.root), []int64{en.ID}, true)
		if len(cur[en.ID]) != 1 || cur[en.ID][0].PersonID != coord.PersonID || len(hist[en.ID]) != 2 {
			t.Errorf("current %+v, history %+v", cur[en.ID], hist[en.ID])
		}
		afs, _ := e.net.AffiliationsOfPeople(as(e.root), []int64{bob.Person.ID}, true)
		if len(afs[bob.Person.ID]) != 1 || afs[bob.Person.ID][0].EndedAt == nil {
			t.Errorf("affiliations: %+v", afs[bob.Person.ID])
		}
		if roles, _ := e.net.TerritoryRoles(anon(), bob.Person.ID); len(roles) != 0 {
			t.Errorf("the erased person keeps roles %v", roles)
		}
		page, _ := e.net.People(as(e.root), network.PersonFilter{IncludeArchived: true, Search: "persona rimossa"}, network.Sort{}, relay.PageArgs{})
		if page.TotalCount != 1 {
			t.Errorf("the erased person is not listed pseudonymised: %v", names(page))
		}

		// Nothing left holds the address.
		for _, q := range []string{
			"SELECT count(*) FROM people WHERE email = 'bob@example.org'",
			"SELECT count(*) FROM audit_events WHERE email = 'bob@example.org'",
			"SELECT count(*) FROM mail_outbox WHERE to_addr = 'bob@example.org'",
			"SELECT count(*) FROM account_tokens WHERE email = 'bob@example.org'",
			"SELECT count(*) FROM sessions WHERE person_id = " + strconv.FormatInt(bob.Person.ID, 10) + " AND (revoked_at IS NULL OR client_addr <> '' OR user_agent <> '')",
		} {
			var n int
			if err := db.NewRaw(q).Scan(context.Background(), &n); err != nil || n != 0 {
				t.Errorf("%s: %d, %v", q, n, err)
			}
		}
		var detail string
		if err := db.NewRaw("SELECT detail FROM audit_events WHERE kind = ? AND person_id = ?", account.AuditPersonErased, bob.Person.ID).Scan(context.Background(), &detail); err != nil {
			t.Errorf("no PERSON_ERASED event: %v", err)
		}
		if strings.Contains(strings.ToLower(detail), "bob") {
			t.Errorf("the event identifies the person: %q", detail)
		}

		if _, err := e.accounts.SignIn(anon(), "bob@example.org", "password of bob@example.org"); !apperr.Is(err, apperr.Unauthenticated) {
			t.Errorf("sign-in after erasure (an attempt recorded without the person): %v", err)
		}

		// A second erasure is refused, and an erased person stays as is.
		_, err = e.net.ErasePerson(as(e.root), bob.Person.ID)
		wantKind(t, "erasing twice", err, apperr.Conflict)
		_, err = e.net.UpdatePerson(as(e.root), bob.Person.ID, network.PersonPatch{DisplayName: ptr("Bob")})
		wantKind(t, "editing an erased person", err, apperr.Conflict)
		_, err = e.net.ArchivePerson(as(e.root), bob.Person.ID, false)
		wantKind(t, "restoring an erased person", err, apperr.Conflict)
	})
}
