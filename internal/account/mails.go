package account

import (
	"fmt"
	"time"

	pmail "github.com/pia-sicilia/pia/internal/mail"
)

// The mails an account sends, in Italian or English. Links carry their token
// after '#', so that it never reaches a server log or a Referer header.

var rome = mustLoadRome()

func mustLoadRome() *time.Location {
	loc, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.FixedZone("CET", 3600)
	}
	return loc
}

func when(t time.Time, lang string) string {
	if lang == "en" {
		return t.In(rome).Format("2 January 2006, 15:04")
	}
	return t.In(rome).Format("02/01/2006 alle 15:04")
}

func invitationMail(lang, to, base, token string, expires time.Time) pmail.Message {
	link := base + "/invitation#" + token
	if lang == "en" {
		return pmail.Message{To: to, Subject: "Invitation to PIA, the co-design of the Piani di Inclusione Accogliente",
			Body: fmt.Sprintf("Hello,\n\nyou are invited to take part in PIA, where the Sicilian territories co-design their inclusion guidelines.\n\nTo accept, open this link and choose your name and password:\n\n%s\n\nInvitation code: %s\n\nThe invitation can be used once and expires on %s (Rome time).\nIf you did not expect it, ignore this message.\n", link, token, when(expires, lang))}
	}
	return pmail.Message{To: to, Subject: "Invito a PIA, la co-progettazione dei Piani di Inclusione Accogliente",
		Body: fmt.Sprintf("Buongiorno,\n\nè invitata/o a partecipare a PIA, dove i territori siciliani co-progettano le linee guida per l'inclusione.\n\nPer accettare apra questo collegamento e scelga nome e password:\n\n%s\n\nCodice d'invito: %s\n\nL'invito vale una sola volta e scade il %s (ora di Roma).\nSe non lo aspettava, ignori questo messaggio.\n", link, token, when(expires, lang))}
}

func alreadyMemberMail(lang, to, base string) pmail.Message {
	if lang == "en" {
		return pmail.Message{To: to, Subject: "Invitation to PIA: you already have an account",
			Body: fmt.Sprintf("Hello,\n\nsomeone invited you to PIA, and this address already has an account.\nSign in at %s, or ask for a new password there if you forgot it.\n", base)}
	}
	return pmail.Message{To: to, Subject: "Invito a PIA: ha già un account",
		Body: fmt.Sprintf("Buongiorno,\n\nè stata/o invitata/o a PIA, e questo indirizzo ha già un account.\nAcceda da %s, o chieda lì una nuova password se l'ha dimenticata.\n", base)}
}

func resetMail(lang, to, base, token string, expires time.Time) pmail.Message {
	link := base + "/password-reset#" + token
	if lang == "en" {
		return pmail.Message{To: to, Subject: "PIA: choose a new password",
			Body: fmt.Sprintf("Hello,\n\nsomeone asked to reset the password of your PIA account. To choose a new one, open:\n\n%s\n\nReset code: %s\n\nThe link can be used once and expires on %s (Rome time). Using it signs you out everywhere.\nIf you did not ask for it, ignore this message: your password stays as it is.\n", link, token, when(expires, lang))}
	}
	return pmail.Message{To: to, Subject: "PIA: scelga una nuova password",
		Body: fmt.Sprintf("Buongiorno,\n\nè stato chiesto di reimpostare la password del suo account PIA. Per sceglierne una nuova apra:\n\n%s\n\nCodice: %s\n\nIl collegamento vale una sola volta e scade il %s (ora di Roma). Usarlo chiude tutte le sessioni aperte.\nSe non l'ha chiesto, ignori questo messaggio: la password resta quella di prima.\n", link, token, when(expires, lang))}
}
