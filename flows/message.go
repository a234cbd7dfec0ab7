package flows

// Message types a flow can send.
const (
	MsgText     = "text"
	MsgImage    = "image"
	MsgVideo    = "video"
	MsgAudio    = "audio"
	MsgDocument = "document"
	MsgSticker  = "sticker"
	MsgLocation = "location"
	MsgContacts = "contacts"
	MsgButtons  = "buttons"
	MsgList     = "list"
	MsgCTAURL   = "cta_url"
)

// WhatsApp's limits on interactive messages (docs/whatsapp.md §2.3); the
// schema enforces them too, these name them for code.
const (
	MaxTextLen        = 4096
	MaxButtons        = 3
	MaxButtonTitleLen = 20
	MaxListRows       = 10
	MaxRowTitleLen    = 24
	MaxRowDescLen     = 72
)

// Message is a free-form message: in a flow (where every string may hold
// {{ }} interpolations) and, once interpolated, on its way to a customer.
type Message struct {
	Type string `json:"type"`

	Text       string `json:"text,omitempty"`
	PreviewURL bool   `json:"preview_url,omitempty"`

	// image, video, audio, document, sticker
	Media    *Media `json:"media,omitempty"`
	Caption  string `json:"caption,omitempty"`
	Filename string `json:"filename,omitempty"`

	// location
	Latitude  *float64 `json:"latitude,omitempty"`
	Longitude *float64 `json:"longitude,omitempty"`
	Name      string   `json:"name,omitempty"`
	Address   string   `json:"address,omitempty"`

	// contacts: Cloud API contact objects, passed through.
	Contacts []map[string]any `json:"contacts,omitempty"`

	// buttons, list, cta_url
	Header   string    `json:"header,omitempty"`
	Footer   string    `json:"footer,omitempty"`
	Buttons  []Button  `json:"buttons,omitempty"`
	Button   string    `json:"button,omitempty"`
	Sections []Section `json:"sections,omitempty"`

	DisplayText string `json:"display_text,omitempty"`
	URL         string `json:"url,omitempty"`
}

// Media points at a media object by link or by uploaded id.
type Media struct {
	Link string `json:"link,omitempty"`
	ID   string `json:"id,omitempty"`
}

// Button is one reply button. Next, on a wait_reply's prompt, is the
// node a reply selecting this button leads to, instead of the node's next
// (docs/flow-format.md, "Per-choice exits"); it is never sent to WhatsApp.
type Button struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Next  string `json:"next,omitempty"`
}

// Section groups list rows.
type Section struct {
	Title string `json:"title,omitempty"`
	Rows  []Row  `json:"rows"`
}

// Row is one choice of a list message; Next is its own exit, as for a
// Button.
type Row struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	Next        string `json:"next,omitempty"`
}

// IsMedia reports whether t is a media message type.
func IsMedia(t string) bool {
	switch t {
	case MsgImage, MsgVideo, MsgAudio, MsgDocument, MsgSticker:
		return true
	}
	return false
}
