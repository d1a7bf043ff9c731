package network

import (
	"slices"
	"time"

	"github.com/uptrace/bun"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/account"
	"github.com/pia-sicilia/pia/internal/reference"
)

// Person is a person of the network: the people table belongs to package
// account (credentials, sessions) and to this package (the directory
// fields: phone, archiving, erasure).
type Person = account.Person

// Sector groups organization kinds for reports.
type Sector string

// The sectors.
const (
	SectorPublic           Sector = "PUBLIC"
	SectorThirdSector      Sector = "THIRD_SECTOR"
	SectorPrivate          Sector = "PRIVATE"
	SectorMigrantCommunity Sector = "MIGRANT_COMMUNITY"
)

// Sectors lists the sectors in display order.
var Sectors = []Sector{SectorPublic, SectorThirdSector, SectorPrivate, SectorMigrantCommunity}

// Label is the sector's name in Italian, for reports and spreadsheets.
func (s Sector) Label() string {
	switch s {
	case SectorPublic:
		return "Pubblico"
	case SectorThirdSector:
		return "Terzo settore"
	case SectorPrivate:
		return "Privato"
	case SectorMigrantCommunity:
		return "Comunità migranti"
	}
	return string(s)
}

// Kind is the kind of an organization. Stored: append only.
type Kind string

// The kinds, by sector.
const (
	// Public bodies.
	KindMinistry         Kind = "MINISTRY"
	KindRegion           Kind = "REGION"
	KindMunicipality     Kind = "MUNICIPALITY"
	KindHealthAuthority  Kind = "HEALTH_AUTHORITY"
	KindSchool           Kind = "SCHOOL"
	KindCPIA             Kind = "CPIA" // adult education centre
	KindEmploymentCentre Kind = "EMPLOYMENT_CENTRE"
	KindPrefecture       Kind = "PREFECTURE"
	KindUniversity       Kind = "UNIVERSITY"
	KindOtherPublicBody  Kind = "OTHER_PUBLIC_BODY" // such as ANCI, a consortium of municipalities
	// Third sector.
	KindAssociation           Kind = "ASSOCIATION"
	KindSocialCooperative     Kind = "SOCIAL_COOPERATIVE"
	KindConsortium            Kind = "CONSORTIUM"
	KindFoundation            Kind = "FOUNDATION"
	KindNGO                   Kind = "NGO"
	KindVolunteerOrganization Kind = "VOLUNTEER_ORGANIZATION"
	// Private actors.
	KindCompany          Kind = "COMPANY"
	KindTradeAssociation Kind = "TRADE_ASSOCIATION"
	KindUnion            Kind = "UNION"
	// Migrant community associations, a kind of their own.
	KindMigrantCommunityAssociation Kind = "MIGRANT_COMMUNITY_ASSOCIATION"
)

// Kinds lists the kinds in display order, sector by sector.
var Kinds = []Kind{
	KindMinistry, KindRegion, KindMunicipality, KindHealthAuthority, KindSchool, KindCPIA,
	KindEmploymentCentre, KindPrefecture, KindUniversity, KindOtherPublicBody,
	KindAssociation, KindSocialCooperative, KindConsortium, KindFoundation, KindNGO, KindVolunteerOrganization,
	KindCompany, KindTradeAssociation, KindUnion,
	KindMigrantCommunityAssociation,
}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return slices.Contains(Kinds, k) }

// Sector is the sector k belongs to.
func (k Kind) Sector() Sector {
	switch k {
	case KindAssociation, KindSocialCooperative, KindConsortium, KindFoundation, KindNGO, KindVolunteerOrganization:
		return SectorThirdSector
	case KindCompany, KindTradeAssociation, KindUnion:
		return SectorPrivate
	case KindMigrantCommunityAssociation:
		return SectorMigrantCommunity
	}
	return SectorPublic
}

// KindsOf lists the kinds of sector s.
func KindsOf(s Sector) []Kind {
	var out []Kind
	for _, k := range Kinds {
		if k.Sector() == s {
			out = append(out, k)
		}
	}
	return out
}

// Level is an organization's level of governance.
type Level string

// The levels.
const (
	LevelNational   Level = "NATIONAL"
	LevelRegional   Level = "REGIONAL"
	LevelProvincial Level = "PROVINCIAL"
	LevelMunicipal  Level = "MUNICIPAL"
)

// Levels lists the levels, widest first.
var Levels = []Level{LevelNational, LevelRegional, LevelProvincial, LevelMunicipal}

// Valid reports whether l is a known level.
func (l Level) Valid() bool { return slices.Contains(Levels, l) }

// AffiliationRole is how a person stands for an organization.
type AffiliationRole string

// The affiliation roles.
const (
	Representative AffiliationRole = "REPRESENTATIVE"
	Delegate       AffiliationRole = "DELEGATE"
	Staff          AffiliationRole = "STAFF"
)

// AffiliationRoles lists the affiliation roles.
var AffiliationRoles = []AffiliationRole{Representative, Delegate, Staff}

// Valid reports whether r is a known affiliation role.
func (r AffiliationRole) Valid() bool { return slices.Contains(AffiliationRoles, r) }

// Funding is the programme that funds a practice.
type Funding string

// The funding programmes.
const (
	FundingFAMI      Funding = "FAMI"      // Fondo Asilo, Migrazione e Integrazione (2014-2020)
	FundingAMIF      Funding = "AMIF"      // Asylum, Migration and Integration Fund (2021-2027)
	FundingPON       Funding = "PON"       // national operational programmes (PON Inclusione, Legalità)
	FundingPNRR      Funding = "PNRR"      // national recovery and resilience plan
	FundingESF       Funding = "ESF"       // European Social Fund+, regional programmes
	FundingRegional  Funding = "REGIONAL"  // the Region's own funds
	FundingMunicipal Funding = "MUNICIPAL" // municipal and social district funds
	FundingPrivate   Funding = "PRIVATE"   // foundations, donors, own funds
	FundingOther     Funding = "OTHER"
)

// Fundings lists the funding programmes.
var Fundings = []Funding{FundingFAMI, FundingAMIF, FundingPON, FundingPNRR, FundingESF, FundingRegional, FundingMunicipal, FundingPrivate, FundingOther}

// Valid reports whether f is a known programme.
func (f Funding) Valid() bool { return slices.Contains(Fundings, f) }

// Organization is a stakeholder: a public body, a third-sector
// organization, a private actor or a migrant community association.
type Organization struct {
	bun.BaseModel `bun:"table:organizations,alias:o"`

	ID         int64      `bun:"id,pk,autoincrement"`
	Name       string     `bun:"name"`
	NameKey    string     `bun:"name_key"`
	Kind       Kind       `bun:"kind"`
	Level      Level      `bun:"level"`
	Website    *string    `bun:"website"`
	Email      *string    `bun:"email"` // the organization's public contact
	Phone      *string    `bun:"phone"`
	TaxCode    *string    `bun:"tax_code"` // codice fiscale or partita IVA, digits and capitals
	CreatedAt  time.Time  `bun:"created_at"`
	UpdatedAt  time.Time  `bun:"updated_at"`
	CreatedBy  *int64     `bun:"created_by"`
	ArchivedAt *time.Time `bun:"archived_at"`
}

type organizationTerritory struct {
	bun.BaseModel `bun:"table:organization_territories,alias:ot"`

	OrganizationID int64  `bun:"organization_id,pk"`
	TerritoryID    int64  `bun:"territory_id,pk"`
	NameKey        string `bun:"name_key"`
}

type organizationTheme struct {
	bun.BaseModel `bun:"table:organization_themes,alias:oth"`

	OrganizationID int64 `bun:"organization_id,pk"`
	ThemeID        int64 `bun:"theme_id,pk"`
}

// Affiliation is a person's tie to an organization. Current while EndedAt is
// nil.
type Affiliation struct {
	bun.BaseModel `bun:"table:affiliations,alias:af"`

	ID             int64           `bun:"id,pk,autoincrement"`
	PersonID       int64           `bun:"person_id"`
	OrganizationID int64           `bun:"organization_id"`
	Role           AffiliationRole `bun:"role"`
	Title          *string         `bun:"title"` // such as "assessore alle politiche sociali"
	StartedAt      time.Time       `bun:"started_at"`
	EndedAt        *time.Time      `bun:"ended_at"`
	CreatedBy      *int64          `bun:"created_by"`
	EndedBy        *int64          `bun:"ended_by"`
}

// WorkingGroup is the co-design group of one territory.
type WorkingGroup struct {
	bun.BaseModel `bun:"table:working_groups,alias:wg"`

	ID          int64      `bun:"id,pk,autoincrement"`
	TerritoryID int64      `bun:"territory_id"`
	Name        string     `bun:"name"`
	Description string     `bun:"description"`
	FormedOn    *time.Time `bun:"formed_on"` // a date: midnight UTC
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	ArchivedAt  *time.Time `bun:"archived_at"`
}

// Membership is one period of a person's membership of a working group,
// with one role. Current while LeftAt is nil. A role change ends the period
// and starts another, so the rows are the group's history.
type Membership struct {
	bun.BaseModel `bun:"table:working_group_members,alias:wgm"`

	ID             int64                `bun:"id,pk,autoincrement"`
	WorkingGroupID int64                `bun:"working_group_id"`
	PersonID       int64                `bun:"person_id"`
	OrganizationID *int64               `bun:"organization_id"` // on whose behalf
	Role           access.TerritoryRole `bun:"role"`
	JoinedAt       time.Time            `bun:"joined_at"`
	AddedBy        *int64               `bun:"added_by"`
	LeftAt         *time.Time           `bun:"left_at"`
	RemovedBy      *int64               `bun:"removed_by"`
}

// Practice is an existing project or service the guidelines start from: an
// integrated social hub, a help desk, a housing project.
type Practice struct {
	bun.BaseModel `bun:"table:practices,alias:pr"`

	ID                 int64      `bun:"id,pk,autoincrement"`
	Name               string     `bun:"name"`
	NameKey            string     `bun:"name_key"`
	Description        string     `bun:"description"`
	TerritoryID        int64      `bun:"territory_id"`
	LeadOrganizationID *int64     `bun:"lead_organization_id"`
	Funding            Funding    `bun:"funding"`
	FundingDetail      string     `bun:"funding_detail"` // such as "FAMI 2014-2020, OS2 ON3, PROG-2425"
	StartsOn           *time.Time `bun:"starts_on"`      // dates: midnight UTC
	EndsOn             *time.Time `bun:"ends_on"`
	Beneficiaries      string     `bun:"beneficiaries"`
	Services           []string   `bun:"services,type:text"` // stored as a JSON array
	OpeningHours       string     `bun:"opening_hours"`
	Address            string     `bun:"address"`
	ContactEmail       *string    `bun:"contact_email"` // the service's public contact
	ContactPhone       *string    `bun:"contact_phone"`
	Website            *string    `bun:"website"`
	CreatedAt          time.Time  `bun:"created_at"`
	UpdatedAt          time.Time  `bun:"updated_at"`
	ArchivedAt         *time.Time `bun:"archived_at"`
}

type practiceTheme struct {
	bun.BaseModel `bun:"table:practice_themes,alias:pth"`

	PracticeID int64 `bun:"practice_id,pk"`
	ThemeID    int64 `bun:"theme_id,pk"`
}

type practicePartner struct {
	bun.BaseModel `bun:"table:practice_partners,alias:pp"`

	PracticeID     int64 `bun:"practice_id,pk"`
	OrganizationID int64 `bun:"organization_id,pk"`
}

// Municipality is a comune of a territory.
type Municipality struct {
	bun.BaseModel `bun:"table:municipalities,alias:m"`

	ID          int64      `bun:"id,pk,autoincrement"`
	TerritoryID int64      `bun:"territory_id"`
	Name        string     `bun:"name"`
	NameKey     string     `bun:"name_key"`
	IstatCode   *string    `bun:"istat_code"` // six digits, such as "086009" for Enna
	CreatedAt   time.Time  `bun:"created_at"`
	UpdatedAt   time.Time  `bun:"updated_at"`
	ArchivedAt  *time.Time `bun:"archived_at"`
}

// Territory and Theme are the reference data network entries point to.
type (
	Territory = reference.Territory
	Theme     = reference.Theme
)
