package graph_test

import "testing"

// The tracking figures are aggregates without personal data: every
// signed-in person of the matrix holds a global role or a territory role,
// so all of them read the overview, every territory's progress and its live
// figures (a signed-in person with no role is FORBIDDEN: package tracking's
// tests, and TestTerritoryFiguresSubscription).
var trackingRows = []matrixRow{
	{op: "Query.regionalOverview", doc: `{ regionalOverview { at cells { territory { code } theme { code }
		meetings { planned held cancelled next } attendance { people guests organizations invited attended byKind { kind count } bySector { sector count } }
		sections { count withContent words contributors edits7Days edits30Days } comments { open resolved } } } }`,
		want: everyoneSignedIn},
	{op: "Query.territoryProgress", doc: `{ territoryProgress(territory: "EN") { territory { code } hasGroup lastActivity
		composition { members noOrganization byKind { kind count } byLevel { level count } byRole { role count } }
		milestones { groupFormed firstMeetingHeld allThemesHeld inReview approved published }
		documents { title status transitions { from to at } } } }`,
		want: everyoneSignedIn},
	// The activity feed: what happened, counted, with people named
	// without their contacts.
	{op: "Query.activity", doc: `{ activity(first: 5) { totalCount pageInfo { hasNextPage } edges { cursor node { id at kind
		territory { code } theme { code } actor { displayName } person { displayName } status title private count
		meeting { id } document { id } section { id } thread { id } } } } }`,
		want: everyoneSignedIn},
	// The live figures: sent at once, so the first answer tells.
	{op: "Subscription.territoryFigures", doc: `subscription { territoryFigures(territory: "EN") { territory { code } at
		cells { theme { code } meetings { planned held } attendance { people } sections { edits30Days } comments { open } } } }`,
		want: everyoneSignedIn},
	// The overview as a file: the same figures, the same readers.
	{op: "GET /reports/overview.csv", doc: "(a download)",
		prepare: func(*testing.T, *matrixEnv, *persona) request {
			return request{get: "/reports/overview.csv", getHolds: "Enna"}
		},
		want: everyoneSignedIn},
	{op: "GET /reports/overview.xlsx", doc: "(a download)",
		prepare: func(*testing.T, *matrixEnv, *persona) request {
			return request{get: "/reports/overview.xlsx", getHolds: "Palermo"}
		},
		want: everyoneSignedIn},
}
