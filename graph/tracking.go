package graph

// Tracking: the regional overview and a territory's progress are the
// tracking service's; only the link from a document's progress to the
// document itself is resolved here.

import (
	"context"

	"github.com/pia-sicilia/pia/internal/apperr"
	"github.com/pia-sicilia/pia/internal/coedit"
)

// readableDocument is the document with id, or nil when the caller may not
// read it: the tracking figures are open to every working group, the
// documents only to their own.
func (r *Resolver) readableDocument(ctx context.Context, id int64) (*coedit.Document, error) {
	d, err := load(ctx, r.loadersFrom(ctx).document, id)
	if apperr.Is(err, apperr.NotFound) || apperr.Is(err, apperr.Forbidden) {
		return nil, nil
	}
	return d, err
}
