package coedit_test

import (
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/storage/storagetest"
)

// exportHas fails unless content holds every one of want, in order.
func exportHas(t *testing.T, content string, want ...string) {
	t.Helper()
	rest := content
	for _, w := range want {
		i := strings.Index(rest, w)
		if i < 0 {
			t.Errorf("missing %q (or out of order) in:\n%s", w, content)
			return
		}
		rest = rest[i+len(w):]
	}
}

func TestExportMarkdown(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, secs := f.doc("Il **servizio** è aperto.", "- uno\n- due\n")
		featAppend(t, f, f.member, secs[0].ID, " Sempre.")
		f.clock.Advance(time.Minute)
		featAppend(t, f, f.coord, secs[1].ID, "- tre\n")
		featAppend(t, f, f.member, secs[1].ID, "\nFine.")
		got, err := f.svc.ExportDocument(f.as(f.policy), d.ID, nil, coedit.Markdown)
		if err != nil {
			t.Fatal(err)
		}
		if got.Filename != "linee-guida-enna.md" || got.MediaType != "text/markdown; charset=utf-8" {
			t.Errorf("file %q, %q", got.Filename, got.MediaType)
		}
		exportHas(t, got.Content,
			"# Linee guida Enna\n",
			"**Territorio:** Enna\n",
			"**Stato:** Bozza\n",
			"**Data:** 22 novembre 2026\n",
			"**Contributori:** Mario Membro, Carla Coordinatrice\n",
			"\n## Sezione 1\n\nIl **servizio** è aperto. Sempre.\n",
			"\n## Sezione 2\n\n- uno\n- due\n- tre\n\nFine.\n")

		// A version is exported as it was, with its name and date.
		v, err := f.svc.NameVersion(f.as(f.member), d.ID, "Prima lettura", "")
		if err != nil {
			t.Fatal(err)
		}
		featAppend(t, f, f.coord, secs[0].ID, " Dopo.")
		f.clock.Advance(time.Minute)
		if _, err := f.svc.ChangeStatus(f.as(f.coord), d.ID, coedit.InReview, ""); err != nil {
			t.Fatal(err)
		}
		f.clock.Advance(48 * time.Hour)
		got, err = f.svc.ExportDocument(f.as(f.member), d.ID, &v.ID, coedit.Markdown)
		if err != nil {
			t.Fatal(err)
		}
		if got.Filename != "linee-guida-enna-prima-lettura.md" {
			t.Errorf("file %q", got.Filename)
		}
		exportHas(t, got.Content, "**Stato:** Bozza\n", "**Versione:** Prima lettura\n", "**Data:** 22 novembre 2026\n",
			"**Contributori:** Mario Membro, Carla Coordinatrice\n", "aperto. Sempre.\n")
		if strings.Contains(got.Content, "Dopo.") {
			t.Errorf("the version holds a later edit:\n%s", got.Content)
		}
		now, err := f.svc.ExportDocument(f.as(f.member), d.ID, nil, coedit.Markdown)
		if err != nil {
			t.Fatal(err)
		}
		exportHas(t, now.Content, "**Stato:** In revisione\n", "**Data:** 24 novembre 2026\n", "Sempre. Dopo.\n")
	})
}

func TestExportHTMLEscapesAndDropsRawHTML(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, err := f.svc.CreateDocument(f.as(f.coord), coedit.DocumentInput{WorkingGroupID: f.groups["EN"], Title: "Qualità <b>& sicurezza</b>",
			Sections: []coedit.SectionInput{
				{Title: "Uno <i>", Body: "Testo *importante*.\n\n<script>alert('x')</script>\n\n[clic](javascript:alert(1))\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"},
			}})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.ExportDocument(f.as(f.observer), d.ID, nil, coedit.HTML)
		if err != nil {
			t.Fatal(err)
		}
		if got.Filename != "qualita-b-sicurezza-b.html" || got.MediaType != "text/html; charset=utf-8" {
			t.Errorf("file %q, %q", got.Filename, got.MediaType)
		}
		exportHas(t, got.Content, "<!DOCTYPE html>", `<meta charset="utf-8">`, "<title>Qualità &lt;b&gt;&amp; sicurezza&lt;/b&gt;</title>",
			"<h1>Qualità &lt;b&gt;&amp; sicurezza&lt;/b&gt;</h1>", "<strong>Territorio:</strong> Enna",
			"<h2>Uno &lt;i&gt;</h2>", "<em>importante</em>", "<table>", "</html>")
		for _, bad := range []string{"<script", "alert('x')", "javascript:", "<b>", "<i>"} {
			if strings.Contains(got.Content, bad) {
				t.Errorf("%q survived:\n%s", bad, got.Content)
			}
		}
	})
}

func TestExportRefusals(t *testing.T) {
	storagetest.Run(t, func(t *testing.T, db *bun.DB) {
		f := newFixture(t, db)
		d, _ := f.doc("Testo")
		other, _ := f.doc("Altro")
		w, err := f.svc.NameVersion(f.as(f.member), other.ID, "Altra", "")
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range []*access.Actor{f.admin, f.policy, f.coord, f.member, f.observer} {
			if _, err := f.svc.ExportDocument(f.as(a), d.ID, nil, coedit.HTML); err != nil {
				t.Errorf("person %d: %v", a.PersonID, err)
			}
		}
		_, err = f.svc.ExportDocument(f.as(f.outside), d.ID, nil, coedit.Markdown)
		featWant(t, err, apperr.NotFound, "", "")
		_, err = f.svc.ExportDocument(f.as(f.member), d.ID, nil, coedit.Format("PDF"))
		featWant(t, err, apperr.BadInput, "format", "")
		_, err = f.svc.ExportDocument(f.as(f.member), d.ID, &w.ID, coedit.Markdown)
		featWant(t, err, apperr.NotFound, "versionId", "")
		_, err = f.svc.ExportDocument(f.as(f.outside), other.ID, &w.ID, coedit.Markdown)
		featWant(t, err, apperr.NotFound, "", "")
	})
}
