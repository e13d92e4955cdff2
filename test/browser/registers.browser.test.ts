/**
 * Registers in the browser (issue #18). Disclosures run on the real engine: two legally required
 * disclosures about acme (approved by the Quality Manager and the General Manager, the client
 * notified, released) and one consented disclosure about globex. The Quality Manager opens the
 * disclosure log from the navigation, filters it to acme and this month, sees the two rows (and
 * their client notices in the disclosure notice log), exports CSV and XLSX (read back: the
 * declared headers; each export an audit record) and opens an instance from a row. Staff of
 * globex see none of acme's rows.
 */
import { readFileSync } from 'node:fs';
import ExcelJS from 'exceljs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { send, start } from './actors.ts';
import { withAttachment } from '../support/attachments.ts';
import { setLang, shippedDefinitions, shot, startStack, textOf, type Stack } from './stack.ts';

const QUINN = { id: 'quinn', displayName: 'Quinn QM', roles: ['quality_manager'], clients: [] } as const;
const GUS = { id: 'gus', displayName: 'Gus GM', roles: ['general_manager'], clients: [] } as const;
const RITA = {
  id: 'rita',
  displayName: 'Rita',
  roles: ['application_reviewer'],
  clients: ['acme', 'globex'],
} as const;
const ADA = {
  id: 'ada',
  displayName: 'Ada',
  roles: ['quality_administrator'],
  clients: ['acme', 'globex'],
} as const;
/** Staff of another client. */
const GINA = { id: 'gina', displayName: 'Gina', roles: ['project_staff'], clients: ['globex'] } as const;

const request = {
  request_ref: 'REQ-88',
  recipient: 'Provincial Market Regulation Bureau',
  recipient_kind: 'regulator',
  scope: 'product safety investigation',
  items: ['test report TR-1', 'factory inspection report FI-3'],
};
const legal = {
  ...request,
  basis: 'legal',
  authority: 'Provincial Market Regulation Bureau',
  legal_instrument: 'Product Quality Law art. 18',
};

let stack: Stack;
const acme: string[] = [];
let globex = '';

beforeAll(async () => {
  stack = await startStack({
    definitions: shippedDefinitions('disclosure', 'violation_case'),
    users: [QUINN, GUS, RITA, ADA, GINA],
  });
  for (const ref of ['N-1', 'N-2']) {
    const id = await start(stack, 'disclosure', RITA, { client: 'acme' });
    await send(stack, id, RITA, 'SUBMIT', legal);
    await send(stack, id, QUINN, 'APPROVE');
    await send(stack, id, GUS, 'GM_APPROVE');
    await send(stack, id, ADA, 'NOTIFY_CLIENT', {
      notice_ref: ref,
      method: 'registered_mail',
      sent_on: '2026-12-01',
    });
    await send(stack, id, ADA, 'RELEASE', {
      items_released: ['test report TR-1'],
      released_on: '2026-12-02',
      method: 'paper_copy',
    });
    acme.push(id);
  }
  globex = await start(stack, 'disclosure', RITA, { client: 'globex' });
  await send(stack, globex, RITA, 'SUBMIT', { ...request, basis: 'consent', recipient: 'Globex auditor' });
  await send(
    stack,
    globex,
    ADA,
    'RECORD_CONSENT',
    await withAttachment(
      stack.store,
      globex,
      'consent_letter',
      {
        consent_ref: 'CONS-9',
        signed_by: 'G. Boss',
        signed_on: '2026-12-01',
        covers_recipient: true,
        covers_scope: true,
      },
      { client: 'globex' },
    ),
  );
  await send(stack, globex, QUINN, 'APPROVE');
  await send(stack, globex, ADA, 'RELEASE', {
    items_released: ['test report TR-1'],
    released_on: '2026-12-02',
    method: 'paper_copy',
  });
});

afterAll(async () => {
  await stack?.close();
  expect(stack?.serverErrors ?? []).toEqual([]);
});

/** The workflow ids of the rows the register page shows now. */
async function shownInstances(page: Page): Promise<string[]> {
  return (
    await page
      .locator('tbody.register-row')
      .evaluateAll((rows) => rows.map((r) => r.getAttribute('data-row') ?? ''))
  ).map((k) => k.slice(0, k.indexOf('#')));
}

async function filterToAcmeThisMonth(page: Page): Promise<void> {
  await page.locator('form.filters input[name="client"]').fill('acme');
  await page.locator('form.filters input[name="month"]').fill(new Date().toISOString().slice(0, 7));
  await page.getByRole('button', { name: 'Apply filters' }).click();
  await page.waitForURL(/client=acme/);
}

describe('registers in the browser', () => {
  it('[4.2.3][4.2.4] the quality manager filters the disclosure log to a client and a month, exports CSV and XLSX, and opens an instance', async () => {
    const qm = await stack.open(QUINN.id);
    await qm.getByRole('link', { name: 'Registers', exact: true }).click();
    await qm.getByRole('heading', { name: 'Registers', exact: true }).waitFor();
    await expect.poll(() => textOf(qm.locator('[data-register-count="disclosure_log"]'))).toBe('3');
    await qm.getByRole('link', { name: 'Disclosure log', exact: true }).click();
    await qm.getByRole('heading', { name: 'Disclosure log', exact: true }).waitFor();
    await expect.poll(() => shownInstances(qm)).toHaveLength(3);

    await filterToAcmeThisMonth(qm);
    await expect.poll(() => shownInstances(qm)).toEqual([...acme].reverse());
    await expect.poll(() => textOf(qm.locator('.register-totals'))).toContain('2 rows; showing 2');
    const header = await textOf(qm.locator('table.register-table thead'));
    for (const column of [
      'Recipient',
      'Basis',
      'Basis reference',
      'Client notified',
      'General Manager approver',
    ])
      expect(header).toContain(column);
    expect(await textOf(qm.locator('table.register-table tbody'))).toContain(
      'Provincial Market Regulation Bureau: Product Quality Law art. 18',
    );
    await shot(qm, 'registers-disclosure-log');

    // Exports of the selection: CSV and XLSX, each with the declared headers, each an audit record.
    const exportsBefore = (await stack.store.audit({ kind: 'export' })).length;
    const [csvDownload] = await Promise.all([
      qm.waitForEvent('download'),
      qm.locator('a[data-export="csv"]').click(),
    ]);
    const csv = readFileSync((await csvDownload.path())!, 'utf8').replace(/^\ufeff/, '');
    const [csvHeader, ...csvLines] = csv.trimEnd().split('\r\n');
    expect(csvHeader).toContain('At,Client,Procedure,Instance,Transition,By,Client,Recipient,Basis');
    expect(csvLines).toHaveLength(2);
    expect(csvLines.every((l) => l.includes(',acme,'))).toBe(true);
    const [xlsxDownload] = await Promise.all([
      qm.waitForEvent('download'),
      qm.locator('a[data-export="xlsx"]').click(),
    ]);
    const wb = new ExcelJS.Workbook();
    await wb.xlsx.readFile((await xlsxDownload.path())!);
    const sheet = wb.worksheets[0]!;
    const xlsxHeader = (sheet.getRow(1).values as unknown[]).slice(1);
    expect(xlsxHeader).toEqual(
      expect.arrayContaining(['Recipient', 'Basis reference', 'Client notified', 'Items']),
    );
    expect(sheet.rowCount).toBe(3);
    const exports = (await stack.store.audit({ kind: 'export' })).slice(exportsBefore);
    expect(
      exports.map((e) => [
        e.actorId,
        e.subject,
        e.body.format,
        e.body.count,
        (e.body.query as Record<string, string>).client,
      ]),
    ).toEqual([
      ['quinn', 'records:disclosure_log', 'csv', 2, 'acme'],
      ['quinn', 'records:disclosure_log', 'xlsx', 2, 'acme'],
    ]);

    // The client notices of those disclosures, in their own register, under the same filter.
    await qm.getByRole('link', { name: /All registers/ }).click();
    await qm.getByRole('link', { name: 'Disclosure notice log', exact: true }).click();
    await qm.getByRole('heading', { name: 'Disclosure notice log', exact: true }).waitFor();
    await filterToAcmeThisMonth(qm);
    await expect.poll(() => shownInstances(qm)).toEqual([...acme].reverse());
    const notices = await textOf(qm.locator('table.register-table tbody'));
    expect(notices).toContain('N-1');
    expect(notices).toContain('N-2');

    // A correction: a new row under the one it corrects, with the reason and who; audited.
    const first = qm.locator('tbody.register-row').first();
    await first.getByRole('button', { name: 'Correct' }).click();
    const form = qm.getByRole('form', { name: 'Correct the row' });
    await form.getByLabel('Field').selectOption('recipient');
    await form.getByLabel('Corrected value').fill('Provincial Market Regulation Bureau (Jiangsu)');
    await form.getByLabel('Reason').fill('province omitted on the request');
    await form.getByRole('button', { name: 'Add correction' }).click();
    await expect
      .poll(() => textOf(qm.locator('tbody.register-row').first().locator('.correction-row')))
      .toContain('province omitted on the request');
    expect(await textOf(qm.locator('tbody.register-row').first())).toContain(
      'Provincial Market Regulation Bureau (Jiangsu)',
    );
    const [correction] = (await stack.store.audit({ kind: 'admin' })).filter(
      (e) => e.body.act === 'record.correct',
    );
    expect(correction).toMatchObject({
      actorId: 'quinn',
      client: 'acme',
      body: { workflowId: acme[1], reason: 'province omitted on the request' },
    });

    // Printed for a binder: the chrome and the filters go, the title, the filter and the table stay.
    await qm.emulateMedia({ media: 'print' });
    expect(await qm.locator('form.filters').isVisible()).toBe(false);
    expect(await qm.locator('header.topbar').isVisible()).toBe(false);
    expect(await textOf(qm.locator('.print-meta'))).toContain('Client: acme');
    await shot(qm, 'registers-disclosure-log-print');
    await qm.emulateMedia({ media: 'screen' });

    // A row opens its instance.
    await qm.locator('tbody.register-row').first().getByRole('link', { name: acme[1]! }).click();
    await qm.waitForURL(new RegExp(`/instances/${acme[1]}$`));
    await qm.getByText('Timeline').first().waitFor();
    // … and its transition: the row of the timeline that wrote it, marked.
    await qm.goBack();
    await qm
      .locator('tbody.register-row')
      .first()
      .getByRole('link', { name: /#4 NOTIFY_CLIENT/ })
      .click();
    await qm.waitForURL(new RegExp(`/instances/${acme[1]}#transition-4$`));
    await qm.locator('tr#transition-4.targeted').waitFor();
  });

  it('[4.4.2] staff of another client see none of those rows', async () => {
    const gina = await stack.open(GINA.id);
    await setLang(gina, 'zh');
    await gina.getByRole('link', { name: '登记册', exact: true }).click();
    await expect.poll(() => textOf(gina.locator('[data-register-count="disclosure_log"]'))).toBe('1');
    await gina.getByRole('link', { name: '信息透露登记', exact: true }).click();
    await gina.getByRole('heading', { name: '信息透露登记', exact: true }).waitFor();
    await expect.poll(() => shownInstances(gina)).toEqual([globex]);
    const header = await textOf(gina.locator('table.register-table thead'));
    for (const column of ['接收方', '依据', '已通知客户']) expect(header).toContain(column);
    await shot(gina, 'registers-disclosure-log-staff.zh');
    await gina.goto(`/registers/disclosure_notice_log?workflowId=${acme[0]}`);
    await gina.getByText('没有符合条件的记录。').waitFor();
    await gina.goto('/registers/disclosure_log?client=acme');
    await expect.poll(() => textOf(gina.locator('[role="alert"], .error'))).toContain('no client "acme"');
    expect(await shownInstances(gina)).toEqual([]);
  });
});
