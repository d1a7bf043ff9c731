package apperr_test

import (
	"database/sql"
	"fmt"
	"testing"

	"github.com/pia-sicilia/pia/internal/apperr"
)

func TestPublicNeverLeaksInternalDetail(t *testing.T) {
	err := apperr.Wrap("storage.Open", fmt.Errorf("dial tcp 10.0.0.7:5432: password=hunter2"))
	kind, msg, _ := apperr.Public(err)
	if kind != apperr.Internal || msg != apperr.InternalMessage {
		t.Fatalf("Public = %s %q, want INTERNAL %q", kind, msg, apperr.InternalMessage)
	}
}

func TestWrapKeepsKindAndMessage(t *testing.T) {
	base := apperr.Invalid("", "code", "a territory code has two letters")
	err := fmt.Errorf("resolver: %w", apperr.Wrap("reference.TerritoryByCode", base))
	kind, msg, field := apperr.Public(err)
	if kind != apperr.BadInput || msg != "a territory code has two letters" || field != "code" {
		t.Fatalf("Public = %s %q %q", kind, msg, field)
	}
	if !apperr.Is(err, apperr.BadInput) || apperr.Is(err, apperr.NotFound) {
		t.Fatal("Is does not follow the chain")
	}
	if apperr.KindOf(sql.ErrNoRows) != apperr.Internal {
		t.Fatal("a plain error must be INTERNAL")
	}
	if apperr.Wrap("x", nil) != nil {
		t.Fatal("Wrap(nil) must be nil")
	}
}

func TestDefaultMessages(t *testing.T) {
	_, msg, _ := apperr.Public(&apperr.Error{Kind: apperr.NotFound})
	if msg != "not found" {
		t.Fatalf("msg = %q", msg)
	}
}
