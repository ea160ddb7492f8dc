// Accessibility and screenshots for the browser journeys: every page they show on our own origins is
// checked by axe-core at desktop width and at 390 px (0 violations), and a test can tell which pages
// were shown but never checked, so a journey that grows a page cannot skip it.
import { join } from 'node:path';
import { expect } from 'chai';
import type { Page } from 'playwright-core';
import { axeViolations } from './axe.js';

export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 390, height: 844 };

export class PageAudit {
  readonly #origins: ReadonlyMap<string, string>;
  readonly #screenshots: string;
  /** Route -> the last URL it was shown at. */
  readonly #shown = new Map<string, string>();
  readonly #checked = new Set<string>();

  /** `origins`: name -> origin (`portal` -> `http://127.0.0.1:1234`); `screenshots`: their folder. */
  constructor(origins: Record<string, string>, screenshots: string) {
    this.#origins = new Map(Object.entries(origins).map(([name, origin]) => [new URL(origin).origin, name]));
    this.#screenshots = screenshots;
  }

  /** Notes every document the page shows on one of the origins. */
  watch(page: Page): void {
    page.on('framenavigated', (frame) => {
      if (frame !== page.mainFrame()) return;
      const route = this.#route(frame.url());
      if (route) this.#shown.set(route, frame.url());
    });
  }

  /**
   * axe on the page as it is, at both widths; with `screenshot`, `<name>.png` and `<name>-narrow.png`
   * too. The viewport is put back afterwards.
   */
  async check(page: Page, screenshot?: string): Promise<void> {
    const before = page.viewportSize() ?? DESKTOP;
    try {
      for (const viewport of [DESKTOP, PHONE]) {
        await page.setViewportSize(viewport);
        const violations = await axeViolations(page);
        expect(violations, `axe on ${page.url()} at ${viewport.width} px`).to.deep.equal([]);
        if (screenshot) {
          const name = viewport === PHONE ? `${screenshot}-narrow` : screenshot;
          await page.screenshot({ path: join(this.#screenshots, `${name}.png`), fullPage: true });
        }
      }
    } finally {
      await page.setViewportSize(before);
    }
    const route = this.#route(page.url());
    if (route) this.#checked.add(route);
  }

  /** Routes shown but never checked (besides `transient` ones, which move on by themselves). */
  unchecked(transient: readonly string[] = []): string[] {
    return [...this.#shown]
      .filter(([route]) => !this.#checked.has(route) && !transient.includes(route))
      .map(([route, url]) => `${route} (${url})`);
  }

  /** `portal /requests/{id}`: the origin's name and the path, ids (segments with a digit) folded. */
  #route(url: string): string | undefined {
    const parsed = new URL(url);
    const name = this.#origins.get(parsed.origin);
    if (!name) return undefined;
    const path = parsed.pathname
      .split('/')
      .map((segment) => (/\d/.test(segment) ? '{id}' : segment))
      .join('/');
    return `${name} ${path}`;
  }
}
