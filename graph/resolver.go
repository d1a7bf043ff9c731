// Package graph is PIA's GraphQL transport: the executor generated from
// schema.graphqls (generated.go, model/), thin resolvers that call one service
// each, and the HTTP and websocket handler with its limits and error presenter.
package graph

//go:generate go tool gqlgen generate

import (
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/activity"
	"github.com/pia-sicilia/pia/internal/coedit"
	"github.com/pia-sicilia/pia/internal/health"
	"github.com/pia-sicilia/pia/internal/meeting"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
	"github.com/pia-sicilia/pia/internal/tracking"
)

// Resolver holds the services the resolvers call. It is built once in
// cmd/piad and carries no per-request state.
type Resolver struct {
	Reference *reference.Service
	Health    *health.Checker
	Accounts  *account.Service
	Network   *network.Service
	Coedit    *coedit.Service
	Meetings  *meeting.Service
	Tracking  *tracking.Service
	Activity  *activity.Service
	// PublicURL is where PIA is served, for the links the API gives (a
	// meeting's calendar file).
	PublicURL string
}
