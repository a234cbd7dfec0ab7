package flows

// The parts of a customer's message beyond its text, option, location and
// media (Reply): contact cards, a cart, a reaction, what the message
// answers or came from, and a WhatsApp Flows form's answers. Expressions
// see them as reply.contacts, reply.order, reply.reaction, reply.context,
// reply.referral and reply.flow_response (docs/flow-format.md).

// ContactCard is one contact card the customer shared.
type ContactCard struct {
	Name       string        `expr:"name" json:"name,omitempty"` // formatted_name
	FirstName  string        `expr:"first_name" json:"first_name,omitempty"`
	LastName   string        `expr:"last_name" json:"last_name,omitempty"`
	Phones     []CardPhone   `expr:"phones" json:"phones,omitempty"`
	Emails     []string      `expr:"emails" json:"emails,omitempty"`
	URLs       []string      `expr:"urls" json:"urls,omitempty"`
	Company    string        `expr:"company" json:"company,omitempty"`
	Department string        `expr:"department" json:"department,omitempty"`
	JobTitle   string        `expr:"job_title" json:"job_title,omitempty"`
	Birthday   string        `expr:"birthday" json:"birthday,omitempty"`
	Addresses  []CardAddress `expr:"addresses" json:"addresses,omitempty"`
}

// CardPhone is a phone number on a contact card; WaID is set when the
// number is on WhatsApp.
type CardPhone struct {
	Phone string `expr:"phone" json:"phone,omitempty"`
	WaID  string `expr:"wa_id" json:"wa_id,omitempty"`
	Type  string `expr:"type" json:"type,omitempty"`
}

// CardAddress is a postal address on a contact card.
type CardAddress struct {
	Street      string `expr:"street" json:"street,omitempty"`
	City        string `expr:"city" json:"city,omitempty"`
	State       string `expr:"state" json:"state,omitempty"`
	Zip         string `expr:"zip" json:"zip,omitempty"`
	Country     string `expr:"country" json:"country,omitempty"`
	CountryCode string `expr:"country_code" json:"country_code,omitempty"`
	Type        string `expr:"type" json:"type,omitempty"`
}

// Order is a cart the customer sent from the business's catalogue.
type Order struct {
	CatalogID string      `expr:"catalog_id" json:"catalog_id,omitempty"`
	Text      string      `expr:"text" json:"text,omitempty"`
	Items     []OrderItem `expr:"items" json:"items,omitempty"`
	// Total is the sum of quantity × price over the items, in Currency
	// when every item has the same one (else Currency is empty).
	Total    float64 `expr:"total" json:"total,omitempty"`
	Currency string  `expr:"currency" json:"currency,omitempty"`
}

// OrderItem is one line of an Order.
type OrderItem struct {
	ProductID string  `expr:"product_id" json:"product_id"` // product_retailer_id
	Quantity  int     `expr:"quantity" json:"quantity"`
	Price     float64 `expr:"price" json:"price"`
	Currency  string  `expr:"currency" json:"currency,omitempty"`
}

// Reaction is an emoji the customer put on a message (MessageID, the
// business's wamid); an empty Emoji is a reaction taken back.
type Reaction struct {
	Emoji     string `expr:"emoji" json:"emoji,omitempty"`
	MessageID string `expr:"message_id" json:"message_id,omitempty"`
}

// ReplyContext is what a message refers to: the message it answers (a
// swipe-reply or a tap, MessageID), a forward, or a product the customer
// asked about from the catalogue.
type ReplyContext struct {
	MessageID           string `expr:"message_id" json:"message_id,omitempty"`
	From                string `expr:"from" json:"from,omitempty"`
	Forwarded           bool   `expr:"forwarded" json:"forwarded,omitempty"`
	FrequentlyForwarded bool   `expr:"frequently_forwarded" json:"frequently_forwarded,omitempty"`
	CatalogID           string `expr:"catalog_id" json:"catalog_id,omitempty"`
	ProductID           string `expr:"product_id" json:"product_id,omitempty"` // product_retailer_id
}

// Referral is the click-to-WhatsApp ad or post the customer came from;
// WhatsApp sends it with the first message after the click only.
type Referral struct {
	AdID         string `expr:"ad_id" json:"ad_id,omitempty"` // source_id
	SourceType   string `expr:"source_type" json:"source_type,omitempty"`
	SourceURL    string `expr:"source_url" json:"source_url,omitempty"`
	Headline     string `expr:"headline" json:"headline,omitempty"`
	Body         string `expr:"body" json:"body,omitempty"`
	MediaType    string `expr:"media_type" json:"media_type,omitempty"`
	MediaURL     string `expr:"media_url" json:"media_url,omitempty"` // image or video
	ThumbnailURL string `expr:"thumbnail_url" json:"thumbnail_url,omitempty"`
	CTWAClickID  string `expr:"ctwa_clid" json:"ctwa_clid,omitempty"`
}

// Carries reports whether an "other" reply holds an answer a flow can use
// — contact cards, a cart, a WhatsApp Flows form's answers — unlike a
// message Parley cannot read (a poll, an unsupported type).
func (r *Reply) Carries() bool {
	return len(r.Contacts) > 0 || len(r.Order.Items) > 0 || r.Order.CatalogID != "" || r.FlowResponse != nil
}
