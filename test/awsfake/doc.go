// Package awsfake is a stand-in for the AWS services ocicred talks to: ECR,
// ECR Public and STS. It is an httptest server that speaks their real wire
// protocols, so the real AWS SDK v2 clients talk to it unchanged through
// AWS_ENDPOINT_URL_ECR, AWS_ENDPOINT_URL_ECR_PUBLIC, AWS_ENDPOINT_URL_STS or a
// client's BaseEndpoint. One URL serves all three services: a request with an
// X-Amz-Target header is awsJson1_1 (ECR, ECR Public), any other is the STS
// query protocol (form body with Action=…).
//
// Read server.go first (New, Start, Env), then handler.go (the request
// pipeline: parse, identify, fault, authenticate, answer, record),
// identity.go and sigv4.go for who signed a call and whether the signature
// holds, keys.go for the keys it knows the secret of, ecr.go and sts.go for
// the answers, faults.go for the fault switches, calls.go for the call
// records, tokens.go for the registry tokens and registry.go for the
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
// Signatures are verified, as AWS verifies them: the server recomputes the
// SigV4 signature of every signed call with the SDK's own signer, from the
// Authorization header's credential scope and signed headers and from
// X-Amz-Date, and with the secret of its access key: a long-term key that a
// test registered (WithKey, AddKey) or a temporary key that AssumeRole*
// issued (which must also carry its session token). The scope must name the
// service called and a valid region; the region it names is the call's
// region. Refusals, in each protocol's own words:
//
//	refusal                     ECR / ECR Public (JSON)                  STS (XML)
//	unsigned                    400 MissingAuthenticationTokenException  403 MissingAuthenticationToken
//	header lacks a part         400 IncompleteSignatureException         400 IncompleteSignature
//	unknown key, wrong session  400 UnrecognizedClientException          403 InvalidClientTokenId
//	wrong secret, bad scope     400 InvalidSignatureException            403 SignatureDoesNotMatch
//
// An unknown access key id is refused rather than let through unverified,
// so that a test which forgets to register the key it configures fails
// instead of silently proving nothing about the secret. The signing time
// is not compared with the server's clock (tests move that clock).
// AssumeRoleWithWebIdentity is unsigned, as on AWS. Calls signed with an
// issued key are attributed to the role (Call.RoleArn).
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
// registry. The front stands for one registry (Registry: an account and a
// region, or ECR Public) and lets through only tokens this server issued
// for it, to a principal of its account in its region, and that have not
// expired by the server's clock (WithNow).
//
// Secrets (secret keys, session tokens, registry passwords, web identity
// tokens) are never logged nor recorded in Call.
package awsfake
