// Package cachedir is ocicred's private cache folder: where it is (Dir),
// who may have written what is in it (the folder must be a real folder of
// this user closed to others, each file a regular file of this user closed
// to others; anything else is an *UnsafeError), the token file format
// (ReadToken, WriteToken), and the index of daemon-less answers that lets
// the credential helper answer from a cached token without running
// `ocicred get` (Record, Lookup).
//
// It links neither the config parser nor any cloud SDK, so that the
// helper, which runs on every pull, may link it; the writer and the reader
// of each format sit side by side here so that they cannot drift apart.
// Read folder.go first, then token.go and index.go.
package cachedir
