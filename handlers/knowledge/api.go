package knowledge

// AddRequest is the body of POST /api/admin/kb/add.
type AddRequest struct {
	Name  string `json:"name"`
	Title string `json:"title,omitempty"`
	URL   string `json:"url,omitempty"`
	Text  string `json:"text"`
}
