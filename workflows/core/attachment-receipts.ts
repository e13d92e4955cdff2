/**
 * Receipts of attached files (`attachments.ts`): what the API signs with the actor key once it has
 * found a file in the records store for an instance, and what the update validator verifies
 * against the keys it trusts. Apart from the rest so the UI, which only reads references, does not
 * bundle the signature code.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import { fromBase64url, keyIdOf } from './assertion.ts';
import { ATTACHMENTS_KEY, bad, refProblem, type AttachmentRef } from './attachments.ts';
import type { Json } from './ir.ts';
import type { Rejection } from './rejections.ts';

/** The text a receipt signs: the instance and the facts the store holds about the file. */
export function receiptMessage(
  workflowId: string,
  ref: Pick<AttachmentRef, 'sha256' | 'type' | 'size' | 'name'>,
): string {
  return `custodia-attachment/1\n${JSON.stringify([workflowId, ref.sha256, ref.type, ref.size, ref.name])}`;
}

/**
 * Why an event's attachment receipts do not verify (`BAD_ATTACHMENT`), or undefined when every
 * one is signed by a trusted key for this instance and these facts. The update validator asks it
 * (validators do not run on replay).
 */
export function receiptRefusal(
  event: string,
  data: Record<string, Json> | undefined,
  trustedKeys: readonly string[],
  workflowId: string,
): Rejection | undefined {
  const list = data?.[ATTACHMENTS_KEY];
  if (!Array.isArray(list)) return undefined;
  for (const [i, item] of list.entries()) {
    const ref = item as unknown as AttachmentRef;
    if (!verifiesReceipt(ref, trustedKeys, workflowId))
      return bad(
        event,
        `#${i + 1} (${String(ref?.name)}): no valid receipt — attach files through the API, which checks the records store holds them for this instance`,
        `第 ${i + 1} 个（${String(ref?.name)}）：没有有效的存储回执——请通过 API 附加文件，API 会核实记录库中确有此实例的该文件`,
      );
  }
  return undefined;
}

function verifiesReceipt(ref: AttachmentRef, trustedKeys: readonly string[], workflowId: string): boolean {
  if (refProblem(ref)) return false;
  const [kid, sig = ''] = ref.receipt.split('.');
  const signature = fromBase64url(sig);
  if (!signature || signature.length !== 64) return false;
  const message = utf8ToBytes(receiptMessage(workflowId, ref));
  return trustedKeys
    .filter((k) => keyIdOf(k) === kid)
    .some((k) => {
      const key = fromBase64url(k);
      if (!key || key.length !== 32) return false;
      try {
        return ed25519.verify(signature, message, key, { zip215: false });
      } catch {
        return false;
      }
    });
}
