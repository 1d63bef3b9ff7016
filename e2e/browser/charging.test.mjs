// A priced charging session, end to end in a real browser: an operator of their own makes a
// tariff, gives it to everyone at a simulated station, watches the live power while it
// charges, then finds the stopped session, checks its cost against the tariff, and downloads
// the sessions as CSV. Run by browser_test.go, like portal.test.mjs (same environment).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";

const base = process.env.CHARGEBOOK_URL;
const bin = process.env.CHARGEBOOK_BIN;
const artifacts = process.env.CHARGEBOOK_ARTIFACTS || "artifacts";
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";
assert.ok(base && bin, "CHARGEBOOK_URL and CHARGEBOOK_BIN must be set (run through browser_test.go)");
mkdirSync(artifacts, { recursive: true });

const STATION = "CHG-0001"; // its own prefix: portal.test.mjs's stations are SIM-…
const TAG = "CHARGE-TAG-1";

let context, page, profile;
const children = [];

before(async () => {
  profile = mkdtempSync(join(tmpdir(), "chargebook-chromium-"));
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
      "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    viewport: { width: 1280, height: 900 },
    locale: "en-GB",
    acceptDownloads: true,
  });
  page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15000);
  page.on("dialog", (d) => d.accept());
});

after(async () => {
  for (const c of children) if (c.exitCode === null) c.kill("SIGINT");
  await context?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const shot = (name) => page.screenshot({ path: join(artifacts, name + ".png"), fullPage: true });

function simulate(url, ...flags) {
  const sim = spawn(bin, ["simulate", "--url", url, "--stations", "1", "--prefix", "CHG-",
    "--id-tags", TAG, "--report", "0", ...flags], { stdio: ["ignore", "ignore", "inherit"] });
  children.push(sim);
  return sim;
}

// The payable amount in Rappen of a session of wh Wh under 0.40 CHF/kWh excl. VAT at 8.1 %,
// rounded to 0.05 (the tariff form's defaults), as package tariff computes it:
//   gross = 0.40 × kWh × 1.081 CHF = wh × 40 × 1.081 / 1000 Rappen = wh × 4324 / 100000 Rappen,
//   rounded half up to the Rappen, then half up to a multiple of 5 Rappen.
function payableRappen(wh) {
  const n = BigInt(wh) * 4324n;
  const cents = (2n * n + 100000n) / 200000n; // half up
  const q = cents / 5n, rem = cents % 5n;
  return Number((2n * rem >= 5n ? q + 1n : q) * 5n);
}

test("a priced session: tariff, conditions, live power, cost and CSV", async () => {
  // Sign up and read the station URL.
  await page.goto(base + "/signup");
  await page.getByLabel("E-mail").fill("charging@example.com");
  await page.getByLabel("New password").fill("a long password");
  await page.getByLabel("Repeat the password").fill("a long password");
  await page.getByRole("button", { name: "Create account" }).click();
  await page.waitForURL(base + "/ocpp");
  await page.getByRole("link", { name: "Connect" }).first().click();
  const url = await page.getByLabel("Station URL (OCPP 1.6J)").inputValue();
  assert.match(url, /^ws:\/\/127\.0\.0\.1:\d+\/api\/Ocpp16\/[a-z0-9]{24}\/$/);

  // The station connects once, briefly, so that its conditions page exists; with an hour
  // between sessions it does not start one in these seconds (a session started before the
  // price plan would have no price).
  const first = simulate(url, "--interval", "2s", "--session", "1m", "--idle", "1h", "--duration", "3s");

  // A tariff: 0.40 per kWh, nothing else; VAT and rounding as the form has them.
  await page.getByRole("link", { name: "Tariffs" }).first().click();
  assert.equal(await page.locator("#f-vat").inputValue(), "8.1");
  assert.ok(await page.locator('input[name="round"]').isChecked());
  await page.locator("#f-name").fill("Per kWh 0.40");
  await page.locator("#f-energy").fill("0.40");
  await page.getByRole("button", { name: "Create tariff" }).click();
  await page.getByRole("heading", { name: "Per kWh 0.40" }).waitFor();

  await page.getByRole("link", { name: "Stations" }).first().click();
  for (let i = 0; i < 30 && !(await page.getByRole("link", { name: STATION }).count()); i++) {
    await page.waitForTimeout(300);
    await page.reload();
  }
  await page.getByRole("link", { name: STATION }).click();
  await page.getByRole("heading", { name: STATION }).waitFor();
  await new Promise((r) => (first.exitCode !== null ? r() : first.on("exit", r)));

  // Conditions: everyone, every day 00:00–24:00 (00:00 as the end is midnight), and the tariff
  // for everyone at this station.
  await page.getByRole("link", { name: "Conditions of use" }).click();
  await page.getByRole("heading", { name: "Conditions of use" }).waitFor();
  await page.locator('input[name="mode"][value="public"]').check();
  for (let d = 0; d < 7; d++) {
    await page.locator(`input[name="s-${d}-0-from"]`).fill("00:00");
    await page.locator(`input[name="s-${d}-0-to"]`).fill("00:00");
  }
  await page.getByRole("button", { name: "Save access" }).click();
  await page.waitForLoadState();
  assert.equal(await page.locator('#access [role="alert"]').count(), 0, "saving access failed");
  assert.equal(await page.locator('input[name="s-6-0-from"]').inputValue(), "00:00");
  await page.locator("#f-planTariff").selectOption({ label: "Per kWh 0.40" });
  await page.locator("#f-planAudience").selectOption("public");
  await page.locator("#f-planScope").selectOption("station");
  await page.getByRole("button", { name: "Add price" }).click();
  const plan = page.locator("#prices tbody tr").filter({ hasText: "Per kWh 0.40" });
  await plan.getByText("Everyone").waitFor();
  await plan.getByText("This station").waitFor();
  await shot("charging-conditions");
  await page.getByRole("link", { name: "Tariffs" }).first().click();
  await page.locator("table").getByRole("link", { name: "Per kWh 0.40" }).first().waitFor();
  await shot("charging-tariffs");

  // Now a session: starts within 3 s, charges ~20 s at 100 kW with values every 2 s.
  simulate(url, "--interval", "2s", "--session", "20s", "--idle", "3s", "--power", "100000", "--duration", "60s");

  // While it charges, the station page's live power is above zero.
  await page.goto(base + "/stations/" + STATION);
  await page.waitForFunction(() => {
    const m = /([\d.]+) kW/.exec(document.getElementById("power-now")?.textContent || "");
    return m && parseFloat(m[1]) > 0;
  }, null, { timeout: 20000 });
  const kw = parseFloat(await page.locator("#power-now").textContent());
  assert.ok(kw > 0, `live power ${kw}`);

  // After it stopped: the sessions page lists it with a cost.
  await page.goto(base + "/sessions?station=" + STATION);
  let row;
  for (let i = 0; i < 80; i++) {
    row = page.locator("table.sessions tbody tr").filter({ hasText: TAG }).filter({ hasNot: page.locator(".s-Charging") }).first();
    if (await row.count() && /CHF/.test(await row.locator("td").nth(6).textContent())) break;
    await page.waitForTimeout(500);
    await page.reload();
  }
  const listedCost = (await row.locator("td").nth(6).textContent()).trim();
  assert.match(listedCost, /^CHF \d+\.\d\d$/);
  await shot("charging-sessions");
  const id = (await row.locator("td").first().textContent()).trim();

  // The CSV export: a header and this session's row, with its energy to the Wh.
  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.getByRole("link", { name: "Download CSV" }).click(),
  ]);
  const csv = readFileSync(await download.path(), "utf8").trim().split(/\r?\n/).map((l) => l.split(","));
  assert.deepEqual(csv[0].slice(0, 3), ["transaction_id", "station", "connector"]);
  const col = (name) => csv[0].indexOf(name);
  const line = csv.find((l) => l[0] === id);
  assert.ok(line, `session ${id} in the CSV:\n${csv.join("\n")}`);
  assert.equal(line[col("station")], STATION);
  const kwh = line[col("energy_kwh")];
  assert.match(kwh, /^\d+\.\d{3}$/);
  const wh = Math.round(parseFloat(kwh) * 1000);
  assert.ok(wh > 0, "energy charged");
  assert.equal(line[col("currency")], "CHF");

  // Its page: the energy (two decimals) is the CSV's, and the total is what the tariff makes
  // of it (payableRappen above).
  await row.getByRole("link", { name: id, exact: true }).click();
  await page.getByRole("heading", { name: new RegExp(id) }).waitFor();
  const energy = (await page.locator("dl.facts dt", { hasText: /^Energy$/ }).locator("xpath=following-sibling::dd[1]").textContent()).trim();
  assert.equal(energy, (wh / 1000).toFixed(2) + " kWh");
  const total = (await page.locator("table.cost tfoot tr").first().locator("strong").textContent()).trim();
  const expected = payableRappen(wh);
  assert.equal(total, `CHF ${Math.floor(expected / 100)}.${String(expected % 100).padStart(2, "0")}`,
    `${wh} Wh at 0.40/kWh + 8.1 % VAT, rounded to 0.05`);
  assert.equal(total, listedCost);
  assert.equal(line[col("cost")], total.replace("CHF ", ""));
  await page.locator("table.cost").getByText("0.40/kWh").waitFor();
  await shot("charging-session");

  await page.getByRole("link", { name: "Energy" }).first().click();
  await page.getByRole("heading", { name: "Energy", exact: true }).waitFor();
  await page.locator("table tbody").getByRole("rowheader", { name: STATION }).waitFor();
  await shot("charging-energy");
});
