package api

import (
	_ "embed"
	"net/http"
)

// openAPI is the API's description, kept true by TestOpenAPI.
//
//go:embed openapi.json
var openAPI []byte

func serveOpenAPI(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(openAPI)
	return nil
}
