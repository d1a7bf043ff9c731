package network

import (
	"time"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/reference"
)

// SortField is what a list is ordered by.
type SortField string

// The sort fields.
const (
	SortByName    SortField = "NAME"       // folded name, then id
	SortByCreated SortField = "CREATED_AT" // creation order (id)
)

// Sort orders a list. The zero Sort is by name, ascending.
type Sort struct {
	Field SortField
	Desc  bool
}

// Patches: a nil field is left unchanged. For optional texts an empty string
// clears the value; a nil slice pointer leaves a list unchanged.

// OrganizationInput creates an organization. Territories and themes are
// given by code ("EN", "HEALTH").
type OrganizationInput struct {
	Name        string
	Kind        Kind
	Level       Level
	Territories []string
	Themes      []reference.ThemeCode
	Website     *string
	Email       *string
	Phone       *string
	TaxCode     *string
}

// OrganizationPatch changes an organization.
type OrganizationPatch struct {
	Name        *string
	Kind        *Kind
	Level       *Level
	Territories *[]string
	Themes      *[]reference.ThemeCode
	Website     *string
	Email       *string
	Phone       *string
	TaxCode     *string
}

// OrganizationFilter narrows a list of organizations. Zero fields match all.
type OrganizationFilter struct {
	Territory       string // territory code
	Kinds           []Kind
	Sector          Sector
	Level           Level
	Theme           reference.ThemeCode
	Search          string // words that must all appear in the name
	IncludeArchived bool
}

// PersonInput adds a person to the directory, without an account: they get
// one when invited.
type PersonInput struct {
	DisplayName string
	Email       *string
	Phone       *string
	Language    string // "it" (default) or "en"
}

// PersonPatch changes a person's directory entry.
type PersonPatch struct {
	DisplayName *string
	Email       *string
	Phone       *string
	Language    *string
}

// PersonFilter narrows a list of people.
type PersonFilter struct {
	Territory       string // current members of this territory's working group
	OrganizationID  int64  // current affiliates of this organization
	Search          string // words that must all appear in the display name
	IncludeArchived bool
}

// AffiliationInput ties a person to an organization.
type AffiliationInput struct {
	PersonID       int64
	OrganizationID int64
	Role           AffiliationRole
	Title          *string
}

// AffiliationPatch changes an affiliation's role or title.
type AffiliationPatch struct {
	Role  *AffiliationRole
	Title *string
}

// WorkingGroupInput creates the working group of a territory.
type WorkingGroupInput struct {
	Territory   string // territory code
	Name        string // default "Gruppo di lavoro di <territory>"
	Description string
	FormedOn    *time.Time // a date
}

// WorkingGroupPatch changes a working group's details.
type WorkingGroupPatch struct {
	Name        *string
	Description *string
	FormedOn    *time.Time
}

// WorkingGroupFilter narrows a list of working groups.
type WorkingGroupFilter struct {
	Territory       string
	Search          string
	IncludeArchived bool
}

// MemberInput adds a person to a working group, on behalf of one of the
// organizations they are currently affiliated with (optional).
type MemberInput struct {
	WorkingGroupID int64
	PersonID       int64
	Role           access.TerritoryRole
	OrganizationID *int64
}

// PracticeInput creates a practice.
type PracticeInput struct {
	Name               string
	Description        string
	Territory          string // territory code
	Themes             []reference.ThemeCode
	LeadOrganizationID *int64
	PartnerIDs         []int64 // partner organizations
	Funding            Funding
	FundingDetail      string
	StartsOn           *time.Time // dates
	EndsOn             *time.Time
	Beneficiaries      string
	Services           []string
	OpeningHours       string
	Address            string
	ContactEmail       *string
	ContactPhone       *string
	Website            *string
}

// PracticePatch changes a practice. LeadOrganizationID pointing at 0 clears
// the lead; StartsOn or EndsOn pointing at the zero time clears the date.
type PracticePatch struct {
	Name               *string
	Description        *string
	Territory          *string
	Themes             *[]reference.ThemeCode
	LeadOrganizationID *int64
	PartnerIDs         *[]int64
	Funding            *Funding
	FundingDetail      *string
	StartsOn           *time.Time
	EndsOn             *time.Time
	Beneficiaries      *string
	Services           *[]string
	OpeningHours       *string
	Address            *string
	ContactEmail       *string
	ContactPhone       *string
	Website            *string
}

// PracticeFilter narrows a list of practices.
type PracticeFilter struct {
	Territory       string
	Theme           reference.ThemeCode
	Funding         Funding
	OrganizationID  int64 // lead or partner
	Search          string
	IncludeArchived bool
}

// MunicipalityInput creates a municipality.
type MunicipalityInput struct {
	Territory string
	Name      string
	IstatCode *string // six digits
}

// MunicipalityPatch changes a municipality.
type MunicipalityPatch struct {
	Territory *string
	Name      *string
	IstatCode *string
}

// MunicipalityFilter narrows a list of municipalities.
type MunicipalityFilter struct {
	Territory       string
	Search          string
	IncludeArchived bool
}
