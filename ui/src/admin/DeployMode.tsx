/**
 * How deployments go on this server (`GET /api/definitions` → `deployment.singleAdmin`): with
 * CUSTODIA_SINGLE_ADMIN_DEPLOY one admin deploys at once (development), shown as a warning banner;
 * otherwise a deploy is a proposal a second admin approves.
 */
import { useEffect, useState } from 'react';
import { api } from '../api.ts';
import { useI18n } from '../i18n.tsx';

/** Whether one admin deploys at once (undefined until known). */
export function useSingleAdminDeploy(): boolean | undefined {
  const [single, setSingle] = useState<boolean | undefined>();
  useEffect(() => {
    const ac = new AbortController();
    api<{ deployment?: { singleAdmin?: boolean } }>('GET', '/api/definitions', undefined, {
      signal: ac.signal,
    })
      .then((r) => setSingle(r.deployment?.singleAdmin === true))
      .catch(() => undefined);
    return () => ac.abort();
  }, []);
  return single;
}

/** The warning shown while single-admin deploys are on. */
export function SingleAdminBanner(props: { single: boolean | undefined }) {
  const { pick } = useI18n();
  if (!props.single) return null;
  return (
    <div className="banner banner-warning" role="alert" data-testid="single-admin-banner">
      {pick({
        zh: '单管理员部署已开启（CUSTODIA_SINGLE_ADMIN_DEPLOY）：部署无需第二名管理员批准，仅用于开发环境。删除或修改职责分离规则、不变式的部署仍需批准。',
        en: 'Single-admin deploys are on (CUSTODIA_SINGLE_ADMIN_DEPLOY): a deploy needs no second administrator — for development only. A deploy that drops or changes a duty or an invariant still needs approval.',
      })}
    </div>
  );
}
