// Package awsfake is a stand-in for the AWS services ocicred talks to: ECR,
// ECR Public and STS. It is an httptest server that speaks their real wire
// protocols, so the real AWS SDK v2 clients talk to it unchanged through
// AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_ECR_PUBLIC, AWS_ENDPOINT_URL_STS or a
// client's BaseEndpoint. One URL serves all three services: a request with an
// X-Amz-Target header is awsJson1_1 (ECR, ECR Public), any other is the STS
// query protocol (form body with Action=…).
//
// Read server.go first (New, Start, Env), then handler.go (the request
// pipeline: parse, identify, fault, authenticate, answer, record), ecr.go and
// sts.go for the answers, faults.go for the fault switches, calls.go for the
// call records, tokens.go for the registry tokens and registry.go for the
// registry front.
//
// Supported actions:
//
//	ecr:GetAuthorizationToken         JSON, one token per registry id
//	ecr-public:GetAuthorizationToken  JSON
//	sts:AssumeRole                    query/XML, temporary ASIA… keys
//	sts:AssumeRoleWithWebIdentity     query/XML, unsigned, token must look like a JWT
//	sts:GetCallerIdentity             query/XML
//
// Signatures are parsed, not verified: any access key is accepted, and the
// credential scope gives the call's access key id and region. Keys issued by
// AssumeRole are remembered, so later calls signed with them are attributed
// to the role (Call.RoleArn) and must carry the matching session token.
//
// Faults (Server.Inject) and the wire answers they produce:
//
//	fault               ECR / ECR Public (JSON)            STS (XML)
//	ServerError         500 ServerException                500 InternalFailure
//	ServiceUnavailable  503 ServiceUnavailable             503 ServiceUnavailable
//	Throttling          400 ThrottlingException            400 Throttling
//	ThrottleException   400 ThrottleException              400 ThrottleException
//	AccessDenied        400 AccessDeniedException          403 AccessDenied
//	ExpiredCredentials  400 ExpiredTokenException          400 ExpiredTokenException
//	Hang                no answer until the client gives up or the server closes
//
// The SDK retries the 5xx answers and Throttling/ThrottlingException, but not
// ThrottleException. DenyRole and DenyAccessKey refuse one principal with
// AccessDenied without touching the others.
//
// NewRegistryFront puts an ECR-like Basic-auth gate in front of a real
// registry: it lets through only tokens this server issued and that have not
// expired by the server's clock (WithNow).
//
// Secrets (secret keys, session tokens, registry passwords, web identity
// tokens) are never logged nor recorded in Call.
package awsfake
