package coedit

import (
	"bytes"
	"context"
	"html"
	"strings"
	"unicode"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/extension"
	"golang.org/x/text/unicode/norm"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/storage"
)

// Format is an export format.
type Format string

// The export formats.
const (
	Markdown Format = "MARKDOWN"
	HTML     Format = "HTML"
)

// Export is a rendered document.
type Export struct {
	Filename, MediaType, Content string
}

// statusLabels name the statuses in the exports' Italian.
var statusLabels = map[Status]string{Draft: "Bozza", InReview: "In revisione", Approved: "Approvato", Published: "Pubblicato"}

// exportHTML renders Markdown as CommonMark with GitHub's tables,
// strikethrough, autolinks and task lists. It keeps goldmark's safe default:
// raw HTML in a body is left out (a comment says so) and links with
// dangerous schemes such as javascript: are emptied.
var exportHTML = goldmark.New(goldmark.WithExtensions(extension.GFM))

// RenderHTML renders Markdown to an HTML fragment as the HTML export does
// (exportHTML's rules: GFM, raw HTML left out, dangerous links emptied), so
// that Markdown written elsewhere in PIA (a meeting's minutes) is shown
// with the same rules as the documents.
func RenderHTML(markdown string) (string, error) {
	var b bytes.Buffer
	if err := exportHTML.Convert([]byte(markdown), &b); err != nil {
		return "", apperr.Wrap("coedit.RenderHTML", err)
	}
	return b.String(), nil
}

// ExportDocument renders a document (versionID nil: as it is now) with its
// territory, date and contributors (ReadDocument).
//
// The Markdown is the title as "# Title", a list of the territory, the
// status, the version's name (for a version), the date (the version's, or
// today's) in Rome and the contributors, then every section as "## Title"
// followed by its Markdown body. Labels are Italian, as the documents are.
// Titles and names are escaped, bodies are kept as written. The HTML is that
// Markdown rendered by goldmark in a minimal HTML5 page; raw HTML in bodies
// does not pass through. The contributors of the document now are those of
// Contributors; those of a version are the authors of the operations it
// holds, in the order of their first edit. The file name is the title (and
// the version's name) in ASCII, lower case, with dashes.
//
// It returns NOT_FOUND for a document the caller may not read or a version
// that is not the document's, and BAD_USER_INPUT for an unknown format.
func (s *Service) ExportDocument(ctx context.Context, documentID int64, versionID *int64, format Format) (*Export, error) {
	const op = "coedit.ExportDocument"
	if format != Markdown && format != HTML {
		return nil, apperr.Invalid(op, "format", "%q is not an export format; use MARKDOWN or HTML", format)
	}
	d, err := s.document(ctx, s.db, documentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, err
	}
	terr, err := reference.NewService(s.db).TerritoryByID(ctx, d.TerritoryID)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	title, status, date, versionName := d.Title, d.Status, s.now(), ""
	var secs []*VersionSection
	var people []int64
	if versionID == nil {
		if secs, err = s.diffSide(ctx, op, "versionId", d.ID, nil); err != nil {
			return nil, err
		}
		if people, err = s.Contributors(ctx, d.ID); err != nil {
			return nil, apperr.Wrap(op, err)
		}
	} else {
		v, vd, err := s.readableVersion(ctx, op, *versionID)
		if err != nil {
			return nil, err
		}
		if vd.ID != d.ID {
			return nil, &apperr.Error{Kind: apperr.NotFound, Op: op, Field: "versionId", Message: "this document has no such version"}
		}
		title, date, versionName = v.Title, v.CreatedAt, v.Name
		if status, err = s.statusAt(ctx, op, v); err != nil {
			return nil, err
		}
		if secs, err = featVersionSections(ctx, s.db, op, v.ID); err != nil {
			return nil, err
		}
		if people, err = versionContributors(ctx, s, op, v.ID); err != nil {
			return nil, err
		}
	}
	names, err := s.contributorNames(ctx, op, people)
	if err != nil {
		return nil, err
	}

	var md strings.Builder
	md.WriteString("# " + mdEscape(title) + "\n\n")
	md.WriteString("- **Territorio:** " + mdEscape(terr.Name) + "\n")
	md.WriteString("- **Stato:** " + statusLabels[status] + "\n")
	if versionName != "" {
		md.WriteString("- **Versione:** " + mdEscape(versionName) + "\n")
	}
	md.WriteString("- **Data:** " + italianDate(date) + "\n")
	if len(names) == 0 {
		md.WriteString("- **Contributori:** nessuno\n")
	} else {
		md.WriteString("- **Contributori:** " + mdEscape(strings.Join(names, ", ")) + "\n")
	}
	for _, sec := range secs {
		md.WriteString("\n## " + mdEscape(sec.Title) + "\n")
		if body := strings.TrimRight(strings.ReplaceAll(sec.Text, "\r\n", "\n"), "\n\t "); body != "" {
			md.WriteString("\n" + body + "\n")
		}
	}
	base := slug(title)
	if versionName != "" {
		base += "-" + slug(versionName)
	}
	if format == Markdown {
		return &Export{Filename: base + ".md", MediaType: "text/markdown; charset=utf-8", Content: md.String()}, nil
	}
	var page bytes.Buffer
	page.WriteString("<!DOCTYPE html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n")
	page.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	page.WriteString("<title>" + html.EscapeString(title) + "</title>\n</head>\n<body>\n")
	body, err := RenderHTML(md.String())
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	page.WriteString(body)
	page.WriteString("</body>\n</html>\n")
	return &Export{Filename: base + ".html", MediaType: "text/html; charset=utf-8", Content: page.String()}, nil
}

// statusAt is the document's status when v was taken: PUBLISHED for a
// published version, otherwise the status of the last transition recorded
// by then (DRAFT before any).
func (s *Service) statusAt(ctx context.Context, op string, v *Version) (Status, error) {
	if v.Kind == PublishedVersion {
		return Published, nil
	}
	var to []Status
	if err := s.db.NewSelect().Model((*Transition)(nil)).Column("to_status").Where("document_id = ?", v.DocumentID).
		Where("at <= ?", v.CreatedAt).OrderExpr("id DESC").Limit(1).Scan(ctx, &to); err != nil {
		return "", storage.MapError(op, "transition", err)
	}
	if len(to) == 0 {
		return Draft, nil
	}
	return to[0], nil
}

// versionContributors are the authors of the operations a version holds
// (up to each of its sections' versions), in the order of their first edit.
// One statement.
func versionContributors(ctx context.Context, s *Service, op string, versionID int64) ([]int64, error) {
	var ids []int64
	err := s.db.NewSelect().TableExpr("section_ops AS o").ColumnExpr("o.author_id").
		Join("JOIN document_version_sections AS vs ON vs.section_id = o.section_id AND o.version <= vs.section_version").
		Where("vs.version_id = ?", versionID).Where("o.author_id IS NOT NULL").
		GroupExpr("o.author_id").OrderExpr("MIN(o.created_at), o.author_id").Scan(ctx, &ids)
	if err != nil {
		return nil, storage.MapError(op, "operation", err)
	}
	return ids, nil
}

// contributorNames are the display names of ids, in their order; people the
// source does not know are left out.
func (s *Service) contributorNames(ctx context.Context, op string, ids []int64) ([]string, error) {
	if len(ids) == 0 || s.o.People == nil {
		return nil, nil
	}
	contacts, err := s.o.People.Contacts(ctx, ids)
	if err != nil {
		return nil, apperr.Wrap(op, err)
	}
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if c, ok := contacts[id]; ok && c.Name != "" {
			names = append(names, c.Name)
		}
	}
	return names, nil
}

// mdEscape makes plain text (a title, a name) literal in Markdown: the
// characters that could start emphasis, a link, code, raw HTML or an entity
// are escaped with a backslash, which CommonMark allows before any ASCII
// punctuation.
func mdEscape(s string) string {
	var b strings.Builder
	for _, r := range strings.Join(strings.Fields(s), " ") {
		if strings.ContainsRune("\\`*_[]<>#!|~&", r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// slug is s as a file name: ASCII letters and digits in lower case, accents
// dropped ("Qualità" -> "qualita"), anything else one dash; at most 80
// characters, "documento" when nothing is left.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFKD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
		if b.Len() >= 80 {
			break
		}
	}
	if b.Len() == 0 {
		return "documento"
	}
	return b.String()
}
