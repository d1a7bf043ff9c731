package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// TestDirectoryPeople: the co-editing service learns names, emails and
// languages of people whoever asks, a person without an email included,
// and nothing of ids that name nobody.
func TestDirectoryPeople(t *testing.T) {
	for _, engine := range storagetest.Engines {
		t.Run(string(engine), func(t *testing.T) {
			db := storagetest.Open(t, engine)
			accounts, err := account.NewService(db, account.Options{PublicURL: "http://pia.test"})
			if err != nil {
				t.Fatal(err)
			}
			net := network.NewService(db, network.Options{Accounts: accounts})
			ctx := context.Background()
			if _, _, err := accounts.EnsureAdmin(ctx, "admin@pia.test", "a long enough password", false); err != nil {
				t.Fatal(err)
			}
			actor, err := accounts.AdminActor(ctx, "admin@pia.test")
			if err != nil {
				t.Fatal(err)
			}
			admin := access.WithActor(ctx, actor)
			email := "Carla@Example.org"
			lang := "en"
			carla, err := net.CreatePerson(admin, network.PersonInput{DisplayName: "Carla Rossi", Email: &email, Language: lang})
			if err != nil {
				t.Fatal(err)
			}
			mario, err := net.CreatePerson(admin, network.PersonInput{DisplayName: "Mario Bianchi"})
			if err != nil {
				t.Fatal(err)
			}
			// The caller is an observer somewhere else, who may not see them.
			caller := access.WithActor(context.Background(), &access.Actor{PersonID: 999, SessionID: 1,
				Territories: map[int64]access.TerritoryRole{42: access.Observer}})
			people := directoryPeople{accounts: accounts, net: net}
			got, err := people.Contacts(caller, []int64{carla.ID, mario.ID, 123456})
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 {
				t.Fatalf("contacts %+v; want the two people", got)
			}
			if c := got[carla.ID]; c.Name != "Carla Rossi" || c.Email != "carla@example.org" || c.Language != "en" {
				t.Errorf("Carla: %+v", c)
			}
			if c := got[mario.ID]; c.Name != "Mario Bianchi" || c.Email != "" || c.Language != "it" {
				t.Errorf("Mario: %+v", c)
			}

			// Readers: Carla coordinates Enna's group; Mario is archived.
			group, err := net.CreateWorkingGroup(admin, network.WorkingGroupInput{Territory: "EN"})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := net.AddMember(admin, network.MemberInput{WorkingGroupID: group.ID, PersonID: carla.ID, Role: access.Coordinator}); err != nil {
				t.Fatal(err)
			}
			if _, err := net.ArchivePerson(admin, mario.ID, true); err != nil {
				t.Fatal(err)
			}
			readers, err := people.Readers(caller, []int64{carla.ID, mario.ID, 123456})
			if err != nil {
				t.Fatal(err)
			}
			r := readers[carla.ID]
			if len(readers) != 1 || r == nil || r.PersonID != carla.ID || len(r.GlobalRoles) != 0 ||
				len(r.Territories) != 1 || r.Territories[group.TerritoryID] != access.Coordinator {
				t.Errorf("readers %+v; want Carla alone, coordinator of Enna", readers)
			}
		})
	}
}

// TestServeWiresDocuments: piad serve runs the co-editing service behind
// the API and serves exports at /documents/{id}/export with the API's
// tokens.
func TestServeWiresDocuments(t *testing.T) {
	forEachEngine(t, func(t *testing.T, databaseURL string) {
		base, stop, _ := startServer(t, coeditEnv(databaseURL))
		defer func() {
			if err := stop(); err != nil {
				t.Errorf("stop: %v", err)
			}
		}()
		ctx := context.Background()
		token, sectionID := coeditDocument(t, ctx, base, "Il testo della sezione.")
		var sec struct {
			Node struct{ Document struct{ ID string } }
		}
		if _, errs := gqlAs(t, base, token, `query ($id: ID!) { node(id: $id) { ... on Section { document { id } } } }`,
			map[string]any{"id": sectionID}, &sec); len(errs) > 0 {
			t.Fatalf("the section's document: %v", errs)
		}
		export := func(token string) (*http.Response, string) {
			req, _ := http.NewRequest(http.MethodGet, base+"/documents/"+sec.Node.Document.ID+"/export?format=html", nil)
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			resp, err := httpClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			return resp, string(body)
		}
		resp, body := export(token)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
			!strings.Contains(body, "Il testo della sezione.") || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
			t.Errorf("export: %d %s %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"), body)
		}
		if resp, body := export(""); resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "UNAUTHENTICATED") {
			t.Errorf("anonymous export: %d %s", resp.StatusCode, body)
		}
	})
}
