/**
 * Sign-in through an organisation's OpenID Connect identity provider (authorization code flow with
 * PKCE, `state` and `nonce`; ID token signature, issuer, audience, expiry and nonce checked by
 * `openid-client`). The provider only says *who* signs in: roles and client assignments stay in
 * Custodia's user directory, so the claim named by `userClaim` (default `preferred_username`) must
 * be the id of an enabled user there (`custodia user create … --oidc`). Then the same session as a
 * password sign-in begins (cookie + CSRF token).
 *
 * The pending sign-in (state, nonce, PKCE verifier, where to return) travels in a short-lived
 * HttpOnly cookie, HMAC-signed with `cookieSecret` (random per process unless configured, so API
 * processes behind one address need the same `CUSTODIA_OIDC_COOKIE_SECRET`). `SameSite=Lax`: the
 * provider's redirect back is a cross-site top-level navigation.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import * as oidc from 'openid-client';

import type { OidcSettings } from '../settings.ts';
export { oidcSettings, type OidcSettings } from '../settings.ts';

export const OIDC_COOKIE = 'custodia_oidc';
const PENDING_TTL_S = 600;

interface Pending {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  exp: number;
}

/** Why a sign-in through the provider failed (shown to the user by code). */
export class OidcFailure extends Error {
  override name = 'OidcFailure';
  constructor(
    readonly code:
      | 'OIDC_NO_PENDING_SIGNIN'
      | 'OIDC_STATE_MISMATCH'
      | 'OIDC_PROVIDER_ERROR'
      | 'OIDC_PROVIDER_UNREACHABLE'
      | 'OIDC_TOKEN_REJECTED'
      | 'OIDC_NO_USER_CLAIM',
    message: string,
  ) {
    super(message);
  }
}

/**
 * A relative path inside this site (no scheme, no `//host`), else `/`; characters outside printable
 * ASCII percent-encoded, so it is always a valid `Location` header.
 */
export function safeReturnTo(raw: string | undefined): string {
  if (!raw || !raw.startsWith('/') || raw.startsWith('//') || raw.startsWith('/\\')) return '/';
  if ([...raw].some((ch) => ch.charCodeAt(0) < 0x20 || ch.charCodeAt(0) === 0x7f) || raw.length > 500)
    return '/';
  let encoded: string;
  try {
    encoded = raw.replace(/[^\x21-\x7e]/gu, (ch) => encodeURIComponent(ch));
  } catch {
    return '/'; // a lone surrogate
  }
  return encoded.length > 2000 ? '/' : encoded;
}

export interface OidcFlow {
  readonly settings: OidcSettings;
  /** The provider's authorization URL and the pending-sign-in cookie value. */
  begin(returnTo: string | undefined): Promise<{ url: string; cookie: string }>;
  /** Check the callback against the pending sign-in; the Custodia user id and where to return. */
  complete(
    callbackQuery: URLSearchParams,
    cookie: string | undefined,
  ): Promise<{ userId: string; returnTo: string }>;
}

export function oidcFlow(settings: OidcSettings): OidcFlow {
  const key = settings.cookieSecret ? Buffer.from(settings.cookieSecret) : randomBytes(32);
  let configuration: Promise<oidc.Configuration> | undefined;
  const config = (): Promise<oidc.Configuration> => {
    configuration ??= oidc
      .discovery(
        new URL(settings.issuer),
        settings.clientId,
        settings.clientSecret,
        undefined,
        settings.allowHttp ? { execute: [oidc.allowInsecureRequests] } : undefined,
      )
      .catch((err: unknown) => {
        configuration = undefined; // try discovery again next time
        throw new OidcFailure(
          'OIDC_PROVIDER_UNREACHABLE',
          `the identity provider cannot be reached: ${err instanceof Error ? err.message : String(err)}`,
        );
      });
    return configuration;
  };
  const sign = (payload: string): string => createHmac('sha256', key).update(payload).digest('base64url');
  const seal = (p: Pending): string => {
    const body = Buffer.from(JSON.stringify(p)).toString('base64url');
    return `${body}.${sign(body)}`;
  };
  const open = (value: string | undefined): Pending | undefined => {
    if (!value) return undefined;
    const [body, mac] = value.split('.');
    if (!body || !mac) return undefined;
    const expected = Buffer.from(sign(body));
    const given = Buffer.from(mac);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return undefined;
    try {
      const p = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Pending;
      return p.exp > Date.now() / 1000 ? p : undefined;
    } catch {
      return undefined;
    }
  };
  return {
    settings,
    async begin(returnTo) {
      const c = await config();
      const pending: Pending = {
        state: oidc.randomState(),
        nonce: oidc.randomNonce(),
        verifier: oidc.randomPKCECodeVerifier(),
        returnTo: safeReturnTo(returnTo),
        exp: Math.floor(Date.now() / 1000) + PENDING_TTL_S,
      };
      const url = oidc.buildAuthorizationUrl(c, {
        redirect_uri: settings.redirectUri,
        scope: settings.scopes,
        response_type: 'code',
        state: pending.state,
        nonce: pending.nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier),
        code_challenge_method: 'S256',
      });
      return { url: url.href, cookie: seal(pending) };
    },
    async complete(query, cookie) {
      const pending = open(cookie);
      if (!pending)
        throw new OidcFailure(
          'OIDC_NO_PENDING_SIGNIN',
          'no sign-in is pending in this browser (expired after 10 minutes?); start again',
        );
      const error = query.get('error');
      if (error)
        throw new OidcFailure(
          'OIDC_PROVIDER_ERROR',
          `the identity provider refused: ${error}${query.get('error_description') ? ` (${query.get('error_description')})` : ''}`,
        );
      if (query.get('state') !== pending.state)
        throw new OidcFailure(
          'OIDC_STATE_MISMATCH',
          'the answer does not belong to this sign-in; start again',
        );
      const c = await config();
      // The URL the provider redirected to, built from our configured callback (not the Host header).
      const current = new URL(settings.redirectUri);
      current.search = query.toString();
      let claims: Record<string, unknown> | undefined;
      try {
        const tokens = await oidc.authorizationCodeGrant(c, current, {
          pkceCodeVerifier: pending.verifier,
          expectedState: pending.state,
          expectedNonce: pending.nonce,
          idTokenExpected: true,
        });
        const id = tokens.claims();
        claims = id;
        // Providers may keep profile claims out of the ID token when an access token is issued
        // (OIDC Core 5.4): then ask the UserInfo endpoint, for the same subject.
        if (id && settings.userClaim !== 'sub' && id[settings.userClaim] === undefined)
          claims = { ...(await oidc.fetchUserInfo(c, tokens.access_token, id.sub)), ...id };
      } catch (err) {
        throw new OidcFailure(
          'OIDC_TOKEN_REJECTED',
          `the sign-in could not be confirmed: ${err instanceof Error ? err.message : String(err)}`,
        );
      }
      const userId = claims?.[settings.userClaim];
      if (typeof userId !== 'string' || !userId)
        throw new OidcFailure(
          'OIDC_NO_USER_CLAIM',
          `the identity provider sent no "${settings.userClaim}" claim (CUSTODIA_OIDC_USER_CLAIM)`,
        );
      return { userId, returnTo: pending.returnTo };
    },
  };
}
