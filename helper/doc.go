// Package helper is docker-credential-ocicred: the Docker credential-helper
// protocol (get, list, store, erase) answered by asking the daemon over its
// socket, and, when the daemon cannot be reached, from the token cache's
// index of daemon-less answers while everything such an answer depended on
// still holds (index.go), else by running `ocicred get`, which works the
// answer out from the config.
// It links neither the daemon nor the AWS SDK: it runs on every pull.
// Read helper.go first.
package helper
