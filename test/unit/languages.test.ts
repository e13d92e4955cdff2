/**
 * `languages:` (default `[zh, en]`): every text has exactly the declared languages, positioned
 * diagnostics otherwise; an English-only (or Chinese-only) definition loads, compiles and runs;
 * texts fall back to the definition's language; the engine's refusals come in zh and en.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileProcedure } from '../../workflows/core/compile.ts';
import { textIn } from '../../workflows/core/languages.ts';
import { rejectionMessage } from '../../workflows/core/rejections.ts';
import { applyEvent, explainRejection, startInstance } from '../../workflows/core/runtime.ts';
import { validateProcedureText } from '../../workflows/core/validate.ts';

const ENGLISH = readFileSync('test/fixtures/english/leave_request.yaml', 'utf8');

const draft = (languages: string, title: string, extra = '') => `
id: t
version: 1.0.0
${languages}
title: ${title}
description: ${title}
roles: { staff: ${title} }
events: { GO: { title: ${title} } }
initial: a
states:
  a: { title: ${title}, on: { GO: { target: b, roles: staff } } }
  b: { title: ${title}, type: final }
${extra}`;

const found = (text: string) =>
  validateProcedureText(text, 't.yaml').diagnostics.map(
    (d) => `${d.code} ${d.line}:${d.column} ${d.pointer}`,
  );

describe('languages', () => {
  it('an English-only and a Chinese-only definition validate; the default is zh and en', () => {
    expect(found(draft('languages: [en]', '{ en: Go }'))).toEqual([]);
    expect(found(draft('languages: [zh]', '{ zh: 走 }'))).toEqual([]);
    expect(found(draft('', '{ zh: 走, en: Go }'))).toEqual([]);
    const ir = validateProcedureText(draft('languages: [en]', '{ en: Go }'), 't.yaml').ir;
    expect(ir?.languages).toEqual(['en']);
    expect('languages' in (validateProcedureText(draft('', '{ zh: 走, en: Go }'), 't.yaml').ir ?? {})).toBe(
      false,
    );
  });

  it('a text missing a declared language, or with one not declared, is refused where it is', () => {
    expect(
      found(
        draft('', '{ en: Go }').replace(
          'roles: { staff: { en: Go } }',
          'roles: { staff: { zh: 员, en: S } }',
        ),
      ),
    ).toEqual([
      'PROC_MISSING_TRANSLATION 5:8 /title',
      'PROC_MISSING_TRANSLATION 6:14 /description',
      'PROC_MISSING_TRANSLATION 8:24 /events/GO/title',
      'PROC_MISSING_TRANSLATION 11:15 /states/a/title',
      'PROC_MISSING_TRANSLATION 12:15 /states/b/title',
    ]);
    expect(
      found(
        draft(
          'languages: [en]',
          '{ en: Go }',
          'duties: [{ event: GO, distinct_from: [GO], message: { en: No, zh: 不 } }]',
        ),
      ),
    ).toEqual(['PROC_UNDECLARED_LANGUAGE 13:63 /duties/0/message/zh']);
    // Data is not text: a JSON Schema title that looks like one is left alone.
    expect(
      found(
        draft('languages: [en]', '{ en: Go }').replace(
          'GO: { title: { en: Go } }',
          'GO: { title: { en: Go }, data: { type: object, examples: [{ zh: 走 }] } }',
        ),
      ),
    ).toEqual([]);
    expect(found(draft('languages: [fr]', '{ en: Go }'))[0]).toMatch(/^PROC_SCHEMA 4:/);
    // Nor are expressions by field name (a context field may be called "en").
    const assigns = draft('languages: [zh]', '{ zh: 走 }')
      .replace('initial: a', 'context: { en: { type: string } }\ninitial: a')
      .replace(
        '{ target: b, roles: staff }',
        '{ target: b, roles: staff, actions: [{ assign: { en: "\'x\'" } }] }',
      );
    expect(found(assigns)).toEqual([]);
  });

  it('the English-only fixture compiles and runs; its refusals come in both languages', () => {
    const ir = validateProcedureText(ENGLISH, 'leave.yaml').ir!;
    const proc = compileProcedure(ir);
    const erin = { id: 'erin', roles: ['employee'] };
    let s = startInstance(proc, { client: 'acme' }, erin, 0).state;
    s = applyEvent(proc, s, { type: 'REQUEST', actor: erin, data: { days: 25 } }, 1).state;
    const refusal = explainRejection(
      proc,
      s,
      { type: 'APPROVE', actor: { id: 'wang', roles: ['manager'] } },
      2,
    );
    expect(refusal).toEqual({
      code: 'GUARD_FALSE',
      message: 'APPROVE refused: condition not met: ctx.days <= 20',
      zh: 'APPROVE 被拒绝：条件不满足：ctx.days <= 20',
    });
    expect(rejectionMessage(refusal!, 'zh')).toBe('APPROVE 被拒绝：条件不满足：ctx.days <= 20');
    const own = explainRejection(proc, s, { type: 'APPROVE', actor: { id: 'erin', roles: ['manager'] } }, 2);
    expect(own).toMatchObject({
      code: 'DUTY_CONFLICT',
      message: expect.stringContaining('(Nobody approves their own leave)') as string,
      zh: expect.stringContaining(
        '职责分离：erin 已执行 REQUEST，因此不能执行 APPROVE（Nobody approves their own leave）',
      ) as string,
    });
    const step = applyEvent(proc, s, { type: 'REFUSE', actor: { id: 'wang', roles: ['manager'] } }, 3);
    expect(step.state.done).toBe(true);
  });

  it('a text falls back to the definition’s first language', () => {
    expect(textIn({ en: 'Leave' }, 'zh', ['en'])).toBe('Leave');
    expect(textIn({ zh: '请假', en: 'Leave' }, 'zh', ['en'])).toBe('请假');
    expect(textIn({ zh: '请假' }, 'en')).toBe('请假');
    expect(textIn(undefined, 'en')).toBe('');
  });
});
