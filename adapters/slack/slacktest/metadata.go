package slacktest

import "encoding/json"

// Message metadata (chat.postMessage metadata): an app attaches an
// event_type and a free-form event_payload object to a message it posts.
// conversations.history and conversations.replies return it only when asked
// with include_all_metadata=true, as on Slack; chat.postMessage echoes it.

// Metadata is the metadata a message was posted with.
type Metadata struct {
	EventType    string         `json:"event_type"`
	EventPayload map[string]any `json:"event_payload"`
}

// parseMetadata reads chat.postMessage's metadata argument; the error is
// Slack's code for a malformed one.
func parseMetadata(raw string) (*Metadata, string) {
	if raw == "" {
		return nil, ""
	}
	var md Metadata
	if err := json.Unmarshal([]byte(raw), &md); err != nil || md.EventType == "" || md.EventPayload == nil {
		return nil, "invalid_metadata_format"
	}
	return &md, ""
}

// withMetadata adds m's metadata to its JSON when the call asked for it.
func withMetadata(o obj, m *Message, p map[string]string) obj {
	if m.Metadata != nil && (p["include_all_metadata"] == "1" || p["include_all_metadata"] == "true") {
		o["metadata"] = m.Metadata
	}
	return o
}
