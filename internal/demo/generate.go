package demo

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"

	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
)

// The scale mode's region, generated from a seeded generator: the same seed
// and scale give the same organizations, people and memberships, so that
// benchmark runs are comparable. Names are plausible and invented; every
// address is at example.org.

// Per unit of scale.
const (
	orgsPerScale      = 2_000
	peoplePerScale    = 10_000
	membersPerScale   = 300 // per territory
	coordinatorsEvery = 100 // one more coordinator per this many members
)

// genOrg is a generated organization.
type genOrg struct {
	Name        string
	Kind        network.Kind
	Level       network.Level
	Territories []string
	Themes      []reference.ThemeCode
	Website     string
	Email       string
}

// genAffiliation ties a generated person to a generated organization (an
// index into region.Orgs).
type genAffiliation struct {
	Org   int
	Role  network.AffiliationRole
	Title string
}

// genPerson is a generated person.
type genPerson struct {
	Name, Email, Phone, Language string
	Affiliations                 []genAffiliation
}

// genMember is a generated working-group membership: a person (an index
// into region.People) on behalf of one of their organizations.
type genMember struct {
	Territory string
	Person    int
	Org       int
	Role      access.TerritoryRole
}

// region is a generated region.
type region struct {
	Orgs    []genOrg
	People  []genPerson
	Members []genMember
}

// weighted picks among choices in proportion to their weights.
type weighted[T any] struct {
	items []T
	cum   []int
}

func newWeighted[T any](pairs ...any) weighted[T] {
	var w weighted[T]
	total := 0
	for i := 0; i < len(pairs); i += 2 {
		total += pairs[i+1].(int)
		w.items = append(w.items, pairs[i].(T))
		w.cum = append(w.cum, total)
	}
	return w
}

func (w weighted[T]) pick(r *rand.Rand) T {
	n := r.IntN(w.cum[len(w.cum)-1])
	for i, c := range w.cum {
		if n < c {
			return w.items[i]
		}
	}
	return w.items[len(w.items)-1]
}

// territoryWeights spread organizations roughly as people live: the
// metropolitan cities first.
var territoryWeights = newWeighted[string]("PA", 12, "CT", 11, "ME", 6, "AG", 4, "TP", 4, "SR", 4, "RG", 3, "CL", 3, "EN", 2)

// kindWeights: many associations and cooperatives, then migrant community
// associations, schools, companies, municipalities.
var kindWeights = newWeighted[network.Kind](
	network.KindAssociation, 27, network.KindSocialCooperative, 16, network.KindVolunteerOrganization, 10,
	network.KindMigrantCommunityAssociation, 9, network.KindSchool, 9, network.KindCompany, 8,
	network.KindMunicipality, 4, network.KindFoundation, 3, network.KindConsortium, 3, network.KindNGO, 2,
	network.KindHealthAuthority, 2, network.KindEmploymentCentre, 2, network.KindTradeAssociation, 2,
	network.KindUnion, 2, network.KindCPIA, 1,
)

var levelWeights = newWeighted[network.Level](network.LevelMunicipal, 60, network.LevelProvincial, 30,
	network.LevelRegional, 8, network.LevelNational, 2)

var roleWeights = newWeighted[network.AffiliationRole](network.Staff, 60, network.Delegate, 25, network.Representative, 15)

var roots = []string{
	"Il Ponte", "Arcobaleno", "Nuovi Orizzonti", "La Rete", "Mosaico", "Terra Madre", "Porte Aperte",
	"Mediterraneo Solidale", "Casa Comune", "Radici", "Il Faro", "Approdi", "Sentieri", "Incontri", "Ulisse",
	"Itaca", "Girasole", "La Ginestra", "Zagara", "Le Maree", "Il Seme", "Passaggi", "Crocevia", "Babele",
	"Libeccio", "Scirocco", "Sole e Luna", "Ponti di Pace", "Nuova Luce", "Intrecci", "Alba", "Il Melograno",
	"Agorà", "Koinè", "Oasi", "Le Vele", "Il Mandorlo", "Carrubo", "Ali Aperte", "Tessere", "La Bussola",
	"Orizzonte Comune", "Porto Sicuro", "Mille Lingue", "Stella Maris", "Il Cortile", "Albero della Vita",
	"Terre di Mezzo", "Il Sentiero", "La Fenice",
}

var namesakes = []string{
	"Giovanni Verga", "Luigi Pirandello", "Leonardo Sciascia", "Salvatore Quasimodo", "Luigi Capuana",
	"Giovanni Falcone", "Paolo Borsellino", "Maria Montessori", "Gianni Rodari", "Edmondo De Amicis",
	"Dante Alighieri", "Archimede", "Empedocle", "Vincenzo Bellini", "Elio Vittorini", "Danilo Dolci",
	"Giuseppe Lombardo Radice", "Don Lorenzo Milani", "Federico II", "Ettore Majorana",
}

var communities = []string{
	"tunisina", "marocchina", "senegalese", "nigeriana", "ghanese", "gambiana", "bengalese", "srilankese",
	"filippina", "cinese", "ivoriana", "maliana", "eritrea", "somala", "albanese", "ucraina", "egiziana",
	"pakistana", "mauriziana", "indiana",
}

var firstNames = []string{
	"Giuseppe", "Maria", "Salvatore", "Anna", "Francesco", "Giovanna", "Antonino", "Rosaria", "Vincenzo",
	"Carmela", "Giovanni", "Francesca", "Antonio", "Angela", "Sebastiano", "Concetta", "Alessandro", "Chiara",
	"Andrea", "Sofia", "Lorenzo", "Giulia", "Matteo", "Martina", "Gabriele", "Alessia", "Riccardo", "Elisa",
	"Calogero", "Agata", "Gaetano", "Provvidenza", "Filippo", "Serena", "Marco", "Ilenia", "Emanuele", "Noemi",
}

var lastNames = []string{
	"Russo", "Lombardo", "Marino", "Greco", "Bruno", "Messina", "Rizzo", "Caruso", "Costa", "Ferrara",
	"Romano", "Gallo", "Leone", "Parisi", "Grasso", "Puglisi", "La Rosa", "Amato", "Giordano", "Sorce",
	"Arena", "Vitale", "Cirrincione", "Lo Presti", "Di Maio", "Catalano", "Mazzola", "Scalia", "Li Causi", "Pace",
}

// Names of people from the communities that live in Sicily, first and last
// names kept together.
var communityNames = [][2][]string{
	{{"Mohamed", "Fatima", "Youssef", "Amina"}, {"Ben Ali", "El Idrissi", "Trabelsi", "Haddad"}},
	{{"Amadou", "Aissatou", "Awa", "Moussa"}, {"Diop", "Ndiaye", "Traoré", "Diallo"}},
	{{"Chinedu", "Blessing", "Kwame", "Abena"}, {"Okafor", "Adeyemi", "Mensah", "Owusu"}},
	{{"Rahim", "Nasreen", "Imran", "Ayesha"}, {"Hossain", "Rahman", "Khan", "Malik"}},
	{{"Ruwan", "Dilani"}, {"Perera", "Fernando"}},
	{{"Jose", "Maricel"}, {"Santos", "Reyes"}},
	{{"Wei", "Mei"}, {"Chen", "Wang"}},
	{{"Dawit", "Hanna"}, {"Tesfaye", "Bekele"}},
	{{"Olena", "Andriy"}, {"Shevchenko", "Kovalenko"}},
}

var titles = []string{"", "", "", "Presidente", "Coordinatrice", "Operatore sociale", "Mediatrice linguistico-culturale",
	"Assistente sociale", "Educatore", "Responsabile progetti", "Volontaria", "Docente"}

// townsOf lists the municipalities of a territory the generator names
// organizations after.
func townsOf(code string) []string {
	for _, t := range territories {
		if t.Code == code {
			return append([]string{t.Capoluogo}, t.Others...)
		}
	}
	return nil
}

// generator builds a region. Organization names are unique across the
// region, so that a person's row can name their organization alone.
type generator struct {
	r     *rand.Rand
	names map[string]bool // by NameKey
	// freeTowns are the municipalities not yet an organization, per
	// territory: the demo's own municipalities (the capoluoghi and the Enna
	// hub's tour) are left out, so that demo and scale can be combined.
	freeTowns map[string][]string
}

// scaled is n×scale, rounded, at least 1.
func scaled(n int, scale float64) int {
	return max(1, int(math.Round(float64(n)*scale)))
}

// generate builds the region of scale from seed.
func generate(scale float64, seed uint64) *region {
	g := &generator{r: rand.New(rand.NewPCG(seed, 0x50494144454d4f)), names: map[string]bool{}, freeTowns: map[string][]string{}}
	// The demo's names are taken, so that demo and scale can be combined.
	for _, o := range append(namedOrganizations(), provincialOrganizations()...) {
		g.names[network.NameKey(o.Name)] = true
	}
	for _, t := range territories {
		for _, town := range t.Others {
			if !g.names[network.NameKey("Comune di "+town)] {
				g.freeTowns[t.Code] = append(g.freeTowns[t.Code], town)
			}
		}
	}
	reg := &region{}
	for range scaled(orgsPerScale, scale) {
		reg.Orgs = append(reg.Orgs, g.org())
	}
	for i := range scaled(peoplePerScale, scale) {
		reg.People = append(reg.People, g.person(i, len(reg.Orgs)))
	}
	reg.Members = g.members(reg, scaled(membersPerScale, scale))
	return reg
}

func (g *generator) org() genOrg {
	t := territoryWeights.pick(g.r)
	kind := kindWeights.pick(g.r)
	if kind == network.KindMunicipality && len(g.freeTowns[t]) == 0 {
		kind = network.KindAssociation
	}
	o := genOrg{Kind: kind, Territories: []string{t}}
	o.Name = g.orgName(kind, t, g.pick(townsOf(t)))
	o.Level, o.Themes = g.levelAndThemes(kind)
	// A quarter of those above the municipal level work in a second
	// territory too.
	if o.Level != network.LevelMunicipal && g.r.IntN(4) == 0 {
		if other := territoryWeights.pick(g.r); other != t {
			o.Territories = append(o.Territories, other)
		}
	}
	if kind.Sector() != network.SectorPublic && g.r.IntN(2) == 0 {
		slug := slugOf(o.Name)
		o.Website = "https://www." + slug + ".example.org"
		o.Email = "info@" + slug + ".example.org"
	}
	return o
}

// orgName names an organization of kind in territory t, unique in the
// region.
func (g *generator) orgName(kind network.Kind, t, town string) string {
	var base string
	switch kind {
	case network.KindMunicipality:
		towns := g.freeTowns[t]
		i := g.r.IntN(len(towns))
		base = "Comune di " + towns[i]
		g.freeTowns[t] = append(towns[:i:i], towns[i+1:]...)
	case network.KindSchool:
		base = g.pick([]string{"Istituto Comprensivo ", "Istituto di Istruzione Superiore ", "Liceo ", "Scuola Primaria "}) + g.pick(namesakes) + " – " + town
	case network.KindCPIA:
		base = "CPIA " + town + " – punto di erogazione " + g.pick(namesakes)
	case network.KindHealthAuthority:
		base = g.pick([]string{"Distretto sanitario di ", "Consultorio familiare di ", "Poliambulatorio di "}) + town
	case network.KindEmploymentCentre:
		base = "Sportello lavoro " + g.pick(roots) + " – " + town
	case network.KindMigrantCommunityAssociation:
		base = "Associazione della comunità " + g.pick(communities) + " di " + town
	case network.KindCompany:
		base = g.pick(lastNames) + " " + g.pick([]string{"Servizi", "Agricola", "Costruzioni", "Logistica", "Ristorazione", "Turismo"}) + " S.r.l."
	case network.KindTradeAssociation:
		base = "Associazione " + g.pick([]string{"Imprese", "Artigiani", "Agricoltori", "Commercianti"}) + " " + g.pick(roots) + " – " + town
	case network.KindUnion:
		base = "Sindacato " + g.pick([]string{"Lavoratori Agricoli", "Lavoratori del Turismo", "Lavoratori Edili", "Lavoratori Domestici"}) + " – " + town
	default:
		prefix := map[network.Kind]string{
			network.KindSocialCooperative: "Cooperativa Sociale ", network.KindVolunteerOrganization: "Organizzazione di Volontariato ",
			network.KindFoundation: "Fondazione ", network.KindConsortium: "Consorzio ", network.KindNGO: "ONG ",
		}[kind]
		if prefix == "" {
			prefix = g.pick([]string{"Associazione ", "Associazione Culturale ", "Associazione di Promozione Sociale "})
		}
		base = prefix + g.pick(roots) + " – " + town
	}
	name := base
	for n := 2; g.names[network.NameKey(name)]; n++ {
		name = fmt.Sprintf("%s (%d)", base, n)
	}
	g.names[network.NameKey(name)] = true
	return name
}

// levelAndThemes gives an organization of kind a level and one to three
// themes, the public services' own theme first.
func (g *generator) levelAndThemes(kind network.Kind) (network.Level, []reference.ThemeCode) {
	level := levelWeights.pick(g.r)
	var themes []reference.ThemeCode
	switch kind {
	case network.KindMunicipality, network.KindSchool, network.KindCPIA:
		level = network.LevelMunicipal
	case network.KindHealthAuthority, network.KindEmploymentCentre:
		level = network.LevelProvincial
	}
	switch kind {
	case network.KindSchool, network.KindCPIA:
		themes = []reference.ThemeCode{education}
	case network.KindHealthAuthority:
		themes = []reference.ThemeCode{health}
	case network.KindEmploymentCentre, network.KindCompany, network.KindTradeAssociation, network.KindUnion:
		themes = []reference.ThemeCode{work}
	case network.KindMunicipality:
		return level, allThemes
	}
	for range 1 + g.r.IntN(3) {
		th := allThemes[g.r.IntN(len(allThemes))]
		if !slices.Contains(themes, th) {
			themes = append(themes, th)
		}
	}
	return level, themes
}

// person makes person i, affiliated with one or two of orgs organizations
// (a few with none).
func (g *generator) person(i, orgs int) genPerson {
	first, last := firstNames, lastNames
	if g.r.IntN(5) == 0 {
		c := communityNames[g.r.IntN(len(communityNames))]
		first, last = c[0], c[1]
	}
	fn, ln := g.pick(first), g.pick(last)
	p := genPerson{Name: fn + " " + ln, Language: "it",
		Email: fmt.Sprintf("%s.%s.%d@example.org", slugOf(fn), slugOf(ln), i+1)}
	if g.r.IntN(10) == 0 {
		p.Language = "en"
	}
	if g.r.IntN(3) == 0 {
		p.Phone = fmt.Sprintf("+39 3%02d %03d %04d", g.r.IntN(100), g.r.IntN(1000), g.r.IntN(10000))
	}
	n := 1
	switch x := g.r.IntN(20); {
	case x == 0:
		n = 0
	case x <= 2:
		n = 2
	}
	for range n {
		o := g.r.IntN(orgs)
		if len(p.Affiliations) > 0 && p.Affiliations[0].Org == o {
			continue
		}
		p.Affiliations = append(p.Affiliations, genAffiliation{Org: o, Role: roleWeights.pick(g.r), Title: g.pick(titles)})
	}
	return p
}

// members picks up to n members per territory among the people affiliated
// with an organization working there, on its behalf: coordinators first
// (one per coordinatorsEvery members, at least one), about one in six
// observers, the rest members.
func (g *generator) members(reg *region, n int) []genMember {
	byTerritory := map[string][][2]int{} // person, org
	for pi, p := range reg.People {
		for _, a := range p.Affiliations {
			for _, t := range reg.Orgs[a.Org].Territories {
				byTerritory[t] = append(byTerritory[t], [2]int{pi, a.Org})
			}
		}
	}
	var out []genMember
	for _, t := range territories {
		cands := byTerritory[t.Code]
		g.r.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		seen := map[int]bool{}
		coordinators := max(1, n/coordinatorsEvery)
		for _, c := range cands {
			if len(seen) == n {
				break
			}
			if seen[c[0]] {
				continue
			}
			seen[c[0]] = true
			role := access.Member
			switch {
			case len(seen) <= coordinators:
				role = access.Coordinator
			case g.r.IntN(6) == 0:
				role = access.Observer
			}
			out = append(out, genMember{Territory: t.Code, Person: c[0], Org: c[1], Role: role})
		}
	}
	return out
}

func (g *generator) pick(s []string) string { return s[g.r.IntN(len(s))] }

// slugOf turns a name into letters, digits and dashes for an address.
func slugOf(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case strings.ContainsRune("àáâ", r):
			b.WriteByte('a')
		case strings.ContainsRune("èéê", r):
			b.WriteByte('e')
		case strings.ContainsRune("ìí", r):
			b.WriteByte('i')
		case strings.ContainsRune("òó", r):
			b.WriteByte('o')
		case strings.ContainsRune("ùú", r):
			b.WriteByte('u')
		default:
			if !dash && b.Len() > 0 {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	return strings.TrimRight(b.String(), "-")
}
