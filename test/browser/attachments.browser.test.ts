/**
 * Attachments in the browser (issue 17 item 3), on the shipped disclosure definition against the
 * real stack: the consent form marks the signed letter as required and is refused without it; a
 * file that is not a PDF or image is refused at the field (judged from its content); with the letter
 * attached the consent is recorded; the instance page lists the file, the timeline links it, and a
 * download is recorded in the audit chain. A user of another client sees neither.
 * Screenshot: the consent form with the letter attached.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QIAN, send, start, WANG } from './actors.ts';
import { shippedDefinitions, shot, startStack, textOf, type Stack } from './stack.ts';
import { pdfBytes } from '../support/attachments.ts';

const GINA = {
  id: 'gina',
  displayName: 'Gina',
  roles: ['quality_administrator'],
  clients: ['globex'],
} as const;

/** The consent event's title (the form's region and its button). */
const CONSENT_EVENT = "Record the client's written consent";

let stack: Stack;

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('disclosure', 'violation_case'),
    users: [QIAN, WANG, GINA],
  });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

describe('[4.2.3] attachments in the browser', () => {
  it('no consent without the signed letter; with it, listed, linked from the timeline, downloads audited; hidden from another client', async () => {
    const id = await start(stack, 'disclosure', QIAN, { client: 'acme' });
    await send(stack, id, QIAN, 'SUBMIT', {
      recipient: 'Accreditation body',
      recipient_kind: 'accreditation_body',
      scope: 'file review',
      items: ['report R-1'],
      basis: 'consent',
    });

    const page = await stack.open(WANG.id);
    await page.goto(`/instances/${id}`);
    const form = page.getByRole('region', { name: CONSENT_EVENT });
    await form.waitFor();
    await form.getByLabel('Written consent reference').fill('CONS-5');
    await form.getByLabel('Signed for the client by').fill('Li Wei');
    await form.getByLabel('Signed on').fill('2026-12-01');
    // The two `const: true` confirmations are fixed fields of the form (nothing to tick).
    const letterField = form.getByLabel(/The client's signed consent letter \(scan\)/);
    expect(await textOf(form.locator('.attachment-slot[data-kind="consent_letter"] label'))).toContain('*');

    // Without the letter: the engine's refusal, in the form.
    await form.getByRole('button', { name: CONSENT_EVENT }).click();
    await expect.poll(() => form.getByRole('alert').getAttribute('data-code')).toBe('ATTACHMENT_REQUIRED');

    // A text file named .pdf is refused at the field.
    await form.getByLabel('Other files (optional)').setInputFiles({
      name: 'letter.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('not a pdf at all'),
    });
    await expect
      .poll(() => form.locator('.attachment-slot[data-kind=""] [role=alert]').getAttribute('data-code'))
      .toBe('ATTACHMENT_TYPE_REFUSED');

    // The signed letter.
    await letterField.setInputFiles({
      name: 'consent-acme.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from(pdfBytes('Consent of acme')),
    });
    const chosen = form.locator('.attachment-slot[data-kind="consent_letter"] li');
    await expect.poll(() => textOf(chosen)).toContain('consent-acme.pdf');
    const sha256 = (await chosen.getAttribute('data-sha256')) ?? '';
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    await shot(page, 'attachment-form');
    await form.getByRole('button', { name: CONSENT_EVENT }).click();
    await expect
      .poll(() => textOf(page.getByRole('status').filter({ hasText: 'Done:' })))
      .toContain('Written consent on file');

    // Listed on the page and linked from the timeline row of RECORD_CONSENT.
    const panel = page.locator('.attachments-panel');
    await expect.poll(() => textOf(panel)).toContain('consent-acme.pdf');
    expect(await textOf(panel)).toContain(sha256);
    const row = page.locator('table.timeline tr', { hasText: 'RECORD_CONSENT' });
    await expect.poll(() => row.getByRole('link', { name: 'consent-acme.pdf' }).count()).toBe(1);

    // A download, recorded.
    const downloading = page.waitForEvent('download');
    await panel.getByRole('link', { name: 'consent-acme.pdf' }).click();
    const download = await downloading;
    expect(download.suggestedFilename()).toBe('consent-acme.pdf');
    await expect
      .poll(async () =>
        (await stack.store.audit({ kind: 'attachment', subject: id })).map(
          (e) => `${String(e.body.act)} ${e.actorId}`,
        ),
      )
      .toContain('download wang');

    // Another client's user: no instance, no file.
    const gina = await stack.open(GINA.id);
    const status = await gina.evaluate(
      async (url) => (await fetch(url, { credentials: 'same-origin' })).status,
      `/api/instances/${id}/attachments/${sha256}`,
    );
    expect(status).toBe(404);
  });
});
