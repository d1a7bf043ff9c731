package account

import (
	"context"
	"slices"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/storage"
)

// AuditFilter narrows the audit log; zero fields do not filter.
type AuditFilter struct {
	Kind     AuditKind
	PersonID int64 // events about this person
}

// AuditPage is a page of the audit log, newest first.
type AuditPage struct {
	Events     []*AuditEvent
	HasMore    bool
	TotalCount int
}

// MaxPage is the largest page a list returns.
const MaxPage = 100

// AuditEvents returns up to first events older than the event with id
// before (0: from the newest). Only administrators may read the log. It
// returns BAD_USER_INPUT for first outside 1..MaxPage or an unknown kind.
func (s *Service) AuditEvents(ctx context.Context, f AuditFilter, first int, before int64) (*AuditPage, error) {
	const op = "account.AuditEvents"
	if err := access.Check(ctx, access.ReadAudit, access.Resource{}); err != nil {
		return nil, err
	}
	if first < 1 || first > MaxPage {
		return nil, apperr.Invalid(op, "first", "first is between 1 and %d; got %d", MaxPage, first)
	}
	if f.Kind != "" && !slices.Contains(AuditKinds, f.Kind) {
		return nil, apperr.Invalid(op, "kind", "unknown audit event kind %q", f.Kind)
	}
	q := s.db.NewSelect().Model((*AuditEvent)(nil))
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.PersonID != 0 {
		q = q.Where("person_id = ?", f.PersonID)
	}
	total, err := q.Count(ctx)
	if err != nil {
		return nil, storage.MapError(op, "audit event", err)
	}
	var events []*AuditEvent
	q = q.Model(&events).Order("id DESC").Limit(first + 1)
	if before > 0 {
		q = q.Where("id < ?", before)
	}
	if err := q.Scan(ctx); err != nil {
		return nil, storage.MapError(op, "audit event", err)
	}
	page := &AuditPage{Events: events, TotalCount: total}
	if len(events) > first {
		page.Events, page.HasMore = events[:first], true
	}
	return page, s.attachPeople(ctx, page.Events...)
}

// AuditEvent returns one event, for administrators; NOT_FOUND otherwise.
func (s *Service) AuditEvent(ctx context.Context, id int64) (*AuditEvent, error) {
	const op = "account.AuditEvent"
	if err := access.Check(ctx, access.ReadAudit, access.Resource{}); err != nil {
		if apperr.Is(err, apperr.Unauthenticated) {
			return nil, err
		}
		return nil, apperr.E(apperr.NotFound, op, "no such audit event")
	}
	ev := new(AuditEvent)
	if err := s.db.NewSelect().Model(ev).Where("id = ?", id).Scan(ctx); err != nil {
		return nil, storage.MapError(op, "audit event", err)
	}
	return ev, s.attachPeople(ctx, ev)
}

// attachPeople fills the actors and subjects of events, in one query.
func (s *Service) attachPeople(ctx context.Context, events ...*AuditEvent) error {
	var ids []int64
	for _, ev := range events {
		for _, id := range []*int64{ev.ActorID, ev.PersonID} {
			if id != nil && !slices.Contains(ids, *id) {
				ids = append(ids, *id)
			}
		}
	}
	people, err := s.peopleByID(ctx, ids)
	if err != nil {
		return err
	}
	for _, ev := range events {
		if ev.ActorID != nil {
			ev.Actor = people[*ev.ActorID]
		}
		if ev.PersonID != nil {
			ev.Person = people[*ev.PersonID]
		}
	}
	return nil
}

func (s *Service) peopleByID(ctx context.Context, ids []int64) (map[int64]*Person, error) {
	out := make(map[int64]*Person, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	var people []*Person
	if err := s.db.NewSelect().Model(&people).Where("id IN (?)", bun.In(ids)).Scan(ctx); err != nil {
		return nil, storage.MapError("account.peopleByID", "person", err)
	}
	if err := s.loadRoles(ctx, people...); err != nil {
		return nil, err
	}
	for _, p := range people {
		out[p.ID] = p
	}
	return out, nil
}
