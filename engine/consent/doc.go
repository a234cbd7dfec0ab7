// Package consent holds what Parley is given about contacts and their
// consent, and checks it before anything is stored: a contact as the REST
// API gives it (ContactInput: who, profile, an opt-in or its withdrawal,
// contacts.go), a CSV file of them (ParseImport, import.go), and the
// keywords a customer opts out or back in with (Keywords, keywords.go).
//
// It validates and reads; it stores nothing. The engine applies what it
// returns to a contact under the contact's lock (Engine.SaveContact,
// Engine.ImportContacts, a keyword in a turn), after checking it against
// what is stored (Conflict: an opt-in must not override the customer's
// own later opt-out). The consent events themselves, and a contact's
// effective consent, are the model's (model.ConsentEvent,
// Contact.ApplyConsent).
package consent
