package awsfake

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// protocol is the wire protocol of a request and of its answer.
type protocol int

const (
	protoJSON  protocol = iota // awsJson1_1: ECR and ECR Public
	protoQuery                 // awsQuery: STS
)

// Wire constants of the three services.
const (
	ecrTargetPrefix       = "AmazonEC2ContainerRegistry_V20150921"
	ecrPublicTargetPrefix = "SpencerFrontendService"
	stsVersion            = "2011-06-15"
	stsNamespace          = "https://sts.amazonaws.com/doc/2011-06-15/"
	jsonContentType       = "application/x-amz-json-1.1"
)

// apiError is an AWS error answer; the protocol decides its encoding.
type apiError struct {
	status  int
	code    string
	message string
}

// parseJSON reads an awsJson1_1 call: its target and its registryIds.
func parseJSON(req *request, target string, body []byte) *apiError {
	prefix, action, _ := strings.Cut(target, ".")
	switch prefix {
	case ecrTargetPrefix:
		req.call.Service = "ecr"
	case ecrPublicTargetPrefix:
		req.call.Service = "ecr-public"
	}
	req.call.Action = action
	if actions[qualify(req.call.Service, action)] == nil {
		return &apiError{http.StatusBadRequest, "UnknownOperationException", ""}
	}
	var in struct {
		RegistryIDs []string `json:"registryIds"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := json.Unmarshal(body, &in); err != nil {
			return serialization(protoJSON, "Start of structure or map found where not expected.")
		}
	}
	req.call.RegistryIDs = in.RegistryIDs
	return nil
}

// parseQuery reads an STS query-protocol call from its form body.
func parseQuery(req *request, body []byte) *apiError {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return serialization(protoQuery, "The request body is not a valid form.")
	}
	req.form = form
	req.call.Service = "sts"
	req.call.Action = form.Get("Action")
	if actions[qualify("sts", req.call.Action)] == nil || form.Get("Version") != stsVersion {
		return &apiError{http.StatusBadRequest, "InvalidAction", fmt.Sprintf(
			"Could not find operation %s for version %s", req.call.Action, form.Get("Version"))}
	}
	req.call.RoleArn = form.Get("RoleArn")
	req.call.ExternalID = form.Get("ExternalId")
	req.call.RoleSessionName = form.Get("RoleSessionName")
	if d := form.Get("DurationSeconds"); d != "" {
		n, err := strconv.Atoi(d)
		if err != nil {
			return validation("Value '" + d + "' at 'durationSeconds' failed to satisfy constraint: Member must be a number")
		}
		req.call.DurationSeconds = n
	}
	return nil
}

// serialization is the answer to a body that cannot be decoded.
func serialization(p protocol, msg string) *apiError {
	if p == protoJSON {
		return &apiError{http.StatusBadRequest, "SerializationException", msg}
	}
	return &apiError{http.StatusBadRequest, "MalformedInput", msg}
}

// validation is STS's answer to a bad parameter.
func validation(msg string) *apiError {
	return &apiError{http.StatusBadRequest, "ValidationError", msg}
}

// writeError sends e in the encoding of protocol p.
func writeError(w http.ResponseWriter, p protocol, e *apiError) {
	id := requestID()
	w.Header().Set("X-Amzn-RequestId", id)
	if p == protoJSON {
		w.Header().Set("Content-Type", jsonContentType)
		w.Header().Set("X-Amzn-ErrorType", e.code)
		w.WriteHeader(e.status)
		_ = json.NewEncoder(w).Encode(jsonError{Type: e.code, Message: e.message})
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(e.status)
	body := xmlErrorResponse{NS: stsNamespace, RequestID: id}
	body.Error.Type, body.Error.Code, body.Error.Message = faultSide(e.status), e.code, e.message
	_ = xml.NewEncoder(w).Encode(body)
}

// faultSide is the query protocol's <Type>: whose fault the error is.
func faultSide(status int) string {
	if status >= 500 {
		return "Receiver"
	}
	return "Sender"
}

type jsonError struct {
	Type    string `json:"__type"`
	Message string `json:"message,omitempty"`
}

type xmlErrorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	NS      string   `xml:"xmlns,attr"`
	Error   struct {
		Type    string
		Code    string
		Message string `xml:",omitempty"`
	}
	RequestID string `xml:"RequestId"`
}

// writeResult sends a successful answer to action in protocol p.
func writeResult(w http.ResponseWriter, p protocol, action string, result any) {
	id := requestID()
	w.Header().Set("X-Amzn-RequestId", id)
	if p == protoJSON {
		w.Header().Set("Content-Type", jsonContentType)
		_ = json.NewEncoder(w).Encode(result)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	_ = xml.NewEncoder(w).Encode(queryResponse{
		XMLName:  xml.Name{Local: action + "Response"},
		NS:       stsNamespace,
		Result:   result,
		Metadata: responseMetadata{RequestID: id},
	})
}

// queryResponse is <ActionResponse><ActionResult>…<ResponseMetadata>; the
// result's own XMLName names its element.
type queryResponse struct {
	XMLName  xml.Name
	NS       string `xml:"xmlns,attr"`
	Result   any
	Metadata responseMetadata `xml:"ResponseMetadata"`
}

type responseMetadata struct {
	RequestID string `xml:"RequestId"`
}

// requestID returns a random UUID-shaped request id.
func requestID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
