/**
 * The directory check for holders of the actor key, a public route (`docs/actor-assertions.md`):
 * a tool that signs an assertion for the user it acts as and cannot open the records store itself
 * (the embedded store is held by a running `npm start`) asks whether that user exists, is enabled
 * and holds the roles. No session: the signature with the actor key is the credential (whoever
 * holds that key can sign any actor anyway; this only keeps such tools to real directory users, as
 * `custodia send` is when it opens the store). No caller in this repository since `custodia send`
 * dropped its API fallback; kept for tools outside it (`test/unit/actors-check-route.test.ts`).
 */
import { checkActorAssertion, parseAssertion } from '../../../workflows/core/assertion.ts';
import { trustedActorKeys } from '../../actor-keys.ts';
import { directoryActor, NotADirectoryActor } from '../../directory-actor.ts';
import { ApiProblem, sendJson } from '../http.ts';
import { defineRoute, objectSchema } from '../route.ts';

const check = defineRoute({
  method: 'POST',
  path: '/api/actors/check',
  summary:
    'For holders of the actor key (custodia send): is the actor of this signed assertion a directory ' +
    'user who is enabled and holds its roles?',
  auth: 'public',
  body: objectSchema<{ assertion: string }>(
    { assertion: { type: 'string', minLength: 1, maxLength: 8192 } },
    ['assertion'],
  ),
  responses: { 200: { description: '{id, roles}: the actor as the directory knows it' } },
  problems: {
    401: 'BAD_ASSERTION (not signed with a trusted actor key, expired, malformed)',
    403: 'NOT_A_DIRECTORY_ACTOR (unknown or disabled user, or a role the user does not hold)',
  },
  async handle({ body, res }, app) {
    const parsed = parseAssertion(body.assertion);
    if (!parsed) throw new ApiProblem(401, 'BAD_ASSERTION', 'not a Custodia actor assertion');
    const { sub, roles, wf } = parsed.claims;
    const refused = checkActorAssertion(body.assertion, trustedActorKeys(), {
      actor: { id: sub, roles },
      workflowId: wf ?? '',
      now: Date.now(),
    });
    if (refused) throw new ApiProblem(401, 'BAD_ASSERTION', refused.message);
    try {
      sendJson(res, 200, await directoryActor(app.store, { id: sub, roles }));
    } catch (err) {
      if (err instanceof NotADirectoryActor) throw new ApiProblem(403, 'NOT_A_DIRECTORY_ACTOR', err.message);
      throw err;
    }
  },
});

export const actorRoutes = [check];
