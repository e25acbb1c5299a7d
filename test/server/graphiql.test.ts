// GraphiQL in a real browser with the network closed: the page, its scripts, styles and
// workers come from the server alone, a newcomer's first run — the key in the Headers
// tab, the default query — shows the demo's data, and the explorer lists the schema's fields. Needs Debian's Chromium (.ci/run installs it).
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startServerProcess, type ServerProcess } from "../helpers/process.ts";

const CHROMIUM = "/usr/bin/chromium";
const KEY = "ent_graphiql-browser-test-0123456789";

const dataDir = mkdtempSync(join(tmpdir(), "entitlements-graphiql-"));
let server: ServerProcess | undefined;
let browser: Browser | undefined;

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: this test drives Debian's Chromium; install it with \`apt-get install -y chromium\``);
  }
  [server, browser] = await Promise.all([
    startServerProcess({ DATA_DIR: dataDir, BOOTSTRAP_API_KEY: KEY }),
    chromium.launch({
      executablePath: CHROMIUM,
      args: [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    }),
  ]);
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("GraphiQL", () => {
  it("loads from the server alone and runs its default query with the key set in the Headers tab", { timeout: 120_000 }, async () => {
    const origin = server!.url;
    const context = await browser!.newContext({ viewport: { width: 1400, height: 900 } });
    try {
      const requested: string[] = [];
      const refused: string[] = [];
      context.on("request", (request) => requested.push(request.url()));
      // Anything bound elsewhere fails as it would offline, instead of quietly succeeding here.
      await context.route("**/*", (route) => {
        const url = route.request().url();
        if (new URL(url).origin === origin) return route.continue();
        refused.push(url);
        return route.abort("internetdisconnected");
      });
      const page = await context.newPage();
      page.setDefaultTimeout(30_000);
      await page.goto(`${origin}/graphql`);
      expect(refused).toEqual([]);
      expect(await page.title()).toBe("Entitlements API");

      await page.getByRole("button", { name: "Headers", exact: true }).click();
      const headersEditor = page.locator(".graphiql-editor-tool .graphiql-editor").filter({ hasText: "Authorization" });
      await headersEditor.click();
      await page.keyboard.press("ControlOrMeta+A");
      await page.keyboard.insertText(JSON.stringify({ Authorization: `Bearer ${KEY}` }));
      // The editor closes brackets and quotes as they are typed: drop what it added after the text.
      await page.keyboard.press("Shift+ControlOrMeta+End");
      await page.keyboard.press("Delete");
      expect(normalized(await headersEditor.textContent())).toContain(`{"Authorization":"Bearer ${KEY}"}`);

      await page.getByRole("button", { name: /^Execute query/ }).click();
      // The result pane draws only the lines in view: the first customer's first entitlement.
      const response = page.locator(".graphiql-response");
      await response.filter({ hasText: /"sources"/ }).waitFor();
      const shown = normalized(await response.textContent());
      expect(shown).not.toContain('"errors"');
      expect(shown).toMatch(
        /"externalId": "acme", "name": "Acme Corp", "entitlements": \[ \{ "featureKey": "api-calls", "hasAccess": true,/,
      );
      const used = Number(/"used": (\d+)/.exec(shown)?.[1]);
      expect(used).toBeGreaterThan(0);

      // The explorer plugin, served with GraphiQL: the dashboard user builds a query by ticking fields.
      await page.getByRole("button", { name: "Show GraphiQL Explorer" }).click();
      const explorer = page.locator(".graphiql-explorer-root");
      await explorer.getByText("previewPlanEntitlementRemoval", { exact: true }).waitFor();
      expect(normalized(await explorer.textContent())).toContain("auditLog");

      expect(requested).toContainEqual(`${origin}/graphql`);
      expect(refused).toEqual([]);
      expect(requested.filter((url) => new URL(url).origin !== origin)).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

/** An editor's text as one line: its spaces are often non-breaking, its lines separate elements. */
const normalized = (text: string | null) => (text ?? "").replace(/\s+/g, " ");
