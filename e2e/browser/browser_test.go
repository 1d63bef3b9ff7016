// Package browser runs the portal's browser tests: it builds chargebook, serves it on a free
// loopback port with a data directory of its own, and runs portal.test.mjs and charging.test.mjs (node:test with
// playwright-core driving Debian's chromium) against it.
//
// Without node, chromium or node_modules (npm ci here) the test is skipped, with the reason;
// with CI=true it fails instead.
package browser

import (
	"bufio"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestPortalInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test: not with -short")
	}
	missing := func(what string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("browser test: %s (CI must run it; .ci/run installs it)", what)
		}
		t.Skipf("browser test skipped: %s", what)
	}
	chromium := os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing("node is not installed")
	}
	if _, err := os.Stat(chromium); err != nil {
		missing(chromium + " is missing (apt-get install chromium)")
	}
	if _, err := os.Stat("node_modules/playwright-core"); err != nil {
		missing("node_modules is missing (run npm ci in e2e/browser)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()

	dir := t.TempDir()
	bin := filepath.Join(dir, "chargebook")
	build := exec.CommandContext(ctx, "go", "build", "-o", bin, "../../cmd/chargebook")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	serve := exec.CommandContext(ctx, bin, "serve", "--data", filepath.Join(dir, "data"), "--listen", addr, "--log-level", "warn")
	serve.Stdout = os.Stderr
	serve.Stderr = os.Stderr
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		serve.Process.Signal(os.Interrupt)
		serve.Wait()
	})
	base := "http://" + addr
	for i := 0; ; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			break
		}
		if i > 100 {
			t.Fatal("chargebook serve did not listen")
		}
		time.Sleep(100 * time.Millisecond)
	}

	artifacts := os.Getenv("CHARGEBOOK_ARTIFACTS")
	if artifacts == "" {
		artifacts, _ = filepath.Abs("artifacts")
	}
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "portal.test.mjs", "charging.test.mjs")
	cmd.Env = append(os.Environ(), "CHARGEBOOK_URL="+base, "CHARGEBOOK_BIN="+bin, "CHARGEBOOK_ARTIFACTS="+artifacts, "CHROMIUM="+chromium)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		// node's summary lines ("ℹ pass 3") are prefixed so that they are not mistaken
		// for the Go test's own.
		t.Log(strings.TrimRight(sc.Text(), " "))
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("browser tests failed: %v (screenshots in %s)", err, artifacts)
	}
	t.Logf("screenshots in %s", artifacts)
}
