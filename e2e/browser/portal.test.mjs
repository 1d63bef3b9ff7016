// The portal in a real browser: Debian's chromium driven by playwright-core. browser_test.go
// starts `chargebook serve` and runs this with CHARGEBOOK_URL (the server), CHARGEBOOK_BIN
// (the binary, for `chargebook simulate`) and CHARGEBOOK_ARTIFACTS (where screenshots go).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.CHARGEBOOK_URL;
const bin = process.env.CHARGEBOOK_BIN;
const artifacts = process.env.CHARGEBOOK_ARTIFACTS || "artifacts";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
assert.ok(base && bin, "CHARGEBOOK_URL and CHARGEBOOK_BIN must be set (run through browser_test.go)");
mkdirSync(artifacts, { recursive: true });

let context, page, profile;
const children = [];

before(async () => {
  profile = mkdtempSync(join(tmpdir(), "chargebook-chromium-"));
  // A fresh profile each run, and nothing that reaches outside this machine.
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  page.on("dialog", (d) => d.accept());
});

after(async () => {
  for (const c of children) c.kill("SIGINT");
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const shot = (name) => page.screenshot({ path: join(artifacts, name + ".png"), fullPage: true });

async function signUp(email) {
  await page.goto(base + "/");
  await page.getByRole("link", { name: "Create an account" }).click();
  await page.getByLabel("E-mail").fill(email);
  await page.getByLabel("New password").fill("a long password");
  await page.getByLabel("Repeat the password").fill("a long password");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(base + "/ocpp");
}

test("an operator signs up, connects a station with the copied URL and sees it", async () => {
  await page.goto(base + "/");
  await shot("login");

  // A mistake is shown next to its field, and what was typed stays.
  await page.goto(base + "/signup");
  await page.getByLabel("E-mail").fill("not an address");
  await page.getByLabel("New password").fill("short");
  await page.getByRole("button", { name: "Create account" }).click();
  await assert.doesNotReject(page.getByText("This is not an e-mail address.").waitFor());
  assert.equal(await page.getByLabel("E-mail").inputValue(), "not an address");
  await shot("signup-errors");

  await signUp("first@example.com");
  await shot("ocpp");
  await page.getByRole("button", { name: "Copy" }).click();
  let url = await page.evaluate(() => navigator.clipboard.readText()).catch(() => "");
  const field = await page.getByLabel("Station URL (OCPP 1.6J)").inputValue();
  if (!url) url = field; // a clipboard the headless browser does not give back
  assert.equal(url, field);
  assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/api\/Ocpp16\/[a-z0-9]{24}\/$/);

  const sim = spawn(bin, ["simulate", "--url", url, "--stations", "1", "--connectors", "2",
    "--interval", "2s", "--session", "30s", "--idle", "2s", "--duration", "90s", "--report", "0"],
    { stdio: ["ignore", "ignore", "inherit"] });
  children.push(sim);

  // The station appears in the list, live.
  await page.getByRole("link", { name: "Stations" }).first().click();
  for (let i = 0; i < 30; i++) {
    if (await page.getByRole("link", { name: "SIM-0001" }).count()) break;
    await page.waitForTimeout(500);
    await page.reload();
  }
  await page.getByRole("link", { name: "SIM-0001" }).waitFor();
  await page.getByText("Connector 2").first().waitFor();
  await shot("stations");

  await page.getByRole("link", { name: "SIM-0001" }).click();
  await page.getByRole("heading", { name: "SIM-0001" }).waitFor();
  const connectors = page.locator('[data-sse-swap="connectors"]');
  await connectors.getByText("Connector 1").waitFor();
  await connectors.getByText("Connector 2").waitFor();
  // The configuration is read from the station with one click.
  await page.getByRole("button", { name: "Read from the station" }).click();
  await page.locator("#configuration").getByText("MeterValueSampleInterval").waitFor();
  await page.locator("#operations").getByRole("cell", { name: "GetConfiguration", exact: true }).waitFor();
  await page.locator("#power-now").getByText(/kW/).waitFor(); // live values reach the chart
  await page.waitForTimeout(2500); // a few of them
  await shot("station");

  await page.getByRole("link", { name: "API tokens" }).click();
  await page.getByLabel("Name").fill("export");
  await page.getByRole("button", { name: "Create token" }).click();
  await page.getByText("shown only now").waitFor();
  await shot("tokens");
  await page.getByRole("link", { name: "Users" }).click();
  await shot("users");

  await page.setViewportSize({ width: 390, height: 844 });
  await page.goto(base + "/stations");
  await shot("stations-phone");
  await page.setViewportSize({ width: 1280, height: 900 });
  await page.getByRole("button", { name: "Log out" }).click();
  await page.waitForURL(base + "/");
});

test("a second operator account does not see the first one's stations", async () => {
  await context.clearCookies();
  await signUp("second@example.com");
  await page.goto(base + "/stations");
  await page.getByText("No station has connected yet.").waitFor();
  assert.equal(await page.getByRole("link", { name: "SIM-0001" }).count(), 0);
  const resp = await page.goto(base + "/stations/SIM-0001");
  assert.equal(resp.status(), 404);
  await page.getByText("This page does not exist.").waitFor();
});

test("German texts from the switch", async () => {
  await page.goto(base + "/stations");
  await page.getByRole("link", { name: "Deutsch" }).click();
  await page.getByRole("heading", { name: "Stationen" }).waitFor();
  await shot("stations-de");
});
