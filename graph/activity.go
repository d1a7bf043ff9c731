package graph

// The activity feed: the log is the activity service's; here are its
// filter's codes and ids, and the links from a line to what it names, each
// null where the caller may not read it.

import (
	"context"

	"github.com/pia-sicilia/pia/graph/model"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/relay"
)

type (
	ActivityConnection = Connection[*activity.Entry]
	ActivityEdge       = Edge[*activity.Entry]
)

const typeActivity = "ActivityEvent" // not a Node: lines are read in the feed

// activityFilter turns the filter's codes and ids into the service's.
func (r *Resolver) activityFilter(ctx context.Context, in *model.ActivityFilter) (f activity.Filter, err error) {
	if in == nil {
		return f, nil
	}
	const op = "graph.activity"
	for _, code := range in.Territories {
		id, err := r.territoryIDOf(ctx, op, "territories", &code)
		if err != nil {
			return f, err
		}
		f.TerritoryIDs = append(f.TerritoryIDs, id)
	}
	for _, code := range in.Themes {
		id, err := r.themeIDOf(ctx, &code)
		if err != nil {
			return f, inField(err, "themes")
		}
		f.ThemeIDs = append(f.ThemeIDs, id)
	}
	if f.MeetingID, err = optionalID(typeMeeting, in.Meeting); err != nil {
		return f, inField(err, "meeting")
	}
	if f.DocumentID, err = optionalID(typeDocument, in.Document); err != nil {
		return f, inField(err, "document")
	}
	f.Kinds, f.Since, f.Until = in.Kinds, in.Since, in.Until
	return f, nil
}

// activityConnection is a page of the feed; the people, meetings and
// documents it names are loaded together.
func (r *Resolver) activityConnection(ctx context.Context, page *relay.Page[*activity.Entry], err error) (*ActivityConnection, error) {
	if err != nil {
		return nil, err
	}
	l := r.loadersFrom(ctx)
	var people, meetings []int64
	for _, e := range page.Items {
		people = appendSet(people, e.ActorID, e.PersonID)
		meetings = appendSet(meetings, e.MeetingID)
	}
	l.people.add(people)
	l.meetings.add(meetings)
	return connectionOf[*activity.Entry](nil, func(e *activity.Entry) int64 { return e.ID })(page, nil)
}
