package demo

import (
	"github.com/pia-sicilia/pia/internal/access"
	"github.com/pia-sicilia/pia/internal/network"
	"github.com/pia-sicilia/pia/internal/reference"
)

// The demo region. Organizations, projects and services come from the
// public articles in shared/context (the integrated social hubs of Enna and
// Siracusa, the meeting of the nine hubs in Enna, the Com.In.4.0 network
// meetings, LgNet2 in Palermo), plus the public bodies every province has (its
// capoluogo's municipality, prefecture, health authority and employment
// centre). Contacts, websites, tax codes and dates are left empty where the
// articles give none. Every person is fictional, with an address at
// example.org (directory entries) or pia.demo (the demo accounts); none is
// one of the people the articles name.

// Theme shorthands.
const (
	health    = reference.ThemeCode("HEALTH")
	education = reference.ThemeCode("EDUCATION")
	work      = reference.ThemeCode("WORK")
	housing   = reference.ThemeCode("HOUSING")
)

var allThemes = []reference.ThemeCode{health, education, work, housing}

// territory is one of the nine provinces with its capoluogo.
type territory struct {
	Code, Capoluogo, Istat string // the capoluogo's ISTAT code
	// Others are more municipalities of the province, without an ISTAT code
	// (only the capoluoghi's are given here, the ones we are sure of).
	Others []string
}

var territories = []territory{
	{"AG", "Agrigento", "084001", []string{"Sciacca", "Licata", "Canicattì", "Favara", "Lampedusa e Linosa"}},
	{"CL", "Caltanissetta", "085004", []string{"Gela", "Niscemi", "San Cataldo", "Mussomeli"}},
	{"CT", "Catania", "087015", []string{"Acireale", "Paternò", "Caltagirone", "Misterbianco", "Adrano"}},
	// Calascibetta, Centuripe, Piazza Armerina and Regalbuto: the stops of
	// the Enna hub's tour.
	{"EN", "Enna", "086009", []string{"Calascibetta", "Centuripe", "Piazza Armerina", "Regalbuto", "Nicosia", "Leonforte"}},
	{"ME", "Messina", "083048", []string{"Barcellona Pozzo di Gotto", "Milazzo", "Taormina", "Patti"}},
	{"PA", "Palermo", "082053", []string{"Bagheria", "Carini", "Partinico", "Termini Imerese", "Monreale"}},
	{"RG", "Ragusa", "088009", []string{"Vittoria", "Modica", "Comiso", "Pozzallo", "Scicli"}},
	{"SR", "Siracusa", "089017", []string{"Augusta", "Avola", "Noto", "Lentini", "Pachino"}},
	{"TP", "Trapani", "081021", []string{"Marsala", "Mazara del Vallo", "Alcamo", "Castelvetrano", "Pantelleria"}},
}

func allTerritories() []string {
	out := make([]string, len(territories))
	for i, t := range territories {
		out[i] = t.Code
	}
	return out
}

// org is an organization of the demo; Key names it for the people and
// practices below.
type org struct {
	Key         string
	Name        string
	Kind        network.Kind
	Level       network.Level
	Territories []string
	Themes      []reference.ThemeCode
}

// regionKey is the regional office: its presence means the demo is seeded.
const regionKey = "regione-famiglia"

// regionName is the name of the regional office.
const regionName = "Regione Siciliana – Dipartimento della Famiglia e delle Politiche Sociali"

// namedOrganizations are the organizations the articles name.
func namedOrganizations() []org {
	all := allTerritories()
	return []org{
		// Com.In.4.0 is led by the Department's Servizio 3; the hubs were
		// co-designed with the Region's Ufficio Speciale Immigrazione.
		{regionKey, regionName, network.KindRegion, network.LevelRegional, all, allThemes},
		{"regione-usi", "Regione Siciliana – Ufficio Speciale Immigrazione", network.KindRegion, network.LevelRegional, all, allThemes},
		// The ministry whose directorate promotes Su.Pr.Eme. Italia, which
		// funds the hubs of all nine provinces.
		{"ministero-lavoro", "Ministero del Lavoro e delle Politiche Sociali – Direzione Generale dell'Immigrazione e delle Politiche di Integrazione",
			network.KindMinistry, network.LevelNational, all, []reference.ThemeCode{work, housing}},
		// LgNet2's coordinator, with ANCI and Cittalia.
		{"ministero-interno", "Ministero dell'Interno – Dipartimento per le Libertà Civili e l'Immigrazione",
			network.KindMinistry, network.LevelNational, []string{"PA"}, []reference.ThemeCode{health, housing}},
		{"anci-sicilia", "ANCI Sicilia", network.KindOtherPublicBody, network.LevelRegional, all, allThemes},
		{"anci", "ANCI – Associazione Nazionale Comuni Italiani", network.KindOtherPublicBody, network.LevelNational, []string{"PA"}, []reference.ThemeCode{health, housing}},
		{"cittalia", "Cittalia – Fondazione ANCI", network.KindFoundation, network.LevelNational, []string{"PA"}, []reference.ThemeCode{health, housing}},
		{"consorzio-enna", "Libero Consorzio Comunale di Enna", network.KindOtherPublicBody, network.LevelProvincial, []string{"EN"}, allThemes},
		// The Enna hub's managers. The articles do not say what kind of
		// body Iblea Servizi Territoriali Onlus is; it runs services with a
		// social cooperative, and is taken as one.
		{"iblea", "Iblea Servizi Territoriali Onlus", network.KindSocialCooperative, network.LevelProvincial, []string{"EN"}, []reference.ThemeCode{health, work, housing}},
		{"global-service", "Global Service scs", network.KindSocialCooperative, network.LevelProvincial, []string{"EN"}, []reference.ThemeCode{work, housing}},
		// At the meeting of the nine hubs in Enna.
		{"nova", "Consorzio Nova", network.KindConsortium, network.LevelNational, []string{"EN"}, []reference.ThemeCode{work, housing}},
		// The Siracusa hub's partners.
		{"cpia-sr", "CPIA Siracusa", network.KindCPIA, network.LevelProvincial, []string{"SR"}, []reference.ThemeCode{education}},
		{"oxfam", "Oxfam Italia Intercultura", network.KindSocialCooperative, network.LevelNational, []string{"SR"}, []reference.ThemeCode{education, work}},
		{"arci-sr", "Arci Siracusa", network.KindAssociation, network.LevelProvincial, []string{"SR"}, []reference.ThemeCode{education, work}},
		{"accoglierete", "AccoglieRete", network.KindAssociation, network.LevelProvincial, []string{"SR"}, []reference.ThemeCode{education, housing}},
		{"siamo-mediterraneo", "Fondazione Siamo Mediterraneo", network.KindFoundation, network.LevelProvincial, []string{"SR"}, []reference.ThemeCode{work, education}},
		// LgNet2's partners in Palermo.
		{"accura", "Centro Accura", network.KindAssociation, network.LevelMunicipal, []string{"PA"}, []reference.ThemeCode{health}},
		{"penc", "Centro Penc", network.KindAssociation, network.LevelMunicipal, []string{"PA"}, []reference.ThemeCode{health, education}},
		// The municipalities the Enna hub's tour visited.
		{"comune-calascibetta", "Comune di Calascibetta", network.KindMunicipality, network.LevelMunicipal, []string{"EN"}, allThemes},
		{"comune-centuripe", "Comune di Centuripe", network.KindMunicipality, network.LevelMunicipal, []string{"EN"}, allThemes},
		{"comune-piazza-armerina", "Comune di Piazza Armerina", network.KindMunicipality, network.LevelMunicipal, []string{"EN"}, allThemes},
		{"comune-regalbuto", "Comune di Regalbuto", network.KindMunicipality, network.LevelMunicipal, []string{"EN"}, allThemes},
	}
}

// provincialOrganizations are the public bodies of each province: the
// capoluogo's municipality (Enna, Siracusa and Palermo are named in the
// articles), the prefecture, the provincial health authority and the
// employment centre (Siracusa's is a partner of its hub). Keys are
// "comune-EN", "prefettura-EN", "asp-EN", "cpi-EN".
func provincialOrganizations() []org {
	var out []org
	for _, t := range territories {
		in := []string{t.Code}
		out = append(out,
			org{"comune-" + t.Code, "Comune di " + t.Capoluogo, network.KindMunicipality, network.LevelMunicipal, in, allThemes},
			org{"prefettura-" + t.Code, "Prefettura – Ufficio Territoriale del Governo di " + t.Capoluogo, network.KindPrefecture, network.LevelProvincial, in, []reference.ThemeCode{work, housing}},
			org{"asp-" + t.Code, "Azienda Sanitaria Provinciale di " + t.Capoluogo, network.KindHealthAuthority, network.LevelProvincial, in, []reference.ThemeCode{health}},
			org{"cpi-" + t.Code, "Centro per l'impiego di " + t.Capoluogo, network.KindEmploymentCentre, network.LevelProvincial, in, []reference.ThemeCode{work}},
		)
	}
	return out
}

// Password is the password of every demo account. It is public: the demo
// is for a local machine, never for a server others reach.
const Password = "demo-pia-2026"

// AdminEmail is the demo administrator, who does the seeding.
const AdminEmail = "admin@pia.demo"

// person is a fictional person of the demo: a directory entry, or an
// account when Account is set.
type person struct {
	Name, Email string
	Org         string // key of the organization they stand for
	Role        network.AffiliationRole
	Title       string
	Group       string // territory code of their working group; "" for none
	GroupRole   access.TerritoryRole
	Account     string // the role the README lists, for the demo accounts
	Global      []access.GlobalRole
}

// accounts are the demo accounts, one per role, all with Password. The
// administrator is created first, apart.
var accounts = []person{
	{Name: "Giulia Ferrante", Email: "coordinatore.enna@pia.demo", Org: "comune-EN", Role: network.Representative,
		Title: "Referente per le politiche sociali", Group: "EN", GroupRole: access.Coordinator, Account: "COORDINATOR of the Enna working group"},
	{Name: "Karim Mansouri", Email: "membro.enna@pia.demo", Org: "iblea", Role: network.Staff,
		Title: "Mediatore linguistico-culturale", Group: "EN", GroupRole: access.Member, Account: "MEMBER of the Enna working group"},
	{Name: "Elena Russo", Email: "osservatore.enna@pia.demo", Org: "anci-sicilia", Role: network.Delegate,
		Group: "EN", GroupRole: access.Observer, Account: "OBSERVER of the Enna working group"},
	{Name: "Marco Vitale", Email: "decisore@pia.demo", Org: regionKey, Role: network.Representative,
		Title: "Dirigente", Account: "POLICY_MAKER", Global: []access.GlobalRole{access.PolicyMaker}},
}

// members are the other people of the working groups, without accounts.
func members() []person {
	m := func(name, email, org string, role network.AffiliationRole, title, group string, gr access.TerritoryRole) person {
		return person{Name: name, Email: email + "@example.org", Org: org, Role: role, Title: title, Group: group, GroupRole: gr}
	}
	const (
		co, me, ob           = access.Coordinator, access.Member, access.Observer
		rep, del, staff      = network.Representative, network.Delegate, network.Staff
		mediator, socialWork = "Mediatrice linguistico-culturale", "Operatore sociale"
	)
	out := []person{
		// Enna, around the coordinator, member and observer accounts.
		m("Davide Morreale", "davide.morreale", "global-service", staff, socialWork, "EN", me),
		m("Silvia Caruso", "silvia.caruso", "asp-EN", del, "Assistente sociale", "EN", me),
		m("Rosa Amato", "rosa.amato", "cpi-EN", staff, "Operatrice dei servizi per il lavoro", "EN", me),
		m("Luca Di Stefano", "luca.distefano", "comune-piazza-armerina", del, "", "EN", me),
		m("Anna Pellegrino", "anna.pellegrino", "consorzio-enna", del, "", "EN", me),
		m("Fabio Greco", "fabio.greco", "prefettura-EN", del, "", "EN", ob),
		// Siracusa: the hub's partners.
		m("Valentina Sciacca", "valentina.sciacca", "comune-SR", rep, "Referente del Polo Sociale Integrato", "SR", co),
		m("Giorgio Lombardo", "giorgio.lombardo", "cpia-sr", del, "Docente", "SR", me),
		m("Amina Ndiaye", "amina.ndiaye", "oxfam", staff, mediator, "SR", me),
		m("Salvo Parisi", "salvo.parisi", "arci-sr", rep, "", "SR", me),
		m("Chiara Messina", "chiara.messina", "accoglierete", rep, "", "SR", me),
		m("Nicola Fiore", "nicola.fiore", "siamo-mediterraneo", del, "", "SR", me),
		m("Teresa Bruno", "teresa.bruno", "cpi-SR", staff, "Operatrice dei servizi per il lavoro", "SR", me),
		m("Federica Leone", "federica.leone", "asp-SR", del, "", "SR", me),
		m("Antonio Costa", "antonio.costa", "prefettura-SR", del, "", "SR", ob),
		// Palermo: LgNet2's partners and the Region.
		m("Simona Galati", "simona.galati", "comune-PA", rep, "Referente per le politiche migratorie", "PA", co),
		m("Youssef El Amrani", "youssef.elamrani", "penc", staff, "Mediatore linguistico-culturale", "PA", me),
		m("Laura Sanfilippo", "laura.sanfilippo", "accura", rep, "", "PA", me),
		m("Giovanni Cusumano", "giovanni.cusumano", "asp-PA", del, "", "PA", me),
		m("Marta Ingrassia", "marta.ingrassia", "cpi-PA", staff, "", "PA", me),
		m("Roberto Mangano", "roberto.mangano", regionKey, staff, "Funzionario, Servizio 3", "PA", me),
		m("Daniela Orlando", "daniela.orlando", "cittalia", del, "", "PA", ob),
		m("Sergio Lo Bue", "sergio.lobue", "prefettura-PA", del, "", "PA", ob),
	}
	// The other six provinces: the municipality coordinates, the health
	// authority and the employment centre take part, the prefecture
	// observes.
	others := []struct {
		code  string
		names [4][2]string // name, email local part
	}{
		{"AG", [4][2]string{{"Carmela Vaccaro", "carmela.vaccaro"}, {"Ignazio Alaimo", "ignazio.alaimo"}, {"Sara Montalbano", "sara.montalbano"}, {"Calogero Sferrazza", "calogero.sferrazza"}}},
		{"CL", [4][2]string{{"Rita Giunta", "rita.giunta"}, {"Michele Scarantino", "michele.scarantino"}, {"Noemi Tumminelli", "noemi.tumminelli"}, {"Angelo Cammarata", "angelo.cammarata"}}},
		{"CT", [4][2]string{{"Francesca Privitera", "francesca.privitera"}, {"Alfio Musumeci", "alfio.musumeci"}, {"Grazia Sciuto", "grazia.sciuto"}, {"Tommaso Pappalardo", "tommaso.pappalardo"}}},
		{"ME", [4][2]string{{"Ilaria Crisafulli", "ilaria.crisafulli"}, {"Domenico Saija", "domenico.saija"}, {"Patrizia Bonanno", "patrizia.bonanno"}, {"Carlo Mondello", "carlo.mondello"}}},
		{"RG", [4][2]string{{"Giovanna Schembari", "giovanna.schembari"}, {"Emanuele Cascone", "emanuele.cascone"}, {"Lucia Iacono", "lucia.iacono"}, {"Vincenzo Distefano", "vincenzo.distefano"}}},
		{"TP", [4][2]string{{"Alessandra Grimaldi", "alessandra.grimaldi"}, {"Baldassare Ingoglia", "baldassare.ingoglia"}, {"Martina Adamo", "martina.adamo"}, {"Pietro Bonomo", "pietro.bonomo"}}},
	}
	for _, o := range others {
		n := o.names
		out = append(out,
			m(n[0][0], n[0][1], "comune-"+o.code, rep, "Referente per le politiche sociali", o.code, co),
			m(n[1][0], n[1][1], "asp-"+o.code, del, "", o.code, me),
			m(n[2][0], n[2][1], "cpi-"+o.code, staff, "", o.code, me),
			m(n[3][0], n[3][1], "prefettura-"+o.code, del, "", o.code, ob),
		)
	}
	return out
}

// practice is an existing project or service of the demo.
type practice struct {
	Name, Description, Territory string
	Themes                       []reference.ThemeCode
	Lead                         string // organization key; "" when the articles do not say
	Partners                     []string
	Funding                      network.Funding
	FundingDetail                string
	Beneficiaries                string
	Services                     []string
	OpeningHours                 string
	Address                      string
}

const (
	supremeDetail = "Su.Pr.Eme. Italia (AMIF Emergency Funds, Commissione Europea – DG Migration and Home Affairs); " +
		"nel 2023 P.I.U. Su.Pr.Eme., Regione Siciliana"
	hubsTogether = "I 9 poli hanno accolto e accompagnato 1.200 cittadini stranieri da maggio a settembre 2023."
	lgnetDetail  = "FAMI 2014-2020, progetto LgNet2 (Ministero dell'Interno – DLCI, con ANCI e Cittalia)"
)

// hubServices are what every integrated social hub offers, as the articles
// describe them.
var hubServices = []string{
	"Orientamento ai servizi territoriali (sociali, sanitari, logistici, abitativi, di politica attiva)",
	"Accompagnamento all'inserimento socio-lavorativo e all'autonomia",
	"Prevenzione e contrasto dello sfruttamento lavorativo",
	"Supporto all'inclusione abitativa",
}

func practices() []practice {
	out := []practice{
		{
			Name:      "Polo Sociale Integrato di Enna",
			Territory: "EN",
			Description: "Spazio polifunzionale per cittadini stranieri con sede nel Comune di Enna, nato dalla co-progettazione " +
				"tra la Regione Siciliana (Assessorato della Famiglia, delle Politiche Sociali e del Lavoro, Ufficio Speciale " +
				"Immigrazione) e i soggetti pubblici e del terzo settore che hanno partecipato all'avviso pubblico; gestito da " +
				"Iblea Servizi Territoriali Onlus e Global Service scs. L'équipe gira i comuni del Libero Consorzio Comunale " +
				"(Calascibetta, Centuripe, Piazza Armerina, Regalbuto) per incontrare amministrazioni, associazioni e cittadini " +
				"stranieri e ampliare la propria rete di sostegno. " + hubsTogether,
			Themes:        []reference.ThemeCode{health, work, housing},
			Lead:          "iblea",
			Partners:      []string{"global-service", "comune-EN", "regione-usi", "comune-calascibetta", "comune-centuripe", "comune-piazza-armerina", "comune-regalbuto"},
			Funding:       network.FundingAMIF,
			FundingDetail: supremeDetail,
			Beneficiaries: "Cittadini stranieri residenti nel territorio del Libero Consorzio Comunale di Enna",
			Services: append(append([]string{}, hubServices...),
				"Supporto e mediazione linguistica, anche per l'emergenza Ucraina",
				"Materiale informativo multilingue sui servizi",
				"Tour informativo nei comuni del territorio"),
			Address: "Spazio polifunzionale nel Comune di Enna",
		},
		{
			Name:      "Polo Sociale Integrato di Siracusa",
			Territory: "SR",
			Description: "Servizio nato in co-progettazione tra la Regione Siciliana (Assessorato della Famiglia, delle Politiche " +
				"Sociali e del Lavoro, Ufficio Speciale Immigrazione) e il Comune di Siracusa, in collaborazione con CPIA, Oxfam " +
				"Italia Intercultura, Arci Siracusa, AccoglieRete e Fondazione Siamo Mediterraneo. Orienta i cittadini stranieri " +
				"ai servizi del territorio e dà loro gli strumenti per accedere ai servizi pubblici, con operatori sociali e " +
				"mediatori linguistici e culturali. " + hubsTogether,
			Themes:        []reference.ThemeCode{education, work, housing},
			Lead:          "comune-SR",
			Partners:      []string{"regione-usi", "cpia-sr", "oxfam", "arci-sr", "accoglierete", "siamo-mediterraneo", "cpi-SR"},
			Funding:       network.FundingAMIF,
			FundingDetail: "Su.Pr.Eme. Italia (AMIF Emergency Funds, Commissione Europea – DG Migration and Home Affairs)",
			Beneficiaries: "Cittadini stranieri della provincia di Siracusa",
			Services: []string{
				"Sportello Istruzione e formazione",
				"Sportello Lavoro: accesso al credito e incontro tra domanda e offerta, con il Centro per l'impiego di Siracusa",
				"Tavolo territoriale e tavolo per il lavoro tra gli attori pubblici e del privato sociale",
				"Sportello di Orientamento ai servizi, compresa l'emergenza abitativa",
				"Sportello Mentoring: consulenza e reindirizzamento",
			},
			OpeningHours: "Lunedì, mercoledì e giovedì, 9:00–13:00 e 15:00–18:00",
			Address:      "Comune dei Popoli, Siracusa",
		},
		{
			Name:      "LgNet2 – Polo one stop shop di presa in carico socio-sanitaria",
			Territory: "PA",
			Description: "Nella rete LgNet2 di 16 Comuni italiani, il Comune di Palermo ha attivato un polo one stop shop per " +
				"l'accoglienza e il trattamento delle situazioni di fragilità sanitaria che non trovano rapide risposte nel sistema " +
				"sanitario pubblico, rafforzando i servizi del territorio e razionalizzando gli interventi socio-sanitari. " +
				"Con il Centro Accura e il Centro Penc.",
			Themes:        []reference.ThemeCode{health},
			Lead:          "comune-PA",
			Partners:      []string{"accura", "penc", "ministero-interno", "anci", "cittalia"},
			Funding:       network.FundingFAMI,
			FundingDetail: lgnetDetail,
			Beneficiaries: "Migranti in condizione di particolare vulnerabilità ed emarginazione sociale; 200 beneficiari in tutto per le attività di LgNet2 a Palermo",
			Services:      []string{"Presa in carico socio-sanitaria", "Accoglienza e trattamento delle fragilità sanitarie"},
		},
		{
			Name:      "Safe Space – spazio al femminile",
			Territory: "PA",
			Description: "Spazio dedicato a mamme, adolescenti e mamme con bambini, attivato presso il Centro Penc nell'ambito di " +
				"LgNet2: laboratori per l'empowerment, le competenze lavorative nell'artigianato e la lingua italiana.",
			Themes:        []reference.ThemeCode{health, education, work},
			Lead:          "penc",
			Partners:      []string{"comune-PA"},
			Funding:       network.FundingFAMI,
			FundingDetail: lgnetDetail,
			Beneficiaries: "Mamme, adolescenti e mamme con bambini",
			Services: []string{"Laboratorio di informatica", "Laboratorio di sartoria", "Laboratorio di ballo",
				"Cittadinanza attiva", "Supporto scolastico per gli adolescenti", "Benessere mentale"},
			Address: "Centro Penc, Palermo",
		},
		{
			Name:      "Com.In.4.0 – Competenze per l'integrazione",
			Territory: "PA",
			Description: "Progetto interregionale FAMI a cura del Dipartimento della Famiglia e delle Politiche Sociali – Servizio 3, " +
				"per una governance multisettoriale, multilivello e multistakeholder dell'inclusione dei cittadini stranieri " +
				"(L.R. 20/2021): incontri di rete in formato focus group in ogni territorio, da cui nascono le linee guida del " +
				"Piano di Inclusione Accogliente (P.I.A.) e un gruppo di lavoro per territorio che resta attivo come piattaforma " +
				"di co-progettazione.",
			Themes:        allThemes,
			Lead:          regionKey,
			Partners:      []string{"anci-sicilia"},
			Funding:       network.FundingFAMI,
			FundingDetail: "FAMI, progetto interregionale Com.In.4.0",
			Beneficiaries: "Operatori pubblici e privati dell'inclusione delle persone provenienti da Paesi terzi, e policy maker",
			Services: []string{
				"Quattro incontri tematici per territorio: salute, istruzione, lavoro, casa",
				"Linee guida per il Piano di Inclusione Accogliente",
				"Gruppo di lavoro permanente per territorio",
			},
		},
	}
	// The other seven hubs: the articles say there is one in every
	// province, not who runs it nor where.
	for _, t := range territories {
		if t.Code == "EN" || t.Code == "SR" {
			continue
		}
		out = append(out, practice{
			Name:      "Polo Sociale Integrato di " + t.Capoluogo,
			Territory: t.Code,
			Description: "Uno dei centri polifunzionali per cittadini stranieri attivati in tutte le province siciliane, nati dalla " +
				"co-progettazione tra l'Ufficio Speciale Immigrazione della Regione Siciliana e i soggetti pubblici e del terzo " +
				"settore che hanno partecipato all'avviso pubblico. " + hubsTogether,
			Themes:        []reference.ThemeCode{health, work, housing},
			Partners:      []string{"regione-usi"},
			Funding:       network.FundingAMIF,
			FundingDetail: supremeDetail,
			Beneficiaries: "Cittadini stranieri della provincia di " + t.Capoluogo,
			Services:      hubServices,
		})
	}
	return out
}
