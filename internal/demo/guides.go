package demo

import (
	"strings"

	"github.com/pia-sicilia/pia/internal/access"
)

// The demo's guideline documents: one draft per territory, "Linee guida per
// l'inclusione accogliente — <territory>", with an introduction and a
// section per theme. Each section opens with a paragraph on what the
// network meetings found everywhere (one of three wordings, so that
// neighbouring territories do not read alike) and goes on with what is
// particular to the territory. Places, services and projects are those of
// data.go; the people are the demo's fictional ones.

// The sections of every guide, in order: the introduction, then the themes.
const (
	secIntro = iota
	secHealth
	secEducation
	secWork
	secHousing
	sectionCount
)

// sectionTitles are the sections' titles; sectionThemes their themes (none
// for the introduction).
var (
	sectionTitles = [sectionCount]string{"Introduzione", "Salute", "Istruzione", "Lavoro", "Abitare"}
	sectionThemes = [sectionCount]string{"", string(health), string(education), string(work), string(housing)}
)

// guideTitle is the title of a territory's guide.
func guideTitle(territoryName string) string {
	return "Linee guida per l'inclusione accogliente — " + territoryName
}

// firstDraft is the name of the version the coordinator takes after the
// first round of writing.
const (
	firstDraft     = "Prima bozza"
	firstDraftNote = "La bozza discussa nell'incontro del gruppo di lavoro, prima delle azioni proposte."
)

// para is a paragraph and who writes it (a key of the guide's cast).
type para struct{ By, Text string }

// thread is a comment thread on the first occurrence of Quote in a
// section, with replies, resolved by the coordinator when Resolved.
type thread struct {
	Section  int
	Quote    string
	By, Body string
	Replies  []para
	Resolved bool
}

// later is an edit made after the first draft was named: New replaces the
// first occurrence of Old in the section, or, when Old is "", is appended
// as a new paragraph.
type later struct {
	Section  int
	By       string
	Old, New string
}

// guide is the document of one territory.
type guide struct {
	Territory string // its code
	// Cast maps who writes and comments to their email: "co" (the
	// coordinator), "health", "edu", "work", "house" (who writes each
	// theme), "obs" (an observer), and others the guide names.
	Cast     map[string]string
	Sections [sectionCount][]para // written before the first draft is named
	Threads  []thread             // opened before the first draft is named
	Later    []later
}

// local is what the guide of a territory says of it alone.
type local struct {
	Intro                            string
	Health, Education, Work, Housing string
	Threads                          []thread
	// Fix is a correction made after the first draft: Old becomes New in
	// section FixSection.
	FixSection int
	Fix        [2]string
}

// The paragraphs every territory's guide shares, in three wordings per
// theme; %[1]s is the capoluogo.
var (
	introOpening = "Questo documento raccoglie le linee guida del gruppo di lavoro del territorio di %[1]s per il Piano di " +
		"Inclusione Accogliente (P.I.A.). Nasce dagli incontri di rete del progetto Com.In.4.0, in cui operatori pubblici e " +
		"del privato sociale, mediatori e amministratori hanno messo in comune esperienze, difficoltà e proposte " +
		"sull'accoglienza dei cittadini di Paesi terzi."
	introClosing = "Il documento è organizzato per temi: **salute**, **istruzione**, **lavoro** e **abitare**. Ogni sezione " +
		"descrive la situazione del territorio, indica le priorità e propone azioni concrete, con i soggetti che se ne fanno " +
		"carico. È una bozza di lavoro: i commenti dei componenti del gruppo sono benvenuti."

	themeOpenings = [sectionCount][3]string{
		secHealth: {
			"L'accesso ai servizi sanitari resta il primo bisogno segnalato dagli sportelli. Molte persone non conoscono la " +
				"differenza tra pronto soccorso, guardia medica e medico di base, e chi non ha ancora un permesso di soggiorno " +
				"spesso non sa di poter chiedere il codice STP per le cure urgenti ed essenziali.",
			"Nel territorio di %[1]s il gruppo ha registrato difficoltà ricorrenti nell'iscrizione al Servizio sanitario " +
				"nazionale e nella scelta del medico di base: i documenti richiesti cambiano da uno sportello all'altro e le " +
				"informazioni disponibili sono quasi solo in italiano.",
			"La salute è il tema su cui la rete è più avanti, ma anche quello in cui la continuità è più fragile: le prese in " +
				"carico si interrompono quando la persona cambia comune o struttura di accoglienza, e i referti non la seguono.",
		},
		secEducation: {
			"L'apprendimento della lingua italiana è la condizione di ogni altro percorso. I corsi del CPIA sono apprezzati, " +
				"ma gli orari coincidono spesso con quelli di lavoro e chi vive fuori da %[1]s ha difficoltà a raggiungerli.",
			"Per i minori l'iscrizione a scuola è un diritto a prescindere dalla condizione dei genitori, ma nella pratica " +
				"molti arrivano ad anno iniziato e senza documenti sul percorso precedente: le scuole chiedono indicazioni " +
				"comuni per la valutazione in ingresso e per la classe da assegnare.",
			"Molti adulti hanno titoli di studio o qualifiche ottenuti nel Paese d'origine che qui non vengono riconosciuti, " +
				"e ricominciano da zero. Il gruppo propone di orientare le persone sin dal primo colloquio alle procedure di " +
				"dichiarazione di valore e di equipollenza.",
		},
		secWork: {
			"Il Centro per l'impiego di %[1]s segnala che le persone straniere si iscrivono soprattutto quando serve per altri " +
				"scopi, come una prestazione o un rinnovo, e raramente per cercare lavoro: il servizio non è percepito come " +
				"utile. Occorre renderlo più vicino, con la mediazione e con colloqui di orientamento dedicati.",
			"Il lavoro disponibile è in gran parte stagionale e poco qualificato, e proprio lì si concentrano i rischi di " +
				"sfruttamento: paghe sotto i minimi, orari non dichiarati, trasporto organizzato da intermediari. Prevenire " +
				"significa informare sui diritti prima che la persona accetti un lavoro, non dopo.",
			"Le imprese del territorio cercano personale, ma non conoscono gli strumenti per assumere in regola né i percorsi " +
				"di tirocinio finanziati. Il gruppo propone un incontro periodico tra Centro per l'impiego, associazioni di " +
				"categoria e sportelli del polo.",
		},
		secHousing: {
			"Trovare casa è il passaggio in cui l'autonomia si blocca più spesso. Molti proprietari chiedono garanzie che una " +
				"persona appena uscita dall'accoglienza non può dare, e alcuni rifiutano apertamente di affittare a cittadini " +
				"stranieri.",
			"La residenza anagrafica è la chiave per accedere a quasi tutti i servizi, ma senza un contratto di affitto " +
				"registrato non si ottiene: chi vive in coabitazione o in alloggi informali resta escluso. Il gruppo chiede di " +
				"applicare in modo uniforme l'iscrizione all'indirizzo convenzionale per chi non ha dimora.",
			"Nei centri storici dei comuni più piccoli ci sono molte case vuote, ma spesso in cattive condizioni e intestate a " +
				"proprietari che vivono altrove. Un'agenzia sociale per la casa potrebbe fare da intermediaria, con un fondo di " +
				"garanzia e piccoli lavori di manutenzione.",
		},
	}

	// themeActions are appended after the first draft.
	themeActions = [sectionCount]string{
		secHealth: "### Azioni proposte\n\n" +
			"- Un elenco aggiornato dei servizi sanitari del territorio, tradotto nelle lingue più parlate.\n" +
			"- Mediatori linguistico-culturali su prenotazione negli ambulatori e nei consultori.\n" +
			"- Un referente dell'ASP per il gruppo di lavoro, da contattare per i casi complessi.",
		secEducation: "### Azioni proposte\n\n" +
			"- Corsi di italiano in orario serale e nel fine settimana, anche nei comuni fuori dal capoluogo.\n" +
			"- Un protocollo con le scuole per l'accoglienza degli alunni arrivati ad anno iniziato.\n" +
			"- Orientamento al riconoscimento dei titoli di studio sin dal primo colloquio.",
		secWork: "### Azioni proposte\n\n" +
			"- Colloqui di orientamento con mediazione presso il Centro per l'impiego.\n" +
			"- Materiale informativo sui diritti dei lavoratori, da distribuire prima delle stagioni di raccolta.\n" +
			"- Un tavolo con le associazioni datoriali sui tirocini e sulle assunzioni in regola.",
		secHousing: "### Azioni proposte\n\n" +
			"- Un elenco di proprietari disponibili ad affittare, con un fondo di garanzia per il primo anno.\n" +
			"- L'iscrizione anagrafica all'indirizzo convenzionale applicata allo stesso modo in tutti i comuni.\n" +
			"- Soluzioni ponte per i neomaggiorenni e per chi esce dall'accoglienza.",
	}
)

// themeWriters are the cast keys of who writes each section by default.
var themeWriters = [sectionCount]string{"co", "health", "edu", "work", "house"}

// guides are the documents of the nine territories, in the order of
// territories.
func guides() []guide {
	out := make([]guide, 0, len(territories))
	for i, t := range territories {
		var g guide
		switch t.Code {
		case "EN":
			g = ennaGuide(t)
		default:
			g = standardGuide(i, t, locals[t.Code], casts[t.Code])
		}
		out = append(out, g)
	}
	return out
}

// standardGuide is the guide of the i-th territory: the shared opening of
// each section, then loc's paragraph; after the first draft, the
// introduction's closing, the proposed actions of two themes and loc's fix.
func standardGuide(i int, t territory, loc local, cast map[string]string) guide {
	g := guide{Territory: t.Code, Cast: cast, Threads: loc.Threads}
	g.Sections[secIntro] = []para{{"co", expand(introOpening, t)}, {"co", loc.Intro}}
	locals := [sectionCount]string{secHealth: loc.Health, secEducation: loc.Education, secWork: loc.Work, secHousing: loc.Housing}
	for s := secHealth; s < sectionCount; s++ {
		by := themeWriters[s]
		g.Sections[s] = []para{{by, expand(themeOpenings[s][(i+s)%3], t)}, {by, locals[s]}}
	}
	a, b := secHealth+i%4, secHealth+(i+2)%4
	g.Later = []later{
		{Section: secIntro, By: "co", New: introClosing},
		{Section: a, By: themeWriters[a], New: themeActions[a]},
		{Section: b, By: themeWriters[b], New: themeActions[b]},
		{Section: loc.FixSection, By: themeWriters[loc.FixSection], Old: loc.Fix[0], New: loc.Fix[1]},
	}
	return g
}

func expand(format string, t territory) string {
	return strings.ReplaceAll(format, "%[1]s", t.Capoluogo)
}

// casts of the territories with the usual working group: the
// municipality's referent coordinates and writes the introduction,
// education and housing; the health authority writes on health; the
// employment centre on work; the prefecture observes.
var casts = func() map[string]map[string]string {
	out := map[string]map[string]string{}
	for _, p := range members() {
		if p.Group == "" {
			continue
		}
		c := out[p.Group]
		if c == nil {
			c = map[string]string{}
			out[p.Group] = c
		}
		switch {
		case p.GroupRole == access.Coordinator:
			c["co"], c["edu"], c["house"] = p.Email, p.Email, p.Email
		case strings.HasPrefix(p.Org, "asp-"):
			c["health"] = p.Email
		case strings.HasPrefix(p.Org, "cpi-"):
			c["work"] = p.Email
		case strings.HasPrefix(p.Org, "prefettura-"):
			c["obs"] = p.Email
		}
	}
	// Palermo and Siracusa have more people: more of them write.
	out["PA"]["edu"] = "youssef.elamrani@example.org"
	out["PA"]["health"] = "laura.sanfilippo@example.org"
	out["PA"]["region"] = "roberto.mangano@example.org"
	out["SR"]["edu"] = "giorgio.lombardo@example.org"
	out["SR"]["mediator"] = "amina.ndiaye@example.org"
	out["SR"]["tutor"] = "chiara.messina@example.org"
	return out
}()

// locals are what each territory's guide says of it alone (Enna's is
// ennaGuide).
var locals = map[string]local{
	"AG": {
		Intro: "La provincia di Agrigento vive l'accoglienza in due tempi: a Lampedusa e Linosa gli arrivi via mare e la prima " +
			"assistenza, nel resto del territorio — Sciacca, Licata, Canicattì, Favara — l'inserimento di chi resta. Il " +
			"gruppo si è concentrato sul secondo tempo, quello in cui le reti locali possono fare di più.",
		Health: "Le persone trasferite da Lampedusa arrivano spesso senza copia delle visite fatte all'arrivo. Il gruppo " +
			"propone che l'ASP di Agrigento definisca una scheda sanitaria essenziale che accompagni la persona, e che i " +
			"consultori di Sciacca e Licata abbiano una giornata a settimana con la mediatrice.",
		Education: "Nell'entroterra, tra Canicattì e Favara, i corsi di italiano per adulti si svolgono quasi solo nel " +
			"capoluogo e chi lavora nei campi non riesce a raggiungerli. Si chiede di sperimentare classi decentrate nei " +
			"locali messi a disposizione dai comuni, anche in orario serale.",
		Work: "La raccolta dell'uva da tavola attorno a Canicattì richiede molta manodopera tra agosto e novembre. Il gruppo " +
			"propone di accompagnare la stagione con uno sportello mobile del Centro per l'impiego e con un servizio di " +
			"trasporto verso i campi, per togliere spazio agli intermediari irregolari.",
		Housing: "Durante la stagione agricola molti lavoratori dormono in case rurali senza servizi o in alloggi " +
			"sovraffollati. A Favara e a Licata ci sono immobili del centro storico recuperati che potrebbero ospitare " +
			"soluzioni temporanee, gestite con il terzo settore.",
		Threads: []thread{
			{Section: secHealth, Quote: "scheda sanitaria essenziale", By: "obs",
				Body:    "La Prefettura può aiutare a coinvolgere gli enti gestori: la scheda andrebbe compilata già nella struttura di prima accoglienza.",
				Replies: []para{{"health", "D'accordo, la porto alla prossima riunione con la direzione sanitaria."}}, Resolved: true},
			{Section: secWork, Quote: "sportello mobile del Centro per l'impiego", By: "co",
				Body:    "Abbiamo una stima di quante persone servirebbe raggiungere? Senza un numero è difficile chiedere le risorse.",
				Replies: []para{{"work", "Possiamo partire dai contratti stagionali registrati l'anno scorso: li recupero io."}}},
		},
		FixSection: secWork, Fix: [2]string{"tra agosto e novembre", "tra fine luglio e novembre"},
	},
	"CL": {
		Intro: "In provincia di Caltanissetta convivono realtà molto diverse: la piana di Gela e Niscemi, con l'agricoltura " +
			"in serra e l'area industriale, e i comuni dell'entroterra come Mussomeli e San Cataldo, dove lo spopolamento " +
			"rende preziosa ogni famiglia che arriva. Il gruppo ha voluto tenere insieme le due prospettive.",
		Health: "Molte delle persone accolte nel capoluogo portano con sé esperienze traumatiche del viaggio. Il gruppo " +
			"chiede un percorso condiviso con il dipartimento di salute mentale dell'ASP, con operatori formati " +
			"all'approccio transculturale e tempi di attesa compatibili con l'urgenza dei casi.",
		Education: "A Gela la sede del CPIA ha liste d'attesa per i corsi di italiano, mentre nei comuni più piccoli i corsi " +
			"non partono per mancanza di iscritti. Si propone di organizzare le classi su base sovracomunale, con un " +
			"calendario unico pubblicato dal gruppo.",
		Work: "Le serre della piana di Gela e i carciofeti di Niscemi impiegano molti lavoratori stranieri, spesso senza una " +
			"formazione sulla sicurezza. Il Centro per l'impiego può promuovere brevi corsi sull'uso dei prodotti " +
			"fitosanitari e sulla guida dei mezzi agricoli, che aumentano le possibilità di un contratto stabile.",
		Housing: "A Mussomeli e negli altri comuni dell'entroterra le case vuote non mancano, e alcune amministrazioni " +
			"guardano alle famiglie straniere come a una risorsa contro lo spopolamento. Servono però lavoro e trasporti: " +
			"la casa da sola non basta a far restare una famiglia.",
		Threads: []thread{
			{Section: secHealth, Quote: "approccio transculturale", By: "co",
				Body:    "Sappiamo se l'ASP ha già operatori con questa formazione? Potremmo partire da lì.",
				Replies: []para{{"health", "Due psicologi del dipartimento hanno seguito un corso lo scorso anno: chiedo la loro disponibilità."}}, Resolved: true},
			{Section: secHousing, Quote: "la casa da sola non basta", By: "obs",
				Body:    "Condivido. Citerei i collegamenti con il capoluogo: senza un autobus la sera, chi lavora a Caltanissetta non può vivere a Mussomeli.",
				Replies: []para{{"co", "Aggiungo un paragrafo sui trasporti nella prossima revisione."}}},
		},
		FixSection: secEducation, Fix: [2]string{"ha liste d'attesa", "ha lunghe liste d'attesa"},
	},
	"CT": {
		Intro: "L'area metropolitana di Catania concentra la maggior parte dei servizi e delle persone straniere della " +
			"provincia, ma la rete è frammentata: molte associazioni lavorano bene, e poco insieme. Acireale, Paternò, " +
			"Adrano, Misterbianco e Caltagirone hanno bisogni propri, che il gruppo vuole rendere visibili accanto a quelli " +
			"del capoluogo.",
		Health: "I pronto soccorso cittadini ricevono molte richieste che potrebbero essere seguite dal medico di base. Il " +
			"gruppo propone campagne informative multilingue sull'iscrizione al Servizio sanitario e sulla scelta del " +
			"medico, diffuse attraverso le comunità e i luoghi di culto.",
		Education: "Nei quartieri del centro storico una parte dei ragazzi stranieri lascia la scuola dopo la licenza media. " +
			"Le associazioni che gestiscono i doposcuola chiedono di essere collegate alle scuole e ai servizi sociali, per " +
			"intervenire alle prime assenze ripetute.",
		Work: "Tra Paternò e Adrano la raccolta degli agrumi occupa molti lavoratori stagionali; in città il lavoro domestico e " +
			"di cura impiega soprattutto donne, spesso senza contratto. Il Centro per l'impiego di Catania può diventare il " +
			"punto di riferimento per la regolarizzazione dei rapporti di lavoro domestico.",
		Housing: "Nel centro storico gli alloggi in affitto sono spesso sovraffollati e in cattive condizioni, e le " +
			"segnalazioni di rifiuti legati alla nazionalità sono frequenti. Il gruppo propone un registro di proprietari " +
			"disponibili, sostenuto dal Comune con incentivi fiscali.",
		Threads: []thread{
			{Section: secEducation, Quote: "alle prime assenze ripetute", By: "obs",
				Body:    "Serve un accordo sui dati: le scuole possono segnalare le assenze ai servizi sociali solo con una procedura definita.",
				Replies: []para{{"co", "Giusto, ne parlo con l'ufficio scolastico provinciale."}}},
			{Section: secHousing, Quote: "incentivi fiscali", By: "work",
				Body:    "Ci sono già esempi in altri comuni siciliani? Sarebbe utile citarli.",
				Replies: []para{{"co", "Raccolgo qualche esempio e lo inserisco come allegato."}}, Resolved: true},
		},
		FixSection: secHealth, Fix: [2]string{"i luoghi di culto", "i luoghi di culto e di aggregazione"},
	},
	"ME": {
		Intro: "La provincia di Messina si estende dallo Stretto ai Nebrodi e alle Eolie. Le persone straniere lavorano " +
			"soprattutto nei servizi alla persona in città, nel turismo a Taormina e nell'agricoltura della fascia " +
			"tirrenica, tra Milazzo, Barcellona Pozzo di Gotto e Patti.",
		Health: "Molte lavoratrici e molti lavoratori domestici vivono presso le famiglie in cui lavorano e non hanno mai " +
			"scelto un medico di base, per mancanza di tempo o perché non sanno come fare. Il gruppo propone aperture dello " +
			"sportello sanitario nel giorno libero più comune, la domenica pomeriggio, con l'aiuto delle comunità.",
		Education: "I corsi di italiano più frequentati sono quelli organizzati nei giorni di riposo, quando le persone " +
			"possono davvero partecipare. Il gruppo chiede anche un percorso per il riconoscimento dei titoli " +
			"infermieristici e sanitari, molto richiesti dalle strutture del territorio.",
		Work: "Il turismo di Taormina e delle Eolie offre lavoro per sei mesi l'anno, spesso con contratti più brevi delle ore " +
			"effettivamente lavorate. Il Centro per l'impiego e l'Ispettorato del lavoro possono concordare una campagna " +
			"informativa prima dell'inizio della stagione.",
		Housing: "A Taormina e nei comuni turistici gli affitti brevi hanno ridotto le case disponibili per chi lavora tutto " +
			"l'anno, e i lavoratori stagionali si spostano ogni giorno da lontano. In città alcuni quartieri in risanamento " +
			"possono offrire alloggi a canone concordato.",
		Threads: []thread{
			{Section: secHealth, Quote: "la domenica pomeriggio", By: "obs",
				Body:    "La domenica gli uffici dell'ASP sono chiusi: bisogna capire chi può garantire l'apertura.",
				Replies: []para{{"health", "Possiamo provare con i volontari delle associazioni e un operatore dell'ASP a rotazione."}}},
			{Section: secEducation, Quote: "titoli infermieristici e sanitari", By: "health",
				Body:    "Il riconoscimento passa dal Ministero della Salute, ma le persone hanno bisogno di aiuto per preparare la domanda: lo sportello può farlo.",
				Replies: []para{{"co", "Lo inseriamo tra le azioni, grazie."}}, Resolved: true},
		},
		FixSection: secWork, Fix: [2]string{"per sei mesi l'anno", "per circa sei mesi l'anno"},
	},
	"PA": {
		Intro: "A Palermo la rete per l'inclusione è ampia e ha esperienze consolidate, come il polo one stop shop di presa in " +
			"carico socio-sanitaria del progetto LgNet2 e il Safe Space del Centro Penc. Nel resto della provincia — Bagheria, " +
			"Carini, Partinico, Termini Imerese, Monreale — i servizi sono molto meno diffusi, e il gruppo vuole che le " +
			"buone pratiche del capoluogo li raggiungano.",
		Health: "L'esperienza del polo one stop shop, con il Centro Accura e il Centro Penc, ha mostrato che le fragilità " +
			"sanitarie dei migranti più vulnerabili si affrontano meglio insieme: medico, assistente sociale, mediatore e, " +
			"quando serve, supporto psicologico nello stesso luogo. Il gruppo propone di rendere stabile questo modello " +
			"oltre la durata del progetto.",
		Education: "Il Safe Space ha mostrato quanto contino gli spazi dedicati alle donne: laboratori di italiano, " +
			"informatica e sartoria in cui le mamme possono portare i bambini. Il gruppo propone di replicarli in altri " +
			"quartieri e nei comuni della provincia, con le scuole come luoghi d'incontro.",
		Work: "Molte persone straniere a Palermo hanno avviato piccole attività nel commercio, nella ristorazione e " +
			"nell'artigianato, ma l'accesso al credito resta difficile. Il gruppo propone di collegare gli sportelli per il " +
			"lavoro con i servizi di microcredito e con la camera di commercio.",
		Housing: "L'emergenza abitativa a Palermo riguarda italiani e stranieri, ma gli stranieri incontrano in più la " +
			"diffidenza dei proprietari. Il gruppo propone di valutare, con il Comune, l'uso di immobili pubblici e di beni " +
			"confiscati per alloggi di transizione, accompagnati da percorsi di autonomia.",
		Threads: []thread{
			{Section: secHealth, Quote: "oltre la durata del progetto", By: "region",
				Body:    "La Regione sta valutando come dare continuità ai servizi finanziati dal FAMI: questa proposta va riportata nel documento regionale.",
				Replies: []para{{"co", "Perfetto, la teniamo come priorità del gruppo."}}, Resolved: true},
			{Section: secHousing, Quote: "beni confiscati", By: "obs",
				Body:    "Sui beni confiscati va coinvolta l'Agenzia nazionale: la Prefettura può facilitare il contatto.",
				Replies: []para{{"co", "Grazie, ti scrivo per organizzare un incontro."}}},
			{Section: secEducation, Quote: "informatica e sartoria", By: "edu",
				Body:    "Al Penc funzionano bene anche i laboratori di cittadinanza attiva: li aggiungerei.",
				Replies: []para{{"co", "D'accordo, li aggiungo nella prossima revisione."}}},
		},
		FixSection: secEducation, Fix: [2]string{"informatica e sartoria", "informatica, sartoria e cittadinanza attiva"},
	},
	"RG": {
		Intro: "La provincia di Ragusa è segnata dalla fascia trasformata, le serre che da Vittoria a Comiso e Scicli " +
			"producono ortaggi tutto l'anno con molto lavoro straniero. Pozzallo è anche un porto di arrivo. Modica e Ragusa " +
			"hanno reti associative attive, che il gruppo vuole collegare ai servizi delle campagne.",
		Health: "Chi vive e lavora nelle serre è lontano dai servizi e spesso non ha mezzi propri. Il gruppo propone un " +
			"ambulatorio mobile dell'ASP che percorra le contrade a orari fissi, con attenzione alla salute delle donne, che " +
			"nelle campagne sono le più isolate.",
		Education: "I figli dei lavoratori delle serre frequentano le scuole di Vittoria e di Comiso, ma il trasporto dalle " +
			"contrade non è sempre garantito e le assenze aumentano nei mesi di raccolta. Si chiede ai comuni di estendere " +
			"il trasporto scolastico alle case sparse.",
		Work: "Il lavoro nelle serre è continuo ma spesso irregolare: giornate non dichiarate, paghe inferiori al contratto " +
			"provinciale, trasporti gestiti da intermediari. Il Centro per l'impiego di Ragusa e l'Ispettorato del lavoro " +
			"possono coordinarsi con le organizzazioni agricole per un elenco di aziende che assumono in regola.",
		Housing: "Molti lavoratori abitano in casolari dentro le aziende, senza contratto e con servizi igienici " +
			"insufficienti, e perdono la casa quando perdono il lavoro. Il gruppo propone di censire queste situazioni con i " +
			"servizi sociali e di offrire alternative nei centri abitati.",
		Threads: []thread{
			{Section: secHealth, Quote: "ambulatorio mobile dell'ASP", By: "obs",
				Body:    "Esiste già un camper sanitario usato per le campagne vaccinali: si potrebbe partire da quello.",
				Replies: []para{{"health", "Verifico la disponibilità con il distretto di Vittoria."}}, Resolved: true},
			{Section: secWork, Quote: "aziende che assumono in regola", By: "co",
				Body:    "Come evitiamo che l'elenco diventi un bollino dato senza controlli?",
				Replies: []para{{"work", "Proponiamo criteri verificabili: contratti registrati e nessuna sanzione negli ultimi anni."}}},
		},
		FixSection: secHousing, Fix: [2]string{"alternative nei centri abitati", "alternative dignitose nei centri abitati"},
	},
	"SR": {
		Intro: "A Siracusa il Polo Sociale Integrato, nel Comune dei Popoli, ha costruito una rete con il CPIA, Oxfam Italia " +
			"Intercultura, Arci Siracusa, AccoglieRete e la Fondazione Siamo Mediterraneo. Il gruppo di lavoro parte da " +
			"questa esperienza e guarda alla provincia: Augusta, Lentini, Avola, Noto e Pachino.",
		Health: "Nella provincia arrivano molti minori stranieri non accompagnati, che hanno bisogno di visite, vaccinazioni " +
			"e spesso di supporto psicologico in tempi brevi. Il gruppo propone un percorso dedicato con l'ASP di Siracusa, " +
			"con i tutori volontari coinvolti sin dalla prima visita.",
		Education: "Lo sportello Istruzione e formazione del polo, con il CPIA, orienta gli adulti ai corsi di italiano e al " +
			"completamento degli studi. I ragazzi che compiono diciotto anni in accoglienza rischiano però di interrompere il " +
			"percorso scolastico proprio quando cambiano struttura.",
		Work: "Lo sportello Lavoro del polo lavora con il Centro per l'impiego di Siracusa sull'incontro tra domanda e " +
			"offerta e sull'accesso al credito. Nelle campagne di Pachino e di Lentini il lavoro agricolo resta la prima " +
			"occupazione, con gli stessi rischi di sfruttamento segnalati in tutta l'isola.",
		Housing: "Lo sportello di orientamento ai servizi riceve ogni settimana richieste per l'emergenza abitativa, " +
			"soprattutto da neomaggiorenni usciti dall'accoglienza e da famiglie con un solo reddito. Il gruppo propone " +
			"appartamenti di semi-autonomia gestiti con le associazioni, per un periodo di transizione.",
		Threads: []thread{
			{Section: secEducation, Quote: "rischiano però di interrompere il percorso scolastico", By: "tutor",
				Body:    "I tutori volontari possono seguire il passaggio, ma la nuova scuola deve essere informata del trasferimento.",
				Replies: []para{{"edu", "Il CPIA può fare da ponte tra la vecchia e la nuova scuola."}}, Resolved: true},
			{Section: secHousing, Quote: "appartamenti di semi-autonomia", By: "obs",
				Body:    "Quanti posti servirebbero? Un numero aiuterebbe a cercare i fondi.",
				Replies: []para{{"co", "Chiedo allo sportello i dati delle richieste degli ultimi sei mesi."}}},
			{Section: secWork, Quote: "accesso al credito", By: "mediator",
				Body:    "Molte donne chiedono informazioni sul microcredito per attività di sartoria e cucina: aggiungiamole.",
				Replies: []para{{"work", "Sì, le inseriamo tra i casi da seguire con lo sportello."}}},
		},
		FixSection: secHealth, Fix: [2]string{"in tempi brevi", "in tempi brevi e certi"},
	},
	"TP": {
		Intro: "In provincia di Trapani la presenza straniera ha radici antiche: a Mazara del Vallo la comunità tunisina vive " +
			"e lavora da decenni, e molti ragazzi sono nati qui. Accanto a questa storia ci sono gli arrivi più recenti e il " +
			"lavoro stagionale nelle vigne di Marsala e negli oliveti attorno a Castelvetrano.",
		Health: "Per la comunità tunisina di Mazara l'accesso ai servizi è ormai consolidato, ma le donne arrivate da poco " +
			"per ricongiungimento familiare spesso non parlano italiano e non conoscono i consultori. Il gruppo propone " +
			"incontri informativi in arabo, con le mediatrici e le associazioni della comunità.",
		Education: "Nelle scuole di Mazara del Vallo molti alunni sono di seconda generazione e parlano due lingue. Il gruppo " +
			"propone di valorizzare il bilinguismo come una risorsa, con corsi di lingua araba aperti a tutti gli alunni e " +
			"progetti costruiti con le famiglie.",
		Work: "Nella stagione della raccolta delle olive attorno a Castelvetrano si formano ogni anno insediamenti informali " +
			"di lavoratori, senza acqua né servizi. Il Centro per l'impiego di Trapani propone di programmare per tempo " +
			"l'incontro tra domanda e offerta; la pesca di Mazara resta un settore da seguire per la sicurezza a bordo.",
		Housing: "Il centro storico di Mazara del Vallo, con la sua casbah, ha molte case da recuperare, in parte abitate da " +
			"famiglie straniere in condizioni precarie. Il gruppo propone di legare i fondi per il recupero edilizio a " +
			"progetti di inclusione abitativa, evitando che il recupero allontani chi ci vive.",
		Threads: []thread{
			{Section: secWork, Quote: "insediamenti informali", By: "obs",
				Body:    "La Prefettura coordina ogni anno un tavolo per la stagione delle olive: il gruppo dovrebbe parteciparvi.",
				Replies: []para{{"co", "Sì, chiediamo di essere invitati già da quest'anno."}}, Resolved: true},
			{Section: secEducation, Quote: "corsi di lingua araba aperti a tutti gli alunni", By: "health",
				Body:    "Ottima idea, anche per i bambini italiani. Serve però un accordo con l'ufficio scolastico.",
				Replies: []para{{"co", "Lo aggiungo alle azioni, con l'ufficio scolastico come interlocutore."}}},
		},
		FixSection: secHousing, Fix: [2]string{"allontani chi ci vive", "allontani le famiglie che ci vivono"},
	},
}

// ennaGuide is the richest guide: the demo's accounts are in Enna's
// working group (its coordinator, a member and an observer), and the Enna
// hub's tour of the municipalities is in the articles.
func ennaGuide(t territory) guide {
	const (
		co       = "coordinatore.enna@pia.demo"  // Giulia Ferrante, Comune di Enna
		mediator = "membro.enna@pia.demo"        // Karim Mansouri, Iblea
		observer = "osservatore.enna@pia.demo"   // Elena Russo, ANCI Sicilia
		asp      = "silvia.caruso@example.org"   // ASP di Enna
		cpi      = "rosa.amato@example.org"      // Centro per l'impiego
		coop     = "davide.morreale@example.org" // Global Service
		piazza   = "luca.distefano@example.org"  // Comune di Piazza Armerina
		pref     = "fabio.greco@example.org"     // Prefettura, observer
	)
	g := guide{Territory: t.Code, Cast: map[string]string{"co": co, "mediator": mediator, "obs": observer, "health": asp,
		"edu": mediator, "work": cpi, "house": coop, "piazza": piazza, "pref": pref}}
	g.Sections[secIntro] = []para{
		{"co", expand(introOpening, t)},
		{"co", "Il territorio di Enna è il cuore interno della Sicilia: comuni piccoli e distanti tra loro, collegamenti " +
			"difficili, una popolazione che invecchia. Il Polo Sociale Integrato di Enna, gestito da Iblea Servizi Territoriali " +
			"Onlus e Global Service scs, ha scelto di non aspettare le persone allo sportello ma di andarle a cercare, con un " +
			"tour nei comuni di Calascibetta, Centuripe, Piazza Armerina e Regalbuto."},
		{"mediator", "Negli incontri del tour abbiamo ascoltato amministratori, associazioni e cittadini stranieri. Le " +
			"richieste più frequenti riguardano i documenti, la lingua, il lavoro e la casa; molte famiglie arrivate " +
			"dall'Ucraina hanno chiesto supporto per la scuola dei figli e mediazione linguistica."},
	}
	g.Sections[secHealth] = []para{
		{"health", expand(themeOpenings[secHealth][1], t)},
		{"health", "Per chi vive a Centuripe, a Regalbuto o a Nicosia raggiungere gli ambulatori del capoluogo significa " +
			"spesso perdere una giornata di lavoro. Il gruppo propone che l'ASP di Enna porti una volta al mese uno sportello " +
			"informativo nei comuni del tour, insieme agli operatori del polo."},
		{"mediator", "La mediazione linguistica negli ambulatori oggi dipende dalla disponibilità dei singoli: quando il " +
			"mediatore non c'è, a tradurre sono i figli, anche minorenni. Questo va evitato, soprattutto nelle visite " +
			"ginecologiche e pediatriche."},
	}
	g.Sections[secEducation] = []para{
		{"mediator", expand(themeOpenings[secEducation][0], t)},
		{"co", "Il CPIA offre corsi di italiano nel capoluogo e in alcune sedi della provincia, ma molti adulti lavorano nei " +
			"campi o nell'assistenza agli anziani negli stessi orari. Chiediamo corsi serali e nel fine settimana, e la " +
			"possibilità di seguire una parte delle lezioni a distanza, con il supporto del polo per chi non ha un computer."},
		{"mediator", "I bambini arrivati dall'Ucraina sono stati inseriti nelle scuole con grande disponibilità degli " +
			"insegnanti, ma senza mediatori in classe. Per il prossimo anno proponiamo una rete di mediatori condivisa tra " +
			"gli istituti comprensivi della provincia."},
	}
	g.Sections[secWork] = []para{
		{"work", expand(themeOpenings[secWork][0], t)},
		{"work", "Nel territorio il lavoro per le persone straniere è soprattutto in agricoltura, nella zootecnia e " +
			"nell'assistenza familiare. Il Centro per l'impiego di Enna ha avviato colloqui con la mediazione del polo: le " +
			"persone che li hanno fatti si sono iscritte più spesso ai tirocini e ai corsi di formazione."},
		{"house", "Il rischio di sfruttamento è più alto dove il lavoro è isolato, nelle aziende lontane dai centri abitati. " +
			"Il polo distribuisce materiale multilingue sui diritti dei lavoratori; il gruppo propone di farlo anche nei " +
			"mercati settimanali e presso i patronati."},
	}
	g.Sections[secHousing] = []para{
		{"house", expand(themeOpenings[secHousing][2], t)},
		{"house", "Gli affitti nell'ennese sono tra i più bassi dell'isola, ma le case disponibili sono spesso vecchie, " +
			"umide e lontane dai servizi. Chi esce dall'accoglienza trova difficilmente un proprietario disposto ad " +
			"affittare senza garanzie, anche quando ha un lavoro."},
		{"co", "Il Comune di Enna e il Libero Consorzio Comunale possono censire gli alloggi pubblici non assegnati e quelli " +
			"privati sfitti nei centri storici, a partire da Piazza Armerina e Calascibetta, e proporre ai proprietari un " +
			"patto di affitto accompagnato dagli operatori del polo."},
	}
	g.Threads = []thread{
		{Section: secHealth, Quote: "a tradurre sono i figli, anche minorenni", By: "obs",
			Body: "Punto importante. Possiamo richiamare le indicazioni sulla mediazione in ambito sanitario? Darebbero più forza alla richiesta.",
			Replies: []para{
				{"health", "Le recupero io: ci sono linee di indirizzo regionali che possiamo citare."},
				{"mediator", "Aggiungo che al polo abbiamo mediatori per arabo, inglese, francese e ucraino."},
			}, Resolved: true},
		{Section: secEducation, Quote: "una parte delle lezioni a distanza", By: "piazza",
			Body:    "A Piazza Armerina la biblioteca comunale può ospitare le lezioni a distanza, con i computer della sala studio.",
			Replies: []para{{"co", "Ottimo, lo aggiungiamo tra le azioni proposte."}}},
		{Section: secHousing, Quote: "patto di affitto accompagnato", By: "pref",
			Body:    "Il patto dovrebbe prevedere anche un fondo per la morosità incolpevole, altrimenti i proprietari non si fidano.",
			Replies: []para{{"house", "D'accordo, ne ho parlato con il Consorzio: c'è interesse."}}},
		{Section: secWork, Quote: "nei mercati settimanali", By: "work",
			Body:    "Il Centro per l'impiego può essere presente al mercato di Enna il giovedì mattina.",
			Replies: []para{{"mediator", "Allora partiamo da lì, e poi proviamo a Leonforte e a Nicosia."}}},
	}
	g.Later = []later{
		{Section: secIntro, By: "co", New: introClosing},
		{Section: secEducation, By: "co", Old: "Chiediamo corsi serali", New: "Chiediamo al CPIA corsi serali"},
		{Section: secWork, By: "work", Old: "ai tirocini e ai corsi di formazione", New: "ai tirocini, ai corsi di formazione e ai servizi di orientamento"},
		{Section: secHealth, By: "health", New: themeActions[secHealth]},
		{Section: secEducation, By: "mediator", New: themeActions[secEducation] +
			"\n- Lezioni a distanza nella biblioteca comunale di Piazza Armerina, con i computer della sala studio."},
		{Section: secWork, By: "work", New: themeActions[secWork] +
			"\n- Il Centro per l'impiego al mercato settimanale di Enna, il giovedì mattina."},
		{Section: secHousing, By: "house", New: themeActions[secHousing] +
			"\n- Un patto di affitto accompagnato, con un fondo per la morosità incolpevole."},
		{Section: secHousing, By: "co", Old: "un patto di affitto accompagnato dagli operatori del polo",
			New: "un patto di affitto accompagnato dagli operatori del polo, con il sostegno della Prefettura"},
	}
	return g
}
