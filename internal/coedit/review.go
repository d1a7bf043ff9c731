package coedit

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// nextStatuses are the transitions of the review, from each status.
var nextStatuses = map[Status][]Status{
	Draft:     {InReview},
	InReview:  {Draft, Approved},
	Approved:  {Published},
	Published: nil,
}

// ChangeStatus moves a document through its review: DRAFT -> IN_REVIEW ->
// APPROVED -> PUBLISHED, and IN_REVIEW -> DRAFT (coordinators,
// administrators). Publishing freezes a version.
//
// The document row is locked while the status is checked and changed, so
// two reviewers cannot both move it from the same status; each change is
// recorded as a Transition with the note (at most 2,000 characters).
// Publishing also freezes the document as a version of kind PUBLISHED, named
// "Pubblicata il <date in Rome>", which becomes the document's
// PublishedVersionID and the transition's VersionID. It returns NOT_FOUND
// for a document the caller may not read, FORBIDDEN when they may read but
// not review it, BAD_USER_INPUT for an unknown status or a long note, and
// CONFLICT with reason BAD_TRANSITION for a transition the review does not
// have (the message says which ones it has from the current status).
func (s *Service) ChangeStatus(ctx context.Context, documentID int64, to Status, note string) (*Document, error) {
	const op = "coedit.ChangeStatus"
	if _, known := nextStatuses[to]; !known {
		return nil, apperr.Invalid(op, "status", "%q is not a status; use DRAFT, IN_REVIEW, APPROVED or PUBLISHED", to)
	}
	note, err := featCleanText(op, "note", note, maxNote)
	if err != nil {
		return nil, err
	}
	d, err := s.document(ctx, s.db, documentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReviewDocument, d); err != nil {
		return nil, err
	}
	var published int64
	err = s.db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if d, err = featLockDocument(ctx, tx, op, documentID, "UPDATE"); err != nil {
			return err
		}
		if !slices.Contains(nextStatuses[d.Status], to) {
			return badTransition(op, d.Status, to)
		}
		actor := actorID(ctx)
		now := s.now()
		tr := &Transition{DocumentID: d.ID, From: d.Status, To: to, ActorID: actor, Note: note, At: now}
		if to == Published {
			v, err := s.freezeVersion(ctx, tx, op, d, PublishedVersion, "Pubblicata il "+italianDate(now), note, actor)
			if err != nil {
				return err
			}
			published = v.ID
			tr.VersionID = &v.ID
			d.PublishedVersionID = &v.ID
		}
		d.Status, d.UpdatedAt = to, now
		if _, err := tx.NewUpdate().Model(d).Column("status", "published_version_id", "updated_at").WherePK().Exec(ctx); err != nil {
			return storage.MapError(op, "document", err)
		}
		if _, err := tx.NewInsert().Model(tr).Exec(ctx); err != nil {
			return storage.MapError(op, "transition", err)
		}
		return s.logTx(ctx, tx, activity.Entry{Kind: activity.DocumentState, Status: string(to), VersionID: tr.VersionID}, d)
	})
	if err != nil {
		return nil, err
	}
	if published != 0 {
		s.publishDoc(ctx, DocEvent{Kind: DocVersion, DocumentID: d.ID, VersionID: published})
	}
	s.publishDoc(ctx, DocEvent{Kind: DocStatus, DocumentID: d.ID})
	return d, nil
}

// badTransition is the CONFLICT for moving a document from one status to
// another the review does not connect.
func badTransition(op string, from, to Status) error {
	next := nextStatuses[from]
	var msg string
	switch {
	case len(next) == 0:
		msg = fmt.Sprintf("the document is %s, which is final: it cannot move to %s", from, to)
	case from == to:
		msg = fmt.Sprintf("the document is %s already; from %s it can move to %s", from, from, joinStatuses(next))
	default:
		msg = fmt.Sprintf("a document cannot move from %s to %s; from %s it can move to %s", from, to, from, joinStatuses(next))
	}
	return apperr.E(apperr.Conflict, op, "%s", msg).WithReason("BAD_TRANSITION")
}

func joinStatuses(ss []Status) string {
	names := make([]string, len(ss))
	for i, s := range ss {
		names[i] = string(s)
	}
	return strings.Join(names, " or ")
}

// Transitions lists a document's recorded transitions, oldest first
// (ReadDocument).
func (s *Service) Transitions(ctx context.Context, documentID int64) ([]*Transition, error) {
	const op = "coedit.Transitions"
	d, err := s.document(ctx, s.db, documentID)
	if err != nil {
		return nil, err
	}
	if err := s.authorize(ctx, access.ReadDocument, d); err != nil {
		return nil, err
	}
	var out []*Transition
	if err := s.db.NewSelect().Model(&out).Where("document_id = ?", documentID).Order("id").Scan(ctx); err != nil {
		return nil, storage.MapError(op, "transition", err)
	}
	return out, nil
}

// featRome is the time zone dates are shown in.
var featRome = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}()

var italianMonths = [...]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio",
	"agosto", "settembre", "ottobre", "novembre", "dicembre"}

// italianDate is t's day in Rome, as Italian writes it: "22 novembre 2026".
func italianDate(t time.Time) string {
	t = t.In(featRome)
	return fmt.Sprintf("%d %s %d", t.Day(), italianMonths[t.Month()-1], t.Year())
}
