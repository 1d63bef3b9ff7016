// Package e2e holds chargebook's end-to-end tests: the OCA compliance test cases of OCPP 1.6
// for a central system (TC_001 ... TC_088), each played by a scripted charge point over a
// real websocket against a server wired as cmd/chargebook/serve.go wires it, and driven,
// where the central system acts, through the REST API with an API token.
//
// It has no code of its own: everything is in the _test.go files, the helpers in
// helpers_test.go. It is not the place for unit tests of one package; those live next to
// their code.
package e2e
