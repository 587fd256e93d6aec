// Package packaging holds what the .deb and .rpm install besides the
// programs: the default config file (config.yaml) and, with nfpm, the
// package definition. It has no Go code; config_test.go holds that the
// shipped config is valid.
package packaging
