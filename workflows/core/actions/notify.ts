/** `notify: { to, message }`: a message to the holders of a role, or to the client. A `notify` effect. */
import { checkRole } from '../check-report.ts';
import type { NotifyAction, Text } from '../ir.ts';
import { textIn } from '../languages.ts';
import { joinPointer } from '../positions.ts';
import type { ActionKind } from './kind.ts';

/** The effect (a type alias, so it is plain `Json`): who is notified and the bilingual message. */
export type NotifyEffect = {
  kind: 'notify';
  to: string;
  message: { zh: string; en: string };
};

export const notify: ActionKind<NotifyAction> = {
  inCommitTransaction: true,
  normalize(value) {
    const raw = value as { to: string; message: Text };
    return { kind: 'notify', to: raw.to, message: raw.message };
  },
  check(cx, action, site) {
    checkRole(
      cx,
      action.to,
      joinPointer(site.pointer, 'to'),
      `notify action #${site.index + 1} of ${site.where}`,
      true,
    );
  },
  expressions: () => [],
  compile: (action): { type: '$effect'; params: NotifyEffect } => ({
    type: '$effect',
    // Each language's text, or the definition's own language where it is written in one only.
    params: {
      kind: 'notify',
      to: action.to,
      message: { zh: textIn(action.message, 'zh'), en: textIn(action.message, 'en') },
    },
  }),
};
